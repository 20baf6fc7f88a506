// The customer behind a conversation: their name and numbers, how many handoffs they had this
// week, every handoff of theirs and their other conversations (GET conversations/{id}/contact).
"use strict";

import { $, el } from "./dom.js";
import { has, ordinal, stamp, t } from "./i18n.js";


// The customer as the page names them: their name, else channel and id.
export function who(item) {
  return item.name || item.channel + " · " + item.chat_id;
}

// The bot's one-line brief in the agent's language: "buy_token (0.91) · meter_number=… · 1 …".
export function briefLine(b) {
  if (!b) return "";
  const wanted = b.wanted || [];
  const parts = [wanted.length
    ? wanted.map((w) => w.intent + " (" + Number(w.confidence).toFixed(2) + ")").join(", ")
    : t("brief.no_request")];
  const collected = Object.entries(b.collected || {});
  if (collected.length) parts.push(collected.map(([k, v]) => k + "=" + v).join(", "));
  if (b.failed_turns) parts.push(t("brief.failed", { n: b.failed_turns }));
  return parts.join(" · ");
}

// "solved: token dikirim ulang" with its resolution code in the agent's words.
export function resolutionText(resolution) {
  const [code, ...rest] = String(resolution || "").split(": ");
  const shown = has("resolution." + code) ? t("resolution." + code) : code;
  return [shown, ...rest].join(": ");
}

function outcome(h, reasonLabel) {
  const parts = [reasonLabel(h.reason)];
  if (h.assignee) parts.push(t("contact.with", { name: h.assignee }));
  if (h.outcome === "closed") {
    parts.push(t("contact.closed", { resolution: resolutionText(h.resolution) }));
  } else if (h.outcome === "hand_back") parts.push(t("contact.handed_back"));
  else parts.push(t("status." + (h.status || "waiting")));
  return parts.join(" · ");
}

// data: the API's answer; current: the conversation on screen; open(id): opens another.
export function render(data, current, reasonLabel, open) {
  const c = data.contact;
  $("contact-name").textContent = c.name || c.account || t("contact.unknown");
  $("contact-id").textContent = t("channel." + c.channel) + " · " + c.chat_id +
    (c.account && c.name ? " · " + t("contact.account", { name: c.account }) : "");
  const recent = data.recent;
  $("contact-recent").hidden = recent.handoffs < 2;
  $("contact-recent").textContent = t("contact.recent", {
    nth: ordinal(recent.handoffs), days: recent.days,
  });
  const refs = [];
  for (const kind of ["meter", "customer", "transaction", "ticket"]) {
    const values = (c.refs || {})[kind];
    if (!values || !values.length) continue;
    refs.push(el("dt", "", t("contact.ref." + kind)));
    refs.push(el("dd", "ref-" + kind, values.map((v) => v.toUpperCase()).join(", ")));
  }
  $("contact-refs").replaceChildren(...refs);
  const history = data.handoffs.map((h) => {
    const li = el("li", "handoff" + (h.conversation === current ? "" : " elsewhere"));
    li.append(el("time", "", stamp(h.at, data.now)));
    if (h.conversation !== current) li.append(el("span", "where", h.conversation));
    li.append(el("span", "what", outcome(h, reasonLabel)));
    li.append(el("span", "one-line", briefLine(h.brief)));
    return li;
  });
  if (!history.length) history.push(el("li", "empty", t("contact.no_handoffs")));
  $("contact-handoffs").replaceChildren(...history);
  $("contact-others-title").hidden = !data.conversations.length;
  $("contact-others").replaceChildren(...data.conversations.map((o) => {
    const li = el("li");
    const button = el("button", "link",
      who(o) + " · " + t("channel." + o.channel) + " · " + t("status." + o.status));
    button.type = "button";
    button.dataset.id = o.id;
    button.addEventListener("click", () => open(o.id));
    li.append(button, el("span", "muted", " " + stamp(o.last_activity, data.now)));
    return li;
  }));
}
