// The inbox's JSON API, and its errors in the agent's language (by their stable codes).
"use strict";

import { has, t } from "./i18n.js";

export const session = { csrf: "" };

// `background`: the page asks by itself (after a live event), not the agent; such requests do
// not keep an idle session alive.
export async function api(method, path, body, background) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = session.csrf;
  if (background) headers["X-Loket-Background"] = "1";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch("/inbox/api/" + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, status: 0, data: {} };
  }
  if (resp.status === 401) {
    location.href = "/inbox/login";
    return { ok: false, status: 401, data: {} };
  }
  const data = resp.status === 204 ? {} : await resp.json().catch(() => ({}));
  return { ok: resp.ok, status: resp.status, data };
}

// What went wrong, in the agent's language: the API's code translated, else by HTTP status.
export function errorText(r) {
  const code = r.data && r.data.code;
  if (code && has("errors." + code)) {
    const params = { ...(r.data.params || {}) };
    // States come as codes: shown in the agent's words.
    if (params.status && has("status." + params.status)) params.status = t("status." + params.status);
    if (params.state && has("delivery.state." + params.state)) {
      params.state = t("delivery.state." + params.state);
    }
    return t("errors." + code, params);
  }
  if (r.status === 0) return t("page.offline");
  if (r.status === 503) return t("page.unavailable");
  return (r.data && r.data.error) || t("page.http_error", { status: r.status });
}
