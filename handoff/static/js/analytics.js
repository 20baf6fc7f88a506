// The analytics page (trainers and admins): conversations, containment, handoffs by reason,
// channel and intent, first replies, resolutions and satisfaction, per day. Charts are drawn
// with uPlot, shipped in /inbox/static/vendor/ (no CDN); text goes in with textContent only.
"use strict";

import { api, errorText } from "./api.js";
import { $, el } from "./dom.js";
import * as i18n from "./i18n.js";

const { t } = i18n;
const DAY_MS = 24 * 3600 * 1000;
const COLORS = ["#0b6bcb", "#17663a", "#b42318", "#8a4b00", "#6941c6", "#0e7490", "#5f687c"];
// Tick steps of a count axis: whole numbers only.
const COUNTS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000,
  20000, 50000, 100000, 200000, 500000, 1000000];
const page = { report: null, reasons: {}, plots: [] };

function locale() { return i18n.current() === "id" ? "id-ID" : "en-GB"; }

function number(n, digits) {
  if (n === null || n === undefined) return "–";
  return Number(n).toLocaleString(locale(), { maximumFractionDigits: digits || 0 });
}

function pct(rate) {
  return rate === null || rate === undefined ? "–" : number(rate * 100, 1) + " %";
}

function seconds(s) { return s === null || s === undefined ? "–" : i18n.duration(s * 1000); }

function reasonLabel(code) {
  const labels = page.reasons[code];
  return labels ? labels[i18n.current()] || labels.en : code;
}

function resolutionLabel(code) {
  return i18n.has("resolution." + code) ? t("resolution." + code) : code;
}

function channelLabel(code) { return i18n.has("channel." + code) ? t("channel." + code) : code; }

// "3 Des" for the day "2026-12-03" (a calendar day: no time zone shifts it).
function dayLabel(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "short", timeZone: "UTC" })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

// --- charts ----------------------------------------------------------------------------------

function draw(id, labels, series, opts) {
  const box = $(id);
  box.replaceChildren();
  if (typeof window.uPlot !== "function") {
    box.append(el("p", "muted", t("analytics.no_charts")));
    return;
  }
  const uPlot = window.uPlot;
  const o = opts || {};
  const n = labels.length;
  const bars = o.bars ? uPlot.paths.bars({ size: [0.6, 80] }) : null;
  const plot = new uPlot({
    width: Math.max(260, box.clientWidth || 400),
    height: 240,
    scales: {
      x: { time: false, range: () => [-0.5, n - 0.5] },
      y: { range: o.percent ? [0, 100] : (u, min, max) => [0, Math.max(1, max || 0)] },
    },
    axes: [
      { values: (u, ticks) => ticks.map((v) => (Number.isInteger(v) && v >= 0 && v < n ? labels[v] : "")) },
      { values: (u, ticks) => ticks.map((v) => (o.percent ? v + " %" : number(v))),
        incrs: o.percent ? undefined : COUNTS },
    ],
    series: [
      { label: o.xLabel || t("col.day"), value: (u, v) => (v === null || v === undefined ? "" : labels[v] || "") },
      ...series.map((s, k) => ({
        label: s.label,
        stroke: COLORS[k % COLORS.length],
        width: 2,
        fill: bars ? COLORS[k % COLORS.length] + "cc" : undefined,
        paths: bars || undefined,
        points: { show: !bars && n <= 45 },
        value: (u, v) => (v === null || v === undefined ? "–" : o.percent ? number(v, 1) + " %" : number(v)),
      })),
    ],
  }, [labels.map((_, i) => i), ...series.map((s) => s.values)], box);
  page.plots.push(plot);
}

function drawCharts(r) {
  for (const plot of page.plots) plot.destroy();
  page.plots = [];
  const labels = r.days.map((d) => dayLabel(d.day));
  draw("chart-daily", labels, [
    { label: t("series.conversations"), values: r.days.map((d) => d.conversations) },
    { label: t("series.contained"), values: r.days.map((d) => d.contained) },
    { label: t("series.handoffs"), values: r.days.map((d) => d.handoffs) },
  ]);
  draw("chart-containment", labels, [
    { label: t("series.containment"),
      values: r.days.map((d) => (d.containment === null ? null : Math.round(d.containment * 1000) / 10)) },
  ], { percent: true });
  const reasons = r.by_reason.map((x) => x.reason);
  draw("chart-reasons", labels, reasons.length ? reasons.map((code) => ({
    label: reasonLabel(code), values: r.days.map((d) => d.by_reason[code] || 0),
  })) : [{ label: t("series.handoffs"), values: r.days.map(() => 0) }]);
  const scores = ["1", "2", "3", "4", "5"];
  draw("chart-csat", scores, [
    { label: t("series.answers"), values: scores.map((s) => r.csat.scores[s] || 0) },
  ], { bars: true, xLabel: t("col.score") });
}

// --- tiles and tables ------------------------------------------------------------------------

