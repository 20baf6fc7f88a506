// Loket inbox: the agents' page. Plain JS modules, no build step. Every string that comes from a
// customer (or anyone) is put on the page with textContent, never innerHTML; the page's own
// words come from its dictionaries (i18n.js), labels of handoff reasons from the API.
"use strict";

import { $ } from "./dom.js";
import * as alerts from "./alerts.js";
import { api, errorText, session } from "./api.js";
import { Composer, unfilled } from "./composer.js";
import * as contact from "./contact.js";
import {
  closedWindow, entryView, renderActions, renderSummary, renderWindow, stateLine,
} from "./conversation.js";
import * as i18n from "./i18n.js";
import { card, fillList, slaView } from "./lists.js";
import { conv, nameOf, now, reasonLabel, state, toast } from "./page.js";
import * as search from "./search.js";
import * as shortcuts from "./shortcuts.js";

const { t } = i18n;
// --- lists -----------------------------------------------------------------------------------

function showUnread() {
  let total = 0;
  for (const [id, n] of state.unread) if (id !== state.current) total += n;
  alerts.count(total);
}

async function refreshLists(background) {
  const [queue, mine] = await Promise.all([
    api("GET", "queue", undefined, background), api("GET", "mine", undefined, background),
  ]);
  state.unread.clear();
  if (queue.ok) {
    state.clockOffset = queue.data.now - Date.now();
    fillList("queue", queue.data.conversations, openConversation);
  }
  if (mine.ok) fillList("mine", mine.data.conversations, openConversation);
  showUnread();
  flushAlerts();
}

// --- one conversation ------------------------------------------------------------------------

function renderConversation(data, keepScroll) {
  const c = data.conversation;
  state.view = data;
  $("placeholder").hidden = true;
  $("conversation").hidden = false;
  document.body.classList.replace("view-list", "view-conversation");
  $("conv-title").textContent = contact.who(c) + " · " + t("channel." + c.channel);
  $("conv-state").textContent = stateLine(c);
  const list = $("transcript");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
  const reopen = () => openConversation(c.id, { keepScroll: true });
  list.replaceChildren(...data.entries.map((e) => entryView(e, c.id, reopen)));
  if (!keepScroll || atBottom) list.scrollTop = list.scrollHeight;
  renderSummary(data);
  renderWindow(data);
  renderActions(data);
  for (const li of document.querySelectorAll(".card")) {
    li.classList.toggle("active", li.dataset.id === c.id);
  }
}

async function loadContact(id) {
  const r = await api("GET", conv(id) + "/contact");
  if (!r.ok || state.current !== id) return;
  state.contact = r.data;
  contact.render(r.data, id, reasonLabel, (other) => openConversation(other));
}

async function openConversation(id, opts) {
  const keepScroll = opts && opts.keepScroll;
  const fresh = id !== state.current;
  if (fresh) {
    state.current = id;
    state.contact = null;
    $("reply-text").value = "";
    $("note-text").value = "";
  }
  const r = await api("GET", conv(id), undefined, opts && opts.background);
  if (!r.ok) {
    toast(errorText(r), true);
    return;
  }
  if (state.current !== id) return; // the agent picked another one meanwhile
  state.clockOffset = r.data.now - Date.now();
  renderConversation(r.data, keepScroll);
  if (fresh || !keepScroll) loadContact(id);
  state.unread.set(id, 0);
  for (const badge of document.querySelectorAll('.card[data-id="' + CSS.escape(id) + '"] .badge')) {
    badge.remove();
  }
  showUnread();
  alerts.view(id);
}

function showList() {
  document.body.classList.replace("view-conversation", "view-list");
  document.body.classList.remove("show-info");
}

// --- actions ---------------------------------------------------------------------------------

async function act(path, body, done) {
  const id = state.current;
  const r = await api("POST", conv(id) + "/" + path, body);
  if (!r.ok) {
    toast(errorText(r), true);
  } else if (done) {
    toast(done);
  }
  await Promise.all([openConversation(id, { keepScroll: true }), refreshLists()]);
  return r.ok;
}

async function sendReply() {
  const text = $("reply-text").value;
  if (!text.trim() || $("send").disabled) return;
  const missing = unfilled(text);
  if (missing.length) {
    toast(t("composer.fill", { names: missing.map((v) => "{" + v + "}").join(", ") }), true);
    return;
  }
  $("send").disabled = true;
  try {
    if (await act("reply", { text })) $("reply-text").value = "";
  } finally {
    $("send").disabled = closedWindow(state.view || {});
  }
}

async function addNote() {
  const text = $("note-text").value;
  if (!text.trim()) return;
  if (await act("notes", { text })) $("note-text").value = "";
}

