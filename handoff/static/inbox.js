// Loket inbox: the agents' page. Plain JS, no build step. Every string that comes from a
// customer (or anyone) is put on the page with textContent, never innerHTML.
"use strict";

const $ = (id) => document.getElementById(id);
const UI_LANGUAGE = "en"; // the page's own words are English; labels from the API come in id and en

const state = {
  me: null,
  csrf: "",
  current: null, // conversation id on screen
  clockOffset: 0, // server ms - browser ms
  unread: new Map(), // conversation id -> unread customer messages
  canned: [],
  agents: [],
  language: "id",
  reasons: {}, // handoff reason code -> {id, en} labels, from GET /inbox/api/reasons
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

// `background`: the page asks by itself (after a live event), not the agent; such requests do
// not keep an idle session alive.
async function api(method, path, body, background) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf;
  if (background) headers["X-Loket-Background"] = "1";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch("/inbox/api/" + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, status: 0, data: { error: "Not connected to the server." } };
  }
  if (resp.status === 401) {
    location.href = "/inbox/login";
    return { ok: false, status: 401, data: {} };
  }
  const data = resp.status === 204 ? {} : await resp.json().catch(() => ({}));
  return { ok: resp.ok, status: resp.status, data };
}

function reasonLabel(code) {
  const labels = state.reasons[code];
  return labels ? labels[UI_LANGUAGE] || labels.en : code;
}

function conv(id) { return "conversations/" + encodeURIComponent(id); }
function now() { return Date.now() + state.clockOffset; }

