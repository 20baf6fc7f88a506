// One conversation on screen: its lines (in the agent's words where Loket wrote them), delivery
// states, the bot's brief, the reply window and what the agent may do.
"use strict";

import { $, el } from "./dom.js";
import { api, errorText } from "./api.js";
import * as contact from "./contact.js";
import * as i18n from "./i18n.js";
import { conv, now, reasonLabel, state, toast } from "./page.js";
import * as meant from "./meant.js";

const { t } = i18n;
function speaker(entry) {
  const meta = entry.meta || {};
  switch (entry.role) {
    case "customer": return t("speaker.customer");
    case "bot": return t("speaker.bot");
    case "agent":
      if (meta.template) return t("speaker.template", { name: meta.agent || "" });
      return meta.agent ? t("speaker.agent_named", { name: meta.agent }) : t("speaker.agent");
    case "note": return t("speaker.note", { name: meta.agent || "" });
    default: return t("speaker.system");
  }
}

// A transition's line in the agent's language, from what the transcript keeps of it.
function systemText(entry) {
  const m = entry.meta || {};
  switch (m.event) {
    case "request": return t("system.request", { reason: reasonLabel(m.reason) });
    case "claim": return t(m.auto ? "system.auto_assigned" : "system.claim", { name: m.agent });
    case "transfer": return t("system.transfer", { from: m.agent, to: m.to });
    case "hand_back":
      return t("system.hand_back", { by: m.by === "the customer" ? t("system.the_customer") : m.by });
    case "close":
      return t("system.close", { name: m.agent, resolution: contact.resolutionText(m.resolution) });
    default: return entry.text;
  }
}

function failure(d) {
  if (d.code && i18n.has("delivery." + d.code)) return t("delivery." + d.code);
  return d.reason;
}

function deliveryView(entry, reopen) {
  const d = entry.delivery;
  const box = el("div", "delivery state-" + d.state);
  const shown = el("span", "delivery-state", t("delivery.state." + d.state));
  shown.dataset.state = d.state;
  box.append(shown);
  if (d.state === "failed") {
    const why = failure(d);
    if (why) box.append(el("span", "delivery-reason", why));
    const retry = el("button", "retry", t("delivery.retry"));
    retry.type = "button";
    retry.addEventListener("click", async () => {
      retry.disabled = true;
      const r = await api("POST", conv(state.current) + "/deliveries/" +
                          encodeURIComponent(entry.id) + "/retry");
      if (!r.ok) toast(errorText(r), true);
      await reopen();
    });
    box.append(retry);
  }
  return box;
}

// `reopen()` shows the conversation again (after a retry).
export function entryView(entry, conversationId, reopen) {
  const li = el("li", "entry role-" + entry.role);
  li.dataset.id = entry.id;
  const head = el("div", "entry-head");
  const at = el("time", "at", i18n.stamp(entry.ts, now()));
  at.dateTime = new Date(entry.ts).toISOString();
  head.append(el("span", "speaker", speaker(entry)), at);
  if (entry.role === "bot" && entry.intent) {
    const conf = entry.confidence === null ? "" : " " + Number(entry.confidence).toFixed(2);
    head.append(el("span", "intent", entry.intent + conf));
  }
  li.append(head, el("div", "text", entry.role === "system" ? systemText(entry) : entry.text));
  if (entry.role === "customer" && !entry.payload) meant.decorate(li, entry, conversationId);
  const attachment = (entry.meta || {}).attachment;
  if (entry.role === "customer" && attachment && attachment.ref) {
    const link = el("a", "attachment", t("conv.open_attachment", {
      kind: t("attachment." + (attachment.kind || "document")),
    }));
    link.href = "/inbox/api/media/" + encodeURIComponent(conversationId) + "/" +
                encodeURIComponent(entry.id);
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    li.append(link);
  }
  if (entry.buttons && entry.buttons.length) {
    li.append(el("div", "offered", t("conv.buttons", {
      titles: entry.buttons.map((b) => b.title).join(" · "),
    })));
  }
  if (entry.delivery && (entry.role === "agent" || entry.delivery.state === "failed")) {
    li.append(deliveryView(entry, reopen));
  }
  return li;
}

