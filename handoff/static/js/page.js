// What the page's modules share: its state, the helpers that make elements and toasts, the
// clock the server keeps.
"use strict";

import { $ } from "./dom.js";
import * as contact from "./contact.js";
import * as i18n from "./i18n.js";

export const state = {
  me: null,
  team: { timezone: "Asia/Jakarta", zone: "WIB", sla_minutes: 0, auto_assign: false },
  current: null, // conversation id on screen
  view: null, // the conversation's last answer from the API
  contact: null, // its contact's answer
  clockOffset: 0, // server ms - browser ms
  unread: new Map(), // conversation id -> unread customer messages
  cards: new Map(), // conversation id -> its card, for names in alerts
  canned: [],
  agents: [],
  reasons: {}, // handoff reason code -> {id, en} labels, from GET /inbox/api/reasons
  pendingAlerts: [],
};


export function toast(text, isError) {
  const box = $("toast");
  box.textContent = text;
  box.className = "toast" + (isError ? " error" : "");
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

export function reasonLabel(code) {
  const labels = state.reasons[code];
  return labels ? labels[i18n.current()] || labels.en : code;
}

export function conv(id) { return "conversations/" + encodeURIComponent(id); }
export function now() { return Date.now() + state.clockOffset; }
export function nameOf(id) { const c = state.cards.get(id); return c ? contact.who(c) : id; }