function waited(since) {
  const s = Math.max(0, Math.floor((now() - since) / 1000));
  if (s < 60) return s + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min";
  const h = Math.floor(m / 60);
  return h + " h " + String(m % 60).padStart(2, "0") + " min";
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// --- lists -----------------------------------------------------------------------------------

function card(item, listName) {
  const li = el("li", "card" + (item.id === state.current ? " active" : ""));
  li.dataset.id = item.id;
  const button = el("button", "card-button");
  button.type = "button";
  const head = el("div", "card-head");
  head.append(el("span", "who", item.channel + " · " + item.chat_id));
  if (item.unread > 0 && item.id !== state.current) {
    head.append(el("span", "badge", item.unread));
  }
  const meta = el("div", "card-meta");
  meta.append(el("span", "reason", reasonLabel(item.reason)));
  meta.append(el("span", "lang", item.language));
  const wait = el("span", "wait", waited(item.created_at));
  wait.dataset.since = item.created_at;
  meta.append(wait);
  button.append(head, meta, el("div", "one-line", item.summary));
  button.addEventListener("click", () => openConversation(item.id));
  li.append(button);
  li.dataset.list = listName;
  return li;
}

function fillList(listId, items) {
  const list = $(listId);
  list.replaceChildren(...items.map((item) => card(item, listId)));
  $(listId + "-empty").hidden = items.length > 0;
  $(listId + "-count").textContent = items.length;
  for (const item of items) {
    state.unread.set(item.id, item.id === state.current ? 0 : item.unread);
  }
}

function showUnread() {
  let total = 0;
  for (const [id, n] of state.unread) if (id !== state.current) total += n;
  document.title = (total ? "(" + total + ") " : "") + "Loket inbox";
}

async function refreshLists(background) {
  const [queue, mine] = await Promise.all([
    api("GET", "queue", undefined, background), api("GET", "mine", undefined, background),
  ]);
  state.unread.clear();
  if (queue.ok) {
    state.clockOffset = queue.data.now - Date.now();
    fillList("queue", queue.data.conversations);
  }
  if (mine.ok) fillList("mine", mine.data.conversations);
  showUnread();
}

// --- one conversation ------------------------------------------------------------------------

function speaker(entry) {
  const meta = entry.meta || {};
  switch (entry.role) {
    case "customer": return "Customer";
    case "bot": return "Bot";
    case "agent": return meta.agent ? "Agent " + meta.agent : "Agent";
    case "note": return "Note by " + (meta.agent || "agent");
    default: return "System";
  }
}

function deliveryView(entry) {
  const d = entry.delivery;
  const box = el("div", "delivery state-" + d.state);
  box.append(el("span", "delivery-state", d.state));
  if (d.state === "failed") {
    if (d.reason) box.append(el("span", "delivery-reason", d.reason));
    const retry = el("button", "retry", "Retry");
    retry.type = "button";
    retry.addEventListener("click", async () => {
      retry.disabled = true;
      const r = await api("POST", conv(state.current) + "/deliveries/" +
                          encodeURIComponent(entry.id) + "/retry");
      if (!r.ok) toast(r.data.error || "Retry failed", true);
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
  head.append(el("span", "speaker", speaker(entry)), el("time", "at", clock(entry.ts)));
  if (entry.role === "bot" && entry.intent) {
    const conf = entry.confidence === null ? "" : " " + Number(entry.confidence).toFixed(2);
    head.append(el("span", "intent", entry.intent + conf));
  }
  li.append(head, el("div", "text", entry.text));
  const attachment = (entry.meta || {}).attachment;
  if (entry.role === "customer" && attachment && attachment.ref) {
    const link = el("a", "attachment", "Open " + (attachment.kind || "attachment"));
    link.href = "/inbox/api/media/" + encodeURIComponent(conversationId) + "/" +
                encodeURIComponent(entry.id);
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    li.append(link);
  }
  if (entry.buttons && entry.buttons.length) {
    li.append(el("div", "offered", "Buttons: " + entry.buttons.map((b) => b.title).join(" · ")));
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
  $("sum-language").textContent = c.language || "–";
  // The brief's facts come labelled from the API (handoff/summary.py): shown as they come.
  const facts = [];
  for (const fact of s ? s.facts : []) {
    const list = el("ul");
    const lines = fact.lines.length ? fact.lines : ["–"];
    list.replaceChildren(...lines.map((line) => el("li", "", line)));
    const dd = el("dd");
    dd.append(list);
    facts.push(el("dt", "", fact.label), dd);
  }
  $("sum-facts").replaceChildren(...facts);
}

function renderWindow(w) {
  const box = $("window-warning");
  if (!w) { box.hidden = true; return; }
  if (w.expired) {
    box.textContent = "The reply window on this channel closed at " + clock(w.closes_at) +
      " (the customer last wrote at " + clock(w.last_customer_at) +
      "). A free-form reply will probably fail until the customer writes again.";
    box.hidden = false;
  } else {
    box.hidden = true;
  }
}

function renderActions(can, c) {
  $("claim").hidden = !can.claim;
  $("transfer-group").hidden = !can.transfer;
  $("hand-back").hidden = !can.hand_back;
  $("close-group").hidden = !can.close;
  $("reply-form").hidden = !can.reply;
  $("note-form").hidden = !can.note;
  const others = state.agents.filter((a) => a.name !== c.assignee && a.role !== "trainer");
  $("transfer-to").replaceChildren(...others.map((a) => {
    const option = el("option", "", a.name + (a.online ? " (online)" : ""));
    option.value = a.name;
    return option;
  }));
  $("transfer").disabled = others.length === 0;
}

function renderConversation(data, keepScroll) {
  const c = data.conversation;
  state.language = c.language || "id";
  $("placeholder").hidden = true;
  $("conversation").hidden = false;
  $("conv-title").textContent = c.channel + " · " + c.chat_id;
  let status = c.status;
  if (c.status === "assigned") status += " to " + (c.assignee === state.me.name ? "you" : c.assignee);
  if (c.status === "waiting" && c.created_at) status += " for " + waited(c.created_at);
  if (c.status === "closed" && c.resolution) status += ": " + c.resolution;
  $("conv-state").textContent = status;
  const list = $("transcript");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
  list.replaceChildren(...data.entries.map((e) => entryView(e, c.id)));
  if (!keepScroll || atBottom) list.scrollTop = list.scrollHeight;
  renderSummary(data);
  renderWindow(data.reply_window);
  renderActions(data.can, c);
  for (const li of document.querySelectorAll(".card")) {
    li.classList.toggle("active", li.dataset.id === c.id);
  }
}

async function openConversation(id, opts) {
  const keepScroll = opts && opts.keepScroll;
  if (id !== state.current) {
    state.current = id;
    $("reply-text").value = "";
    $("note-text").value = "";
  }
  const r = await api("GET", conv(id), undefined, opts && opts.background);
  if (!r.ok) {
    toast(r.data.error || "Cannot open the conversation", true);
    return;
  }
  if (state.current !== id) return; // the agent picked another one meanwhile
  state.clockOffset = r.data.now - Date.now();
  renderConversation(r.data, keepScroll);
  state.unread.set(id, 0);
  for (const badge of document.querySelectorAll('.card[data-id="' + CSS.escape(id) + '"] .badge')) {
    badge.remove();
  }
  showUnread();
}

// --- actions ---------------------------------------------------------------------------------

async function act(path, body, done) {
  const id = state.current;
  const r = await api("POST", conv(id) + "/" + path, body);
  if (!r.ok) {
    toast(r.data.error || ("Error " + r.status), true);
  } else if (done) {
    toast(done);
  }
  await Promise.all([openConversation(id, { keepScroll: true }), refreshLists()]);
  return r.ok;
}

function wireActions() {
  $("claim").addEventListener("click", () => act("claim", undefined, "Claimed"));
  $("hand-back").addEventListener("click", () => act("hand-back", undefined, "Back with the bot"));
  $("transfer").addEventListener("click", () => {
    const to = $("transfer-to").value;
    if (to) act("transfer", { to }, "Transferred to " + to);
  });
  $("close").addEventListener("click", async () => {
    const ok = await act("close", {
      resolution: $("close-resolution").value, text: $("close-text").value,
    }, "Closed");
    if (ok) $("close-text").value = "";
  });
  $("reply-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = $("reply-text").value;
    if (!text.trim()) return;
    $("send").disabled = true;
    try {
      if (await act("reply", { text })) $("reply-text").value = "";
    } finally {
      $("send").disabled = false;
    }
  });
  $("reply-text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) $("reply-form").requestSubmit();
  });
  $("note-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = $("note-text").value;
    if (!text.trim()) return;
    if (await act("notes", { text })) $("note-text").value = "";
  });
  $("canned").addEventListener("change", () => {
    const [key, lang] = $("canned").value.split("|");
    const snippet = state.canned.find((s) => s.key === key);
    if (snippet) {
      const box = $("reply-text");
      box.value = (box.value ? box.value + "\n" : "") + snippet.texts[lang];
      box.focus();
    }
    $("canned").value = "";
  });
}

async function loadCanned() {
  const r = await api("GET", "canned");
  if (!r.ok) return;
  state.canned = r.data.canned;
  const options = [el("option", "", "Canned reply…")];
  options[0].value = "";
  for (const s of state.canned) {
    for (const lang of Object.keys(s.texts)) {
      const option = el("option", "", s.title + " (" + lang + ")");
      option.value = s.key + "|" + lang;
      options.push(option);
    }
  }
  $("canned").replaceChildren(...options);
}

async function loadAgents(background) {
  const r = await api("GET", "agents", undefined, background);
  if (r.ok) state.agents = r.data.agents;
}

// --- live updates ----------------------------------------------------------------------------

let listsTimer = null;
function soon(fn, ms) { return setTimeout(fn, ms); }

function onEvent(ev) {
  let event;
  try { event = JSON.parse(ev.data); } catch (e) { return; }
  if (event.conversation && event.conversation === state.current) {
    openConversation(state.current, { keepScroll: true, background: true });
  }
  if (event.type === "claim" || event.type === "transfer") loadAgents(true);
  clearTimeout(listsTimer);
  listsTimer = soon(() => refreshLists(true), 150);
}

function connectLive() {
  const live = $("live");
  const source = new EventSource("/inbox/api/events");
  source.onopen = () => { live.textContent = "live"; live.className = "live on"; };
  source.onmessage = onEvent;
  // The session ended (logout elsewhere, password changed, account removed).
  source.addEventListener("signed-out", () => {
    source.close();
    location.href = "/inbox/login";
  });
  source.onerror = () => {
    live.textContent = "reconnecting…";
    live.className = "live off";
    // EventSource retries by itself (and resumes from the last event id it saw); the lists
    // are fetched again once it is back, in case the session ended meanwhile.
    if (source.readyState === EventSource.CLOSED) soon(connectLive, 3000);
  };
  source.addEventListener("open", () => refreshLists(true));
}

async function start() {
  const me = await api("GET", "me");
  if (!me.ok) return;
  state.me = me.data;
  state.csrf = me.data.csrf || "";
  $("logout-csrf").value = state.csrf;
  $("me").textContent = me.data.name + " (" + me.data.role + ")";
  wireActions();
  const reasons = await api("GET", "reasons");
  if (reasons.ok) state.reasons = reasons.data.reasons;
  await Promise.all([refreshLists(), loadCanned(), loadAgents()]);
  connectLive();
  setInterval(() => {
    for (const node of document.querySelectorAll("[data-since]")) {
      node.textContent = waited(Number(node.dataset.since));
    }
  }, 1000);
}

document.addEventListener("DOMContentLoaded", start);
