// Alerts: a desktop notification and (optionally) a sound when a conversation joins the queue,
// a customer writes in a conversation of mine, or one is given to me; the unread count in the
// tab's title. With several tabs open, one of them (the holder of a Web Lock) alerts, and not
// for a conversation another tab shows in front of the agent; every tab keeps its own count.
"use strict";

import { t } from "./i18n.js";

const LOCK = "loket-inbox-alerts";
const PREFS = { desktop: "loket.alerts.desktop", sound: "loket.alerts.sound" };
const tab = Math.random().toString(36).slice(2);
const others = new Map(); // tab id -> {conversation, visible}
let channel = null;
let leader = false;
let audio = null;
let onOpen = () => {};
let viewing = { conversation: null, visible: false };

export function prefs() {
  return {
    desktop: localStorage.getItem(PREFS.desktop) !== "off",
    sound: localStorage.getItem(PREFS.sound) === "on",
    permission: "Notification" in window ? Notification.permission : "unsupported",
  };
}

export function setPref(name, on) {
  localStorage.setItem(PREFS[name], on ? "on" : "off");
  if (name === "sound" && on) unlockAudio();
}

export async function askPermission() {
  if (!("Notification" in window)) return "unsupported";
  return Notification.requestPermission();
}

export function isLeader() { return leader; }

export function start(open) {
  onOpen = open;
  if ("BroadcastChannel" in window) {
    channel = new BroadcastChannel("loket-inbox");
    channel.onmessage = (ev) => {
      const m = ev.data || {};
      if (m.type === "viewing") others.set(m.tab, m);
      if (m.type === "bye") others.delete(m.tab);
      if (m.type === "hello") announce();
      if (m.type === "open" && m.tab === tab) focusOn(m.conversation);
    };
    channel.postMessage({ type: "hello", tab });
    addEventListener("pagehide", () => channel.postMessage({ type: "bye", tab }));
  }
  if (navigator.locks) {
    // Held until this tab closes; the next tab waiting for it takes over the alerts.
    navigator.locks.request(LOCK, () => new Promise(() => {
      leader = true;
      document.body.dataset.alerts = "leader";
    }));
  } else {
    leader = true;
  }
  for (const name of ["visibilitychange", "focus", "blur"]) {
    addEventListener(name, () => view(viewing.conversation));
  }
}

function announce() {
  if (channel) channel.postMessage({ type: "viewing", tab, ...viewing });
}

// What this tab shows, for the tab that alerts.
export function view(conversation) {
  viewing = {
    conversation,
    visible: document.visibilityState === "visible" && document.hasFocus(),
  };
  announce();
}

function inFront(conversation) {
  if (viewing.visible && viewing.conversation === conversation) return true;
  for (const other of others.values()) {
    if (other.visible && other.conversation === conversation) return true;
  }
  return false;
}

function focusOn(conversation) {
  window.focus();
  onOpen(conversation);
}

function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  if (!audio) audio = new Context();
  if (audio.state === "suspended") audio.resume();
  return audio;
}

// Two short rising tones, made on the spot: no sound file to ship.
function chime() {
  const ctx = unlockAudio();
  if (!ctx) return;
  const start = ctx.currentTime;
  [660, 880].forEach((hz, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, start + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.18 + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + i * 0.18);
    osc.stop(start + i * 0.18 + 0.17);
  });
}

// kind: "waiting", "message" or "assigned"; who: the customer as the page names them.
export function alert(kind, conversation, who, eventId) {
  if (!leader || inFront(conversation)) return false;
  const p = prefs();
  if (p.desktop && p.permission === "granted") {
    const note = new Notification(t("alert." + kind + ".title", { who }), {
      body: t("alert." + kind + ".body", { who }),
      tag: "loket:" + (eventId || conversation + ":" + kind),
      lang: document.documentElement.lang,
    });
    note.onclick = () => {
      note.close();
      focusOn(conversation);
    };
  }
  if (p.sound) chime();
  return true;
}

// The unread count in the tab's title: "(3) Loket".
export function count(total) {
  document.title = (total ? "(" + total + ") " : "") + t("app.title");
}
