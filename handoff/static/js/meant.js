// An agent's "the customer meant: INTENT" on a customer's line: it joins the trainers' review
// list (POST /inbox/api/conversations/{id}/meant).
"use strict";

import { api, errorText } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { conv, toast } from "./page.js";

let intents = null;

async function known() {
  if (intents === null) {
    const r = await api("GET", "review/intents");
    intents = r.ok && r.data.writable ? r.data.intents : [];
  }
  return intents;
}

export function decorate(li, entry, conversationId) {
  const open = el("button", "link meant-open", t("meant.open"));
  open.type = "button";
  open.addEventListener("click", async () => {
    const names = await known();
    if (!names.length) { toast(t("meant.unavailable"), true); return; }
    const form = el("form", "meant");
    const select = el("select", "meant-intent");
    select.setAttribute("aria-label", t("meant.label"));
    for (const name of names) {
      const o = el("option", "", name);
      o.value = name;
      select.append(o);
    }
    const save = el("button", "primary", t("meant.save"));
    save.type = "submit";
    form.append(el("span", "", t("meant.label")), select, save);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const r = await api("POST", conv(conversationId) + "/meant",
        { entry: entry.id, intent: select.value });
      if (!r.ok) { toast(errorText(r), true); return; }
      form.replaceWith(el("span", "meant-done", t("meant.done", { intent: select.value })));
    });
    open.replaceWith(form);
    select.focus();
  });
  li.querySelector(".entry-head").append(open);
}