function tiles(r) {
  const tot = r.totals;
  $("k-conversations").textContent = number(tot.conversations);
  $("k-conversations-more").textContent = t("kpi.conversations_more", {
    distinct: number(tot.distinct_conversations), messages: number(tot.messages),
  });
  $("k-containment").textContent = pct(tot.containment);
  $("k-containment-more").textContent = t("kpi.containment_more", { n: number(tot.contained) });
  $("k-handoff-rate").textContent = pct(tot.handoff_rate);
  $("k-handoff-more").textContent = t("kpi.handoffs_more", { n: number(tot.handoffs) });
  const fr = r.first_reply;
  $("k-first-reply").textContent = seconds(fr.median_s);
  $("k-first-reply-more").textContent = t("kpi.first_reply_more", {
    p90: seconds(fr.p90_s), replied: number(fr.replied), n: number(fr.handoffs),
  });
  $("k-csat").textContent = r.csat.average === null ? "–" : number(r.csat.average, 2) + " / 5";
  $("k-csat-more").textContent = t("kpi.csat_more", {
    answered: number(r.csat.answered), asked: number(r.csat.asked),
  });
}

// columns: [[header key, numeric?]], rows: arrays of cell texts
function fill(id, columns, rows) {
  const table = $(id);
  const head = el("tr");
  for (const [key, num] of columns) head.append(el("th", num ? "num" : "", t(key)));
  const body = rows.map((cells) => {
    const tr = el("tr");
    cells.forEach((cell, i) => tr.append(el("td", columns[i][1] ? "num" : "", cell)));
    return tr;
  });
  if (!rows.length) {
    const tr = el("tr");
    const td = el("td", "empty-row", t("analytics.none"));
    td.colSpan = columns.length;
    tr.append(td);
    body.push(tr);
  }
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  tbody.append(...body);
  table.replaceChildren(thead, tbody);
}

function tables(r) {
  fill("t-reasons", [["col.reason"], ["col.handoffs", 1], ["col.rate", 1]],
    r.by_reason.map((x) => [reasonLabel(x.reason), number(x.handoffs), pct(x.rate)]));
  fill("t-channels", [["col.channel"], ["col.conversations", 1], ["col.containment", 1],
    ["col.handoffs", 1], ["col.rate", 1]],
  r.by_channel.map((x) => [channelLabel(x.channel), number(x.conversations), pct(x.containment),
    number(x.handoffs), pct(x.rate)]));
  fill("t-intents", [["col.intent"], ["col.messages", 1], ["col.handoffs", 1], ["col.rate", 1]],
    r.by_intent.map((x) => [x.intent, number(x.messages), number(x.handoffs), pct(x.rate)]));
  fill("t-resolutions", [["col.resolution"], ["col.handoffs", 1]],
    r.resolutions.map((x) => [resolutionLabel(x.resolution), number(x.handoffs)]));
  const c = r.csat;
  fill("t-csat", [["col.score"], ["col.answers", 1]], [
    ...["5", "4", "3", "2", "1"].map((s) => [s, number(c.scores[s])]),
    [t("csat.response_rate"), pct(c.response_rate)],
  ]);
  fill("t-daily", [["col.day"], ["col.conversations", 1], ["col.containment", 1],
    ["col.handoffs", 1], ["col.rate", 1], ["col.first_reply", 1], ["col.csat", 1]],
  r.days.map((d) => [dayLabel(d.day), number(d.conversations), pct(d.containment),
    number(d.handoffs), pct(d.handoff_rate), seconds(d.first_reply_median_s),
    d.csat_average === null ? "–" : number(d.csat_average, 2)]));
}

function csvLinks(r) {
  for (const a of document.querySelectorAll("a.csv")) {
    const q = new URLSearchParams({ from: r.period.from, to: r.period.to, table: a.dataset.table });
    a.href = "/inbox/api/analytics.csv?" + q;
    a.setAttribute("download", "");
  }
}

function render(r) {
  page.report = r;
  $("status").textContent = t("analytics.period", {
    from: dayLabel(r.period.from), to: dayLabel(r.period.to), zone: r.period.timezone,
    read: number(r.conversations_read), made: i18n.clock(r.generated_at),
  });
  $("truncated").hidden = !r.truncated;
  $("truncated").textContent = r.truncated ? t("analytics.truncated", { n: number(r.conversations_read) }) : "";
  tiles(r);
  tables(r);
  csvLinks(r);
  drawCharts(r);
}

// --- the period ------------------------------------------------------------------------------

async function load() {
  const q = new URLSearchParams({ from: $("from").value, to: $("to").value });
  history.replaceState(null, "", "?" + q);
  $("status").textContent = t("analytics.loading");
  const r = await api("GET", "analytics?" + q);
  if (!r.ok) {
    $("status").textContent = errorText(r);
    return;
  }
  render(r.data);
}

function lastDays(n) {
  $("to").value = i18n.isoDay(Date.now());
  $("from").value = i18n.isoDay(Date.now() - (n - 1) * DAY_MS);
}

async function start() {
  const me = await api("GET", "me");
  if (!me.ok) return;
  i18n.setZone(me.data.team.timezone, me.data.team.zone);
  await i18n.load(me.data.preferences.language);
  i18n.translate();
  document.title = t("analytics.title") + " · Loket";
  $("me").textContent = t("app.me", { name: me.data.name, role: t("role." + me.data.role) });
  const reasons = await api("GET", "reasons");
  if (reasons.ok) page.reasons = reasons.data.reasons;
  const asked = new URLSearchParams(location.search);
  lastDays(7);
  if (asked.get("from")) $("from").value = asked.get("from");
  if (asked.get("to")) $("to").value = asked.get("to");
  $("period").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  for (const b of document.querySelectorAll("[data-days]")) {
    b.addEventListener("click", () => { lastDays(Number(b.dataset.days)); load(); });
  }
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => { if (page.report) drawCharts(page.report); }, 200);
  });
  await load();
  document.body.dataset.ready = "yes";
}

document.addEventListener("DOMContentLoaded", start);
