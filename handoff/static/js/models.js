// The trainers' model page: the serving model's held-out scores and confusion matrix, the
// deploy history, and starting a retrain, deploy or rollback, whose progress it follows.
"use strict";

import { $, el } from "./dom.js";
import { api, errorText, session } from "./api.js";
import * as i18n from "./i18n.js";

const { t } = i18n;
const POLL_MS = 2000;
let latestModel = "";

function pct(x) { return (100 * x).toFixed(1) + "%"; }

function showError(r) {
  $("models-error").hidden = !r;
  $("models-error").textContent = r ? errorText(r) : "";
}

function renderScores(report) {
  $("scores").textContent = report
    ? t("models.scores", { f1: report.macro_f1.toFixed(3), accuracy: pct(report.accuracy),
      missed: report.missed, examples: report.examples })
    : t("models.no_report");
  $("report-link").hidden = !report;
  $("confusion").hidden = !report;
  const rows = [];
  if (report) {
    $("report-link").href = report.html;
    $("confusion-img").src = report.png;
    const head = el("tr");
    for (const k of ["intent", "precision", "recall", "f1", "support"]) head.append(el("th", "", t("models." + k)));
    rows.push(head);
    for (const [name, s] of Object.entries(report.intents)) {
      const row = el("tr");
      row.append(el("td", "", name), el("td", "", s.precision.toFixed(3)), el("td", "", s.recall.toFixed(3)),
        el("td", "", s.f1.toFixed(3)), el("td", "", s.support));
      rows.push(row);
    }
  }
  $("intents").replaceChildren(...rows);
}

function renderJob(job) {
  $("job").textContent = job ? t("models.job", { kind: job.kind, by: job.by, status: job.status }) : "";
  $("job-steps").replaceChildren(...(job ? job.steps : []).map((s) => el("li", "", s)));
  if (job && job.error) $("job-steps").append(el("li", "error", job.error));
  const busy = !!job && (job.status === "queued" || job.status === "running");
  for (const id of ["retrain", "deploy", "rollback"]) $(id).disabled = busy;
  return busy;
}

async function refresh() {
  const r = await api("GET", "models", undefined, true);
  if (!r.ok) { showError(r); return false; }
  const d = r.data;
  $("serving").textContent = d.serving
    ? t("models.serving", { model: d.serving.model, by: d.serving.by, at: i18n.zoned(d.serving.at, Date.now()) })
    : t("models.none");
  renderScores(d.report);
  const latest = d.latest_report;
  latestModel = latest ? latest.model : "";
  $("latest").textContent = latest ? t("models.latest", { model: latest.model, f1: latest.macro_f1.toFixed(3) }) : "";
  $("deploy").hidden = !latest;
  if (latest) $("deploy").textContent = t("models.deploy", { model: latest.model });
  $("history").replaceChildren(...d.history.map((h) => el("li", "",
    `${i18n.zoned(h.at, Date.now())} · ${h.kind} · ${h.model} · ${h.macro_f1 === null ? "-" : h.macro_f1.toFixed(3)} · ${h.by}`
    + (h.recheck ? ` · ${recheckText(h.recheck)}` : ""))));
  return renderJob(d.job);
}

// The messages misunderstood before a deploy, read again by the model it deployed.
function recheckText(r) {
  let text = t("models.recheck", { understood: r.understood, items: r.items });
  if (r.labelled) text += " " + t("models.recheck_labelled", { right: r.labelled_right, labelled: r.labelled });
  return text;
}

async function follow() {
  if (await refresh()) setTimeout(follow, POLL_MS);
}

async function start(kind, model) {
  const r = await api("POST", "models/jobs", model ? { kind, model } : { kind });
  showError(r.ok ? null : r);
  if (r.ok) follow();
}

async function main() {
  const me = await api("GET", "me");
  if (!me.ok) return;
  session.csrf = me.data.csrf || "";
  i18n.setZone(me.data.team.timezone, me.data.team.zone);
  await i18n.load(me.data.preferences.language);
  i18n.translate();
  $("retrain").addEventListener("click", () => start("train"));
  $("deploy").addEventListener("click", () => start("deploy", latestModel));
  $("rollback").addEventListener("click", () => start("rollback"));
  await follow();
  document.body.dataset.ready = "yes";
}

document.addEventListener("DOMContentLoaded", main);
