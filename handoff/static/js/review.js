// The trainers' review: what the bot did not understand, grouped by similar text, labelled
// here (an intent with marked entities, out of scope, or dismissed). Texts from customers go
// on the page with textContent only.
"use strict";

import { api, errorText, session } from "./api.js";
import { $, el } from "./dom.js";
import * as i18n from "./i18n.js";
import { toast } from "./page.js";

const { t } = i18n;
const view = { intents: [], entities: [], writable: false, reasons: {}, whys: [] };

// A reason's words: the handoff reasons' labels come from the API, the bot's guesses and an
// agent's label from the dictionary.
function whyLabel(code) {
  const labels = view.reasons[code];
  if (labels) return labels[i18n.current()] || labels.id || code;
  return t("review.why." + code);
}

function option(value, text) {
  const o = el("option", "", text);
  o.value = value;
  return o;
}

function fillFilters() {
  $("r-channel").replaceChildren(option("", t("search.any")),
    ...["webchat", "telegram", "whatsapp"].map((c) => option(c, t("channel." + c))));
  $("r-reason").replaceChildren(option("", t("search.any")),
    ...view.whys.map((w) => option(w, whyLabel(w))));
  $("r-status").replaceChildren(...["open", "labelled", "dismissed", "all"].map(
    (s) => option(s, t("review.status." + s))));
}

function query() {
  const params = new URLSearchParams();
  for (const [name, id] of [["from", "r-from"], ["to", "r-to"], ["channel", "r-channel"],
                            ["reason", "r-reason"], ["status", "r-status"]]) {
    if ($(id).value) params.set(name, $(id).value);
  }
  return params.toString();
}

function percent(x) { return Math.round(x * 100) + "%"; }

// Wrap the selected words of the example in [words](entity).
function markEntity(input, entity) {
  const start = input.selectionStart;
  const end = input.selectionEnd;
  const words = input.value.slice(start, end).trim();
  if (!entity || start === null || !words) { toast(t("review.select_words"), true); return; }
  const from = start + input.value.slice(start, end).indexOf(words);
  input.value = input.value.slice(0, from) + "[" + words + "](" + entity + ")" +
    input.value.slice(from + words.length);
  input.focus();
}

async function decide(group, li, body, path) {
  const r = await api("POST", path, { items: group.ids, ...body });
  const result = li.querySelector(".review-result");
  if (!r.ok) {
    result.textContent = errorText(r);
    result.className = "review-result error-text";
    return;
  }
  li.classList.add("decided");
  for (const button of li.querySelectorAll("button, select, input")) button.disabled = true;
  result.className = "review-result done";
  result.textContent = r.data.placed
    ? t("review.written", { intent: r.data.placed.intent, where: r.data.placed.path + ":" + r.data.placed.line })
    : t("review.dismissed");
  toast(result.textContent);
}

function guessesText(guesses) {
  if (!guesses.length) return "–";
  return guesses.map((g) => g.intent + " " + percent(g.confidence)).join(" · ");
}

function counts(map, label) {
  return Object.entries(map).map(([k, n]) => label(k) + (n > 1 ? " ×" + n : "")).join(", ");
}

