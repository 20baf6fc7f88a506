// Search and filters: the box in the top bar, the filters under it, the results in place of the
// lists (GET /inbox/api/search). Dates are days on the service's clock.
"use strict";

import { $ } from "./dom.js";
import { api, errorText } from "./api.js";
import { t } from "./i18n.js";

const FIELDS = { meter: "f-meter", ticket: "f-ticket", transaction: "f-transaction",
  agent: "f-agent", status: "f-status", reason: "f-reason", channel: "f-channel",
  from: "f-from", to: "f-to" };

function option(value, label) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = label;
  return node;
}

// Fill the filters' choices: agents, statuses, reasons (labels from the API), channels.
export function fillFilters(agents, reasonLabels, reasonLabel) {
  $("f-agent").replaceChildren(option("", t("search.any")),
    ...agents.filter((a) => a.role !== "trainer").map((a) => option(a.name, a.name)));
  $("f-status").replaceChildren(option("", t("search.any")),
    ...["waiting", "assigned", "closed", "bot"].map((s) => option(s, t("status." + s))));
  $("f-reason").replaceChildren(option("", t("search.any")),
    ...Object.keys(reasonLabels).map((code) => option(code, reasonLabel(code))));
  $("f-channel").replaceChildren(option("", t("search.any")),
    ...["whatsapp", "telegram", "webchat"].map((c) => option(c, t("channel." + c))));
}

function params() {
  const found = new URLSearchParams();
  const q = $("search-q").value.trim();
  if (q) found.set("q", q);
  for (const [name, id] of Object.entries(FIELDS)) {
    const value = $(id).value.trim();
    if (value) found.set(name, value);
  }
  return found;
}

export function active() { return !$("search-panel").hidden; }

export function clear() {
  $("search-q").value = "";
  for (const id of Object.values(FIELDS)) $(id).value = "";
  $("search-panel").hidden = true;
  $("queue-section").hidden = false;
  $("mine-section").hidden = false;
}

// Run the search; `card(item)` makes a result's list item.
export async function run(card) {
  const query = params();
  $("search-panel").hidden = false;
  $("queue-section").hidden = true;
  $("mine-section").hidden = true;
  $("search-summary").textContent = t("search.searching");
  const r = await api("GET", "search?" + query.toString());
  if (!r.ok) {
    $("search-summary").textContent = errorText(r);
    $("results").replaceChildren();
    return;
  }
  const items = r.data.conversations;
  $("search-summary").textContent = items.length
    ? t(r.data.more ? "search.found_more" : "search.found", { n: items.length })
    : t("search.nothing");
  $("results").replaceChildren(...items.map((item) => card(item, r.data.now)));
}