function wireActions() {
  $("claim").addEventListener("click", () => act("claim", undefined, t("done.claimed")));
  $("hand-back").addEventListener("click", () => act("hand-back", undefined, t("done.handed_back")));
  $("transfer").addEventListener("click", () => {
    const to = $("transfer-to").value;
    if (to) act("transfer", { to }, t("done.transferred", { name: to }));
  });
  $("close").addEventListener("click", async () => {
    const ok = await act("close", {
      resolution: $("close-resolution").value, text: $("close-text").value,
    }, t("done.closed"));
    if (ok) $("close-text").value = "";
  });
  $("send-template").addEventListener("click", async () => {
    const template = $("template").value;
    if (template) await act("template", { template }, t("done.template"));
  });
  $("reply-form").addEventListener("submit", (ev) => { ev.preventDefault(); sendReply(); });
  $("reply-text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); sendReply(); }
  });
  $("note-form").addEventListener("submit", (ev) => { ev.preventDefault(); addNote(); });
  $("note-text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); addNote(); }
  });
  const composer = new Composer($("reply-text"), $("slash"), {
    canned: () => state.canned,
    values: () => (state.contact ? state.contact.contact.variables : {}),
    language: () => (state.view ? state.view.conversation.language : "id"),
    typing: () => {
      if (!state.current || !state.view || !state.view.can.reply) return false;
      api("POST", conv(state.current) + "/typing");
      return true;
    },
  });
  $("canned-open").addEventListener("click", () => composer.openBlank());
  $("back").addEventListener("click", showList);
  $("info").addEventListener("click", () => document.body.classList.toggle("show-info"));
}

async function loadCanned() {
  const r = await api("GET", "canned");
  if (r.ok) state.canned = r.data.canned;
}

async function loadAgents(background) {
  const r = await api("GET", "agents", undefined, background);
  if (r.ok) state.agents = r.data.agents;
}

// --- search ----------------------------------------------------------------------------------

function wireSearch() {
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    search.run((item) => card(item, "results", openConversation));
    showList();
  });
  const results = (item) => card(item, "results", openConversation);
  $("search-apply").addEventListener("click", () => search.run(results));
  $("search-close").addEventListener("click", search.clear);
  $("search-q").addEventListener("search", () => { if (!$("search-q").value) search.clear(); });
}

// --- alerts and live updates -----------------------------------------------------------------

function alertFor(event, id) {
  const me = state.me;
  if (!me || me.role === "trainer") return;
  const d = event.data || {};
  let kind = null;
  if (event.type === "request") kind = "waiting";
  else if (event.type === "message" && d.assignee === me.name) kind = "message";
  else if (event.type === "claim" && d.auto && d.agent === me.name) kind = "assigned";
  else if (event.type === "transfer" && d.to === me.name && d.agent !== me.name) kind = "assigned";
  if (kind) state.pendingAlerts.push({ kind, conversation: event.conversation, id });
}

function flushAlerts() {
  const due = state.pendingAlerts.splice(0);
  for (const a of due) alerts.alert(a.kind, a.conversation, nameOf(a.conversation), a.id);
}

let listsTimer = null;

function onEvent(ev) {
  let event;
  try { event = JSON.parse(ev.data); } catch (e) { return; }
  alertFor(event, ev.lastEventId);
  if (event.conversation && event.conversation === state.current) {
    openConversation(state.current, { keepScroll: true, background: true });
  }
  if (event.type === "claim" || event.type === "transfer") loadAgents(true);
  clearTimeout(listsTimer);
  listsTimer = setTimeout(() => refreshLists(true), 150);
}

function connectLive() {
  const live = $("live");
  live.textContent = t("live.connecting");
  const source = new EventSource("/inbox/api/events");
  source.onopen = () => { live.textContent = t("live.on"); live.className = "live on"; };
  source.onmessage = onEvent;
  // The session ended (logout elsewhere, password changed, account removed).
  source.addEventListener("signed-out", () => {
    source.close();
    location.href = "/inbox/login";
  });
  source.onerror = () => {
    live.textContent = t("live.off");
    live.className = "live off";
    // EventSource retries by itself (and resumes from the last event id it saw); the lists
    // are fetched again once it is back, in case the session ended meanwhile.
    if (source.readyState === EventSource.CLOSED) setTimeout(connectLive, 3000);
  };
  source.addEventListener("open", () => refreshLists(true));
}

// --- settings --------------------------------------------------------------------------------

function showAlertSettings() {
  const p = alerts.prefs();
  $("notify-desktop").checked = p.desktop;
  $("notify-sound").checked = p.sound;
  $("notify-enable").hidden = p.permission !== "default";
  $("notify-state").textContent = t("settings.permission." + p.permission);
}