export function renderSummary(data) {
  const c = data.conversation;
  const s = data.summary;
  $("summary").hidden = false;
  $("sum-reason").textContent = c.reason ? reasonLabel(c.reason) +
    (c.detail ? " (" + c.detail + ")" : "") : "–";
  $("sum-language").textContent = c.language ? t("language." + c.language) : "–";
  // The brief's facts come from the API (handoff/summary.py) by stable keys.
  const facts = [];
  for (const fact of s ? s.facts : []) {
    const list = el("ul");
    const lines = fact.lines.length ? fact.lines : ["–"];
    list.replaceChildren(...lines.map((line) => el("li", "", line)));
    const dd = el("dd");
    dd.append(list);
    facts.push(el("dt", "", i18n.has("fact." + fact.key) ? t("fact." + fact.key) : fact.label), dd);
  }
  $("sum-facts").replaceChildren(...facts);
}

export function closedWindow(data) {
  const w = data.reply_window;
  return Boolean(w && w.expired);
}

export function renderWindow(data) {
  const w = data.reply_window;
  const box = $("window-warning");
  const row = $("template-row");
  if (!w) { box.hidden = true; return; }
  const left = w.closes_at - now();
  if (w.expired) {
    const templates = data.templates || [];
    $("window-text").textContent = t("window.closed", {
      at: i18n.zoned(w.closes_at, now()), last: i18n.zoned(w.last_customer_at, now()),
    }) + " " + t(templates.length ? "window.use_template" : "window.no_templates");
    $("template").replaceChildren(...templates.map((tpl) => {
      const option = el("option", "", tpl.name + " (" + tpl.language + ")" +
        (tpl.variables.length ? " · " + tpl.variables.map((v) => "{" + v + "}").join(" ") : ""));
      option.value = tpl.key;
      return option;
    }));
    row.hidden = !(templates.length && data.can.reply);
    box.className = "warning";
    box.hidden = false;
  } else if (left < 2 * 3600_000) {
    $("window-text").textContent = t("window.closing", { at: i18n.zoned(w.closes_at, now()) });
    row.hidden = true;
    box.className = "warning soft";
    box.hidden = false;
  } else {
    box.hidden = true;
  }
}

export function renderActions(data) {
  const can = data.can;
  const c = data.conversation;
  $("claim").hidden = !can.claim;
  $("transfer-group").hidden = !can.transfer;
  $("hand-back").hidden = !can.hand_back;
  $("close-group").hidden = !can.close;
  $("reply-form").hidden = !can.reply;
  $("note-form").hidden = !can.note;
  const closed = closedWindow(data);
  $("reply-text").disabled = closed;
  $("send").disabled = closed;
  $("canned-open").disabled = closed;
  $("reply-text").placeholder = t(closed ? "composer.window_closed" : "composer.reply");
  const others = state.agents.filter((a) => a.name !== c.assignee && a.role !== "trainer");
  $("transfer-to").replaceChildren(...others.map((a) => {
    const option = el("option", "", a.name + (a.online ? " " + t("conv.online") : ""));
    option.value = a.name;
    return option;
  }));
  $("transfer").disabled = others.length === 0;
}

export function stateLine(c) {
  if (c.status === "assigned") {
    return c.assignee === state.me.name ? t("state.assigned_you")
      : t("state.assigned", { name: c.assignee });
  }
  if (c.status === "waiting" && c.created_at) {
    return t("state.waiting", { wait: i18n.duration(now() - c.created_at) });
  }
  if (c.status === "closed") {
    return t("state.closed", { resolution: contact.resolutionText(c.resolution) });
  }
  return t("state." + c.status);
}
