// Loket inbox: the agents' page. Plain JS modules, no build step. Every string that comes from a
// customer (or anyone) is put on the page with textContent, never innerHTML; the page's own
// words come from its dictionaries (i18n.js), labels of handoff reasons from the API.
"use strict";

import * as alerts from "./alerts.js";
import { api, errorText, session } from "./api.js";
import { Composer, unfilled } from "./composer.js";
import * as contact from "./contact.js";
import * as i18n from "./i18n.js";
import * as search from "./search.js";
import * as shortcuts from "./shortcuts.js";

const { t } = i18n;
const $ = (id) => document.getElementById(id);

const state = {
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

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function toast(text, isError) {
  const box = $("toast");
  box.textContent = text;
  box.className = "toast" + (isError ? " error" : "");
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

function reasonLabel(code) {
  const labels = state.reasons[code];
  return labels ? labels[i18n.current()] || labels.en : code;
}

function conv(id) { return "conversations/" + encodeURIComponent(id); }
function now() { return Date.now() + state.clockOffset; }
function nameOf(id) { const c = state.cards.get(id); return c ? contact.who(c) : id; }

// --- lists -----------------------------------------------------------------------------------

function slaView(node) {
  const since = Number(node.dataset.slaSince);
  const limit = state.team.sla_minutes * 60_000;
  const left = since + limit - now();
  node.classList.toggle("late", left < 0);
  node.classList.toggle("soon", left >= 0 && left < limit / 4);
  node.textContent = left >= 0
    ? t("sla.left", { time: i18n.countdown(left) })
    : t("sla.late", { time: i18n.duration(-left) });
}

function card(item, listName) {
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
  button.addEventListener("click", () => openConversation(item.id));
  li.append(button);
  return li;
}

function fillList(listId, items) {
  $(listId).replaceChildren(...items.map((item) => card(item, listId)));
  $(listId + "-empty").hidden = items.length > 0;
  $(listId + "-count").textContent = items.length;
  for (const item of items) {
    state.unread.set(item.id, item.id === state.current ? 0 : item.unread);
    state.cards.set(item.id, item);
  }
}

function showUnread() {
  let total = 0;
  for (const [id, n] of state.unread) if (id !== state.current) total += n;
  alerts.count(total);
}

async function refreshLists() {
  const [queue, mine] = await Promise.all([api("GET", "queue"), api("GET", "mine")]);
  state.unread.clear();
  if (queue.ok) {
    state.clockOffset = queue.data.now - Date.now();
    fillList("queue", queue.data.conversations);
  }
  if (mine.ok) fillList("mine", mine.data.conversations);
  showUnread();
  flushAlerts();
}

// --- one conversation ------------------------------------------------------------------------

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

function deliveryView(entry) {
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
      await openConversation(state.current, { keepScroll: true });
    });
    box.append(retry);
  }
  return box;
}

function entryView(entry, conversationId) {
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
    li.append(deliveryView(entry));
  }
  return li;
}

function renderSummary(data) {
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

function closedWindow(data) {
  const w = data.reply_window;
  return Boolean(w && w.expired);
}

function renderWindow(data) {
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

function renderActions(data) {
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

function stateLine(c) {
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
  list.replaceChildren(...data.entries.map((e) => entryView(e, c.id)));
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
  const r = await api("GET", conv(id));
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

async function loadAgents() {
  const r = await api("GET", "agents");
  if (r.ok) state.agents = r.data.agents;
}

// --- search ----------------------------------------------------------------------------------

function wireSearch() {
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    search.run((item) => card(item, "results"));
    showList();
  });
  $("search-apply").addEventListener("click", () => search.run((item) => card(item, "results")));
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
    openConversation(state.current, { keepScroll: true });
  }
  if (event.type === "claim" || event.type === "transfer") loadAgents();
  clearTimeout(listsTimer);
  listsTimer = setTimeout(refreshLists, 150);
}

function connectLive() {
  const live = $("live");
  live.textContent = t("live.connecting");
  const source = new EventSource("/inbox/api/events");
  source.onopen = () => { live.textContent = t("live.on"); live.className = "live on"; };
  source.onmessage = onEvent;
  source.onerror = () => {
    live.textContent = t("live.off");
    live.className = "live off";
    // EventSource retries by itself (and resumes from the last event id it saw); the lists
    // are fetched again once it is back, in case the session ended meanwhile.
    if (source.readyState === EventSource.CLOSED) setTimeout(connectLive, 3000);
  };
  source.addEventListener("open", () => refreshLists());
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
  $("auto-assign").checked = me.data.preferences.auto_assign;
  wireActions();
  wireSearch();
  wireSettings();
  shortcuts.install(SHORTCUT_ACTIONS);
  alerts.start((id) => { search.clear(); openConversation(id); });
  await applyLanguage(me.data.preferences.language);
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