async function setLanguage(lang) {
  const r = await api("PUT", "me/preferences", { language: lang });
  if (!r.ok) { toast(errorText(r), true); return; }
  state.me.preferences = r.data.preferences;
  await applyLanguage(lang);
}

async function applyLanguage(lang) {
  await i18n.load(lang);
  i18n.translate();
  for (const radio of document.querySelectorAll('input[name="language"]')) {
    radio.checked = radio.value === lang;
  }
  $("me").textContent = t("app.me", { name: state.me.name, role: t("role." + state.me.role) });
  shortcuts.describe($("shortcut-list"));
  search.fillFilters(state.agents, state.reasons, reasonLabel);
  showAlertSettings();
  $("live").textContent = t($("live").classList.contains("on") ? "live.on" : "live.off");
  await refreshLists();
  if (state.current) {
    await openConversation(state.current, { keepScroll: true });
    if (state.contact) contact.render(state.contact, state.current, reasonLabel, openConversation);
  }
}

function wireSettings() {
  for (const radio of document.querySelectorAll('input[name="language"]')) {
    radio.addEventListener("change", () => { if (radio.checked) setLanguage(radio.value); });
  }
  $("notify-enable").addEventListener("click", async () => {
    await alerts.askPermission();
    showAlertSettings();
  });
  $("notify-desktop").addEventListener("change", () => alerts.setPref("desktop", $("notify-desktop").checked));
  $("notify-sound").addEventListener("change", () => alerts.setPref("sound", $("notify-sound").checked));
  $("auto-assign").addEventListener("change", async () => {
    const r = await api("PUT", "me/preferences", { auto_assign: $("auto-assign").checked });
    if (!r.ok) toast(errorText(r), true);
  });
  $("shortcuts-open").addEventListener("click", () => { $("settings").open = false; $("shortcuts").showModal(); });
}

function visibleCards() {
  return [...document.querySelectorAll(".lists section:not([hidden]) .card")];
}

function step(delta) {
  const cards = visibleCards();
  if (!cards.length) return;
  const at = cards.findIndex((c) => c.dataset.id === state.current);
  const next = at < 0 ? (delta > 0 ? 0 : cards.length - 1)
    : Math.min(cards.length - 1, Math.max(0, at + delta));
  openConversation(cards[next].dataset.id);
}

const SHORTCUT_ACTIONS = {
  nextWaiting: () => {
    const first = document.querySelector("#queue .card");
    if (first) openConversation(first.dataset.id);
    else toast(t("shortcuts.nobody_waiting"));
  },
  next: () => step(1),
  previous: () => step(-1),
  claim: () => { if (!$("claim").hidden && !$("conversation").hidden) $("claim").click(); },
  reply: () => { if (!$("reply-form").hidden && !$("reply-text").disabled) $("reply-text").focus(); },
  note: () => { if (!$("note-form").hidden) $("note-text").focus(); },
  search: () => $("search-q").focus(),
  help: () => $("shortcuts").showModal(),
};

async function start() {
  const me = await api("GET", "me");
  if (!me.ok) return;
  state.me = me.data;
  state.team = me.data.team;
  session.csrf = me.data.csrf || "";
  $("logout-csrf").value = session.csrf;
  i18n.setZone(state.team.timezone, state.team.zone);
  const [reasons] = await Promise.all([api("GET", "reasons"), loadCanned(), loadAgents()]);
  if (reasons.ok) state.reasons = reasons.data.reasons;
  $("auto-assign-set").hidden = !state.team.auto_assign || me.data.role === "trainer";
  $("analytics-link").hidden = me.data.role === "agent";
  $("models-link").hidden = me.data.role === "agent"; // trainers and admins: the model page
  $("auto-assign").checked = me.data.preferences.auto_assign;
  wireActions();
  wireSearch();
  wireSettings();
  shortcuts.install(SHORTCUT_ACTIONS);
  alerts.start((id) => { search.clear(); openConversation(id); });
  await applyLanguage(me.data.preferences.language);
  $("review-link").hidden = !["trainer", "admin"].includes(me.data.role);
  // A link from elsewhere (the trainers' review) names the conversation to open.
  const wanted = new URLSearchParams(location.hash.slice(1)).get("conversation");
  if (wanted) openConversation(wanted);
  connectLive();
  setInterval(() => {
    for (const node of document.querySelectorAll("[data-since]")) {
      node.textContent = i18n.duration(now() - Number(node.dataset.since));
    }
    for (const node of document.querySelectorAll("[data-sla-since]")) slaView(node);
  }, 1000);
  document.body.dataset.ready = "yes";
}

document.addEventListener("DOMContentLoaded", start);
