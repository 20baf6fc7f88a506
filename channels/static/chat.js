// Loket web chat. Customer text is only ever inserted with textContent, never as HTML.
// A conversation is opened on the first message; its secret stays in this browser and goes
// with every request in the X-Loket-Chat-Secret header (never in a URL).
"use strict";

const log = document.getElementById("log");
const form = document.getElementById("form");
const input = document.getElementById("text");
const sendButton = document.getElementById("send");
const ID_KEY = "loket.chat_id";
const SECRET_KEY = "loket.chat_secret";
let lastId = "";
const shown = new Set();

function current() {
  const chatId = localStorage.getItem(ID_KEY);
  const secret = localStorage.getItem(SECRET_KEY);
  return chatId && secret ? { chatId, secret } : null;
}

function forget() {
  localStorage.removeItem(ID_KEY);
  localStorage.removeItem(SECRET_KEY);
  lastId = "";
}

function bubble(role, text, buttons) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  if (role === "agent") {
    const who = document.createElement("span");
    who.className = "who"; who.textContent = "Agent";
    div.appendChild(who);
  }
  div.appendChild(document.createTextNode(text));
  if (buttons && buttons.length) {
    const row = document.createElement("div");
    row.className = "buttons";
    for (const b of buttons) {
      const btn = document.createElement("button");
      btn.type = "button"; btn.textContent = b.title;
      btn.addEventListener("click", () => send({ text: b.title, payload: b.payload }));
      row.appendChild(btn);
    }
    div.appendChild(row);
  }
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
}

function note(text) {
  const div = document.createElement("div");
  div.className = "error"; div.textContent = text;
  log.appendChild(div);
}

async function errorOf(resp) {
  const err = await resp.json().catch(() => ({}));
  return err.error || ("Error " + resp.status);
}

async function open() {
  const resp = await fetch("/chat/api/conversations", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
  });
  if (!resp.ok) throw new Error(await errorOf(resp));
  const data = await resp.json();
  localStorage.setItem(ID_KEY, data.chat_id);
  localStorage.setItem(SECRET_KEY, data.secret);
  return { chatId: data.chat_id, secret: data.secret };
}

// 401, 403 or 404: the conversation is gone (kept for a limited time) or not ours any more.
function lost(status) { return status === 401 || status === 403 || status === 404; }

async function refresh() {
  const chat = current();
  if (!chat) return;
  const q = new URLSearchParams({ chat_id: chat.chatId, after: lastId });
  try {
    const resp = await fetch("/chat/api/messages?" + q, {
      headers: { "X-Loket-Chat-Secret": chat.secret },
    });
    if (lost(resp.status)) { forget(); return; }
    if (!resp.ok) return;
    const data = await resp.json();
    for (const m of data.messages) {
      lastId = m.id;
      if (shown.has(m.id)) continue;
      shown.add(m.id);
      bubble(m.role, m.text, m.buttons);
    }
  } catch (e) { /* offline for a moment: the next poll catches up */ }
}

async function post(chat, body) {
  return fetch("/chat/api/messages", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Loket-Chat-Secret": chat.secret },
    body: JSON.stringify({ chat_id: chat.chatId, ...body }),
  });
}

async function send(body) {
  sendButton.disabled = true;
  try {
    let chat = current() || await open();
    let resp = await post(chat, body);
    if (lost(resp.status)) {
      forget();
      note("Percakapan baru dimulai. / A new conversation was started.");
      chat = await open();
      resp = await post(chat, body);
    }
    if (!resp.ok) note(await errorOf(resp));
  } catch (e) {
    note(e instanceof TypeError
      ? "Tidak terhubung ke server. / Not connected to the server."
      : e.message);
  } finally {
    sendButton.disabled = false;
    await refresh();
  }
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  send({ text });
});
document.getElementById("restart").addEventListener("click", (ev) => {
  ev.preventDefault();
  forget();
  location.reload();
});
refresh();
setInterval(refresh, 3000);
