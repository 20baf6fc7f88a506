// The lists' cards: who, why, how long, the SLA clock, the bot's brief or the line that matched.
"use strict";

import { $, el } from "./dom.js";
import * as contact from "./contact.js";
import * as i18n from "./i18n.js";
import { now, reasonLabel, state } from "./page.js";

const { t } = i18n;
export function slaView(node) {
  const since = Number(node.dataset.slaSince);
  const limit = state.team.sla_minutes * 60_000;
  const left = since + limit - now();
  node.classList.toggle("late", left < 0);
  node.classList.toggle("soon", left >= 0 && left < limit / 4);
  node.textContent = left >= 0
    ? t("sla.left", { time: i18n.countdown(left) })
    : t("sla.late", { time: i18n.duration(-left) });
}

// `open(id)` opens a conversation when the card is pressed.
export function card(item, listName, open) {
  const li = el("li", "card" + (item.id === state.current ? " active" : ""));
  li.dataset.id = item.id;
  li.dataset.list = listName;
  const button = el("button", "card-button");
  button.type = "button";
  const head = el("div", "card-head");
  head.append(el("span", "who", contact.who(item)));
  if (item.unread > 0 && item.id !== state.current) head.append(el("span", "badge", item.unread));
  const meta = el("div", "card-meta");
  meta.append(el("span", "channel", t("channel." + item.channel)));
  if (item.reason) meta.append(el("span", "reason", reasonLabel(item.reason)));
  if (listName === "results") meta.append(el("span", "status", t("status." + item.status)));
  else meta.append(el("span", "lang", item.language));
  if (item.created_at && item.status !== "closed" && item.status !== "bot") {
    const wait = el("span", "wait", i18n.duration(now() - item.created_at));
    wait.dataset.since = item.created_at;
    meta.append(wait);
  }
  button.append(head, meta);
  if (item.status === "waiting" && state.team.sla_minutes > 0) {
    const sla = el("div", "sla");
    sla.dataset.slaSince = item.created_at;
    slaView(sla);
    button.append(sla);
  }
  if (item.snippet) {
    button.append(el("div", "snippet", item.snippet.text));
  } else if (item.brief) {
    button.append(el("div", "one-line", contact.briefLine(item.brief)));
  }
  button.addEventListener("click", () => open(item.id));
  li.append(button);
  return li;
}

export function fillList(listId, items, open) {
  $(listId).replaceChildren(...items.map((item) => card(item, listId, open)));
  $(listId + "-empty").hidden = items.length > 0;
  $(listId + "-count").textContent = items.length;
  for (const item of items) {
    state.unread.set(item.id, item.id === state.current ? 0 : item.unread);
    state.cards.set(item.id, item);
  }
}
