// Keyboard shortcuts. Single keys act when the agent is not typing in a field; Ctrl+Enter
// (⌘+Enter) sends from the reply box and adds the note from the note box; Escape leaves a field.
"use strict";

import { t } from "./i18n.js";

// key -> [dictionary key of what it does, action name]
export const KEYS = [
  ["n", "shortcuts.next_waiting", "nextWaiting"],
  ["j", "shortcuts.next", "next"],
  ["k", "shortcuts.previous", "previous"],
  ["c", "shortcuts.claim", "claim"],
  ["r", "shortcuts.reply", "reply"],
  ["p", "shortcuts.note", "note"],
  ["/", "shortcuts.search", "search"],
  ["?", "shortcuts.help", "help"],
];
const TYPED = ["Ctrl+Enter", "shortcuts.send"];
const ESCAPE = ["Esc", "shortcuts.escape"];

function typing(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

export function install(actions) {
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && typing(ev.target)) {
      ev.target.blur();
      return;
    }
    if (ev.altKey || ev.ctrlKey || ev.metaKey || typing(ev.target)) return;
    if (document.querySelector("dialog[open]")) return;
    const found = KEYS.find(([key]) => key === ev.key);
    if (!found) return;
    ev.preventDefault();
    actions[found[2]]();
  });
}

// The list shown in the help dialog.
export function describe(list) {
  const rows = [];
  for (const [key, label] of [...KEYS, TYPED, ESCAPE]) {
    const dt = document.createElement("dt");
    const kbd = document.createElement("kbd");
    kbd.textContent = key;
    dt.append(kbd);
    const dd = document.createElement("dd");
    dd.textContent = t(label);
    rows.push(dt, dd);
  }
  list.replaceChildren(...rows);
}