function groupView(group) {
  const li = el("li", "review-group");
  li.dataset.key = group.key;
  const head = el("div", "review-head");
  head.append(el("q", "review-text", group.text), el("span", "count", "×" + group.count));
  const facts = el("dl", "review-facts");
  const fact = (name, value) => facts.append(el("dt", "", t(name)), el("dd", "", value));
  fact("review.guesses", guessesText(group.guesses));
  fact("review.reasons", group.reasons.map(whyLabel).join(", "));
  fact("review.languages", counts(group.languages, (l) => t("language." + l)));
  fact("review.channels", counts(group.channels, (c) => t("channel." + c)));
  fact("review.last_seen", i18n.zoned(group.last_seen));
  if (group.suggested.length) {
    fact("review.suggested", group.suggested.map((s) =>
      t("review.suggested_by", { intent: s.intent, names: s.by.join(", ") })).join("; "));
  }
  const seen = el("ul", "review-items");
  for (const item of group.items) {
    const a = el("a", "", i18n.stamp(item.ts) + " · " + t("channel." + item.channel) + " · " + item.text);
    a.href = item.link;
    const row = el("li", "status-" + item.status);
    row.append(a);
    if (item.written_to) row.append(el("span", "muted", " → " + item.intent + " (" + item.written_to + ")"));
    seen.append(row);
  }
  li.append(head, facts, seen);
  const form = el("form", "review-label");
  const example = el("input", "review-example");
  example.value = group.text;
  example.maxLength = 300;
  example.setAttribute("aria-label", t("review.example"));
  const intent = el("select", "review-intent");
  intent.setAttribute("aria-label", t("review.intent"));
  intent.append(option("", t("review.pick_intent")), ...view.intents.map((n) => option(n, n)));
  // The agents' word, else the bot's best guess — none when that was "out of scope", which
  // has its own button.
  const best = group.guesses[0];
  const preferred = (group.suggested[0] || {}).intent ||
    (best && best.intent !== "out_of_scope" ? best.intent : "");
  if (view.intents.includes(preferred)) intent.value = preferred;
  const entity = el("select", "review-entity");
  entity.setAttribute("aria-label", t("review.entity"));
  entity.append(option("", t("review.pick_entity")), ...view.entities.map((n) => option(n, n)));
  const mark = el("button", "link review-mark", t("review.mark"));
  mark.type = "button";
  // Keep the words selected in the example while the entity is picked.
  mark.addEventListener("mousedown", (e) => e.preventDefault());
  mark.addEventListener("click", () => markEntity(example, entity.value));
  const save = el("button", "primary review-save", t("review.save"));
  save.type = "submit";
  const outOfScope = el("button", "review-oos", t("review.out_of_scope"));
  outOfScope.type = "button";
  const dismiss = el("button", "review-dismiss", t("review.dismiss"));
  dismiss.type = "button";
  form.append(example, intent, entity, mark, save, outOfScope, dismiss);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!intent.value) { toast(t("review.pick_intent"), true); return; }
    decide(group, li, { intent: intent.value, example: example.value }, "review/label");
  });
  outOfScope.addEventListener("click", () =>
    decide(group, li, { intent: "out_of_scope", example: example.value }, "review/label"));
  dismiss.addEventListener("click", () => decide(group, li, {}, "review/dismiss"));
  const open = group.statuses.open === group.count;
  for (const control of [example, intent, entity, mark, save, outOfScope]) {
    control.disabled = !view.writable || !open;
  }
  dismiss.disabled = !open;
  li.append(form, el("p", "review-result"));
  return li;
}

async function load() {
  $("review-summary").textContent = t("review.loading");
  const r = await api("GET", "review" + (query() ? "?" + query() : ""));
  if (!r.ok) { $("review-summary").textContent = errorText(r); return; }
  view.whys = r.data.reasons;
  $("review-groups").replaceChildren(...r.data.groups.map(groupView));
  $("review-summary").textContent = t("review.summary", {
    groups: r.data.total_groups, items: r.data.total_items,
  });
}

async function start() {
  const me = await api("GET", "me");
  if (!me.ok) return;
  if (!["trainer", "admin"].includes(me.data.role)) { location.href = "/inbox"; return; }
  session.csrf = me.data.csrf || "";
  i18n.setZone(me.data.team.timezone, me.data.team.zone);
  await i18n.load(me.data.preferences.language);
  i18n.translate();
  $("me").textContent = t("app.me", { name: me.data.name, role: t("role." + me.data.role) });
  const [reasons, intents, first] = await Promise.all([
    api("GET", "reasons"), api("GET", "review/intents"), api("GET", "review"),
  ]);
  if (reasons.ok) view.reasons = reasons.data.reasons;
  if (intents.ok) Object.assign(view, intents.data);
  $("review-readonly").hidden = view.writable;
  view.whys = first.ok ? first.data.reasons : [];
  fillFilters();
  $("review-filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  await load();
  document.body.dataset.ready = "yes";
}

document.addEventListener("DOMContentLoaded", start);
