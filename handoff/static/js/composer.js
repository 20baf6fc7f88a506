// The reply box: canned replies chosen by typing "/" (their {name}, {meter} and {ticket} filled
// from the customer's contact), and the "typing…" signal sent to the customer while the agent
// writes (the server sends at most one every few seconds, on channels that have one).
"use strict";

import { t } from "./i18n.js";

export const VARIABLES = ["name", "meter", "ticket"];
const TYPING_EVERY_MS = 4000;
const SLASH = /(^|\s)\/([^\s/]*)$/;

function fold(text) {
  return String(text).normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

// `text` with the contact's values in place of {name}, {meter}, {ticket}; unknown ones stay.
export function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    VARIABLES.includes(name) && values && values[name] ? values[name] : whole);
}

// Variables still in the text (the contact had no value for them).
export function unfilled(text) {
  const found = [];
  for (const match of text.matchAll(/\{(\w+)\}/g)) {
    if (VARIABLES.includes(match[1]) && !found.includes(match[1])) found.push(match[1]);
  }
  return found;
}

export class Composer {
  // box: the textarea; list: the popup <ul>; deps: {canned(), values(), language(),
  // typing() -> whether a signal went out}
  constructor(box, list, deps) {
    this.box = box;
    this.list = list;
    this.deps = deps;
    this.options = [];
    this.active = 0;
    this.lastTyping = 0;
    box.addEventListener("input", () => { this.update(); this.typed(); });
    box.addEventListener("keydown", (ev) => this.key(ev));
    box.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    box.addEventListener("click", () => this.update());
  }

  typed() {
    const now = Date.now();
    if (!this.box.value.trim() || now - this.lastTyping < TYPING_EVERY_MS) return;
    if (this.deps.typing()) this.lastTyping = now;
  }

  query() {
    const before = this.box.value.slice(0, this.box.selectionStart);
    const match = before.match(SLASH);
    return match ? { text: match[2], start: before.length - match[2].length - 1 } : null;
  }

  // Open "/" by the button: the same popup, for phones and mice.
  openBlank() {
    const at = this.box.selectionStart ?? this.box.value.length;
    const before = this.box.value.slice(0, at);
    const gap = before && !/\s$/.test(before) ? " " : "";
    this.box.setRangeText(gap + "/", at, at, "end");
    this.box.focus();
    this.update();
  }

  update() {
    const q = this.query();
    if (!q) { this.close(); return; }
    const wanted = fold(q.text);
    const lang = this.deps.language();
    this.options = [];
    for (const snippet of this.deps.canned()) {
      const langs = Object.keys(snippet.texts).sort((a, b) => (b === lang) - (a === lang));
      for (const l of langs) {
        const hay = fold(snippet.key + " " + snippet.title + " " + snippet.texts[l]);
        if (!wanted || hay.includes(wanted)) this.options.push({ snippet, lang: l });
      }
    }
    this.active = 0;
    this.render();
  }

  render() {
    const values = this.deps.values();
    this.list.replaceChildren(...this.options.map((o, i) => {
      const li = document.createElement("li");
      li.id = "slash-" + i;
      li.className = "slash-option" + (i === this.active ? " active" : "");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === this.active));
      const head = document.createElement("span");
      head.className = "slash-title";
      head.textContent = o.snippet.title + " · " + o.lang;
      const text = document.createElement("span");
      text.className = "slash-text";
      text.textContent = fill(o.snippet.texts[o.lang], values);
      li.append(head, text);
      li.addEventListener("mousedown", (ev) => { ev.preventDefault(); this.choose(i); });
      return li;
    }));
    if (!this.options.length) {
      const li = document.createElement("li");
      li.className = "slash-empty";
      li.textContent = t("composer.canned_none");
      this.list.append(li);
    }
    this.list.hidden = false;
    this.box.setAttribute("aria-expanded", "true");
    this.box.setAttribute("aria-activedescendant", this.options.length ? "slash-" + this.active : "");
  }

  close() {
    this.list.hidden = true;
    this.options = [];
    this.box.setAttribute("aria-expanded", "false");
    this.box.removeAttribute("aria-activedescendant");
  }

  get open() { return !this.list.hidden; }

  key(ev) {
    if (!this.open) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!this.options.length) return;
      const step = ev.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.options.length) % this.options.length;
      this.render();
    } else if ((ev.key === "Enter" || ev.key === "Tab") && !ev.ctrlKey && !ev.metaKey) {
      if (!this.options.length) return;
      ev.preventDefault();
      this.choose(this.active);
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      this.close();
    }
  }

  choose(i) {
    const q = this.query();
    const option = this.options[i];
    if (!q || !option) return;
    const text = fill(option.snippet.texts[option.lang], this.deps.values());
    this.box.setRangeText(text, q.start, this.box.selectionStart, "end");
    this.close();
    this.box.focus();
    this.box.dispatchEvent(new Event("change"));
  }
}
