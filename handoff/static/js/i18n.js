// The page's words and how it writes times: one dictionary per language
// (/inbox/static/i18n/<lang>.json), times on the service's clock (its time zone from the API).
"use strict";

export const LANGUAGES = ["id", "en"];
const COOKIE = "loket_lang"; // the login page reads it (handoff/inbox/language.py)

let words = {};
let language = "id";
let zone = "Asia/Jakarta";
let zoneLabel = "WIB";

export function current() { return language; }

export async function load(lang) {
  language = LANGUAGES.includes(lang) ? lang : "id";
  const resp = await fetch("/inbox/static/i18n/" + language + ".json", { credentials: "same-origin" });
  words = resp.ok ? await resp.json() : {};
  document.documentElement.lang = language;
  document.cookie = COOKIE + "=" + language + "; path=/inbox; max-age=31536000; samesite=strict";
}

export function setZone(tz, label) {
  zone = tz || zone;
  zoneLabel = label || tz || zoneLabel;
}

export function has(key) { return Object.prototype.hasOwnProperty.call(words, key); }

// The sentence `key`, its {placeholders} filled from `params`.
export function t(key, params) {
  const found = has(key) ? words[key] : key;
  return found.replace(/\{(\w+)\}/g, (whole, name) =>
    params && params[name] !== undefined && params[name] !== null ? String(params[name]) : whole);
}

// Every element marked with data-i18n (text), -placeholder, -title or -aria-label.
export function translate(root) {
  const scope = root || document;
  for (const node of scope.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of scope.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of scope.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  for (const node of scope.querySelectorAll("[data-i18n-aria-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
  }
}

function locale() { return language === "id" ? "id-ID" : "en-GB"; }

function format(ms, options) {
  return new Intl.DateTimeFormat(locale(), { timeZone: zone, ...options }).format(new Date(ms));
}

function dayKey(ms) {
  return format(ms, { year: "numeric", month: "2-digit", day: "2-digit" });
}

// "20.15" (Indonesian) or "20:15" on the service's clock.
export function clock(ms) {
  return format(ms, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

// "23 Nov 2026"
export function day(ms) {
  return format(ms, { day: "numeric", month: "short", year: "numeric" });
}

// A line's time: the clock today, the day and the clock before.
export function stamp(ms, now) {
  if (!ms) return "–";
  return dayKey(ms) === dayKey(now || Date.now()) ? clock(ms) : day(ms) + " " + clock(ms);
}

// With the zone spelled out, where a time stands alone ("20.15 WIB").
export function zoned(ms, now) { return stamp(ms, now) + " " + zoneLabel; }

// A date for <input type="date"> on the service's clock: "2026-11-23".
export function isoDay(ms) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
  }).format(new Date(ms));
  return parts;
}

// How long: "45 d", "12 mnt", "1 j 05 mnt" (short units from the dictionary).
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t("time.seconds", { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t("time.minutes", { n: m });
  const h = Math.floor(m / 60);
  return t("time.hours", { h, m: String(m % 60).padStart(2, "0") });
}

// "mm:ss" of a countdown.
export function countdown(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
}

// "ke-3" / "3rd"
export function ordinal(n) {
  if (language === "id") return "ke-" + n;
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
  return n + suffix;
}
