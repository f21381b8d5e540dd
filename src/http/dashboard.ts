// GET / in a browser: one page, its style and script inline, nothing fetched
// from elsewhere, no build step. It polls GET /apis?series=1 every two
// seconds and draws each API: replica states, in flight, throughput and
// p50/p99 sparklines over the last ten minutes, the autoscaler's decisions
// with their reasons, the tracker's distribution and the recent errors.
// Text from the server (API names, tracebacks, class names that a model
// returned) is only ever set as textContent, never parsed as HTML.

import { Buffer } from 'node:buffer';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cortex-local</title>
<style>
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d2430; --mute: #6b7485; --line: #dde1e8; --ok: #1f9d55; --warn: #c98a04; --bad: #d64545; --blue: #2f6fd6; --violet: #7a4fd6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: var(--ink); color: #fff; }
header h1 { font-size: 18px; margin: 0; }
header .sub { color: #aab3c2; font-size: 13px; }
header .sub.bad { color: #ff9b9b; }
main { padding: 16px 24px; display: grid; gap: 16px; }
.api { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.api h2 { margin: 0 8px 0 0; font-size: 17px; display: inline; }
.top { display: flex; align-items: center; flex-wrap: wrap; gap: 8px; margin-bottom: 10px; }
.badge { font-size: 12px; padding: 1px 8px; border-radius: 10px; color: #fff; background: var(--mute); }
.badge.live { background: var(--ok); } .badge.error { background: var(--bad); } .badge.updating { background: var(--warn); }
.endpoint { color: var(--mute); font-family: ui-monospace, monospace; font-size: 13px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
.panel { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; min-height: 84px; }
.panel h3 { margin: 0 0 6px; font-size: 12px; font-weight: 600; color: var(--mute); text-transform: uppercase; letter-spacing: .04em; }
.big { font-size: 22px; font-weight: 600; }
.unit { color: var(--mute); font-size: 12px; margin-left: 4px; }
.states span { margin-right: 10px; white-space: nowrap; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 4px; }
svg.spark { width: 100%; height: 44px; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
td, th { text-align: left; padding: 2px 6px 2px 0; vertical-align: top; }
th { color: var(--mute); font-weight: 500; }
.bar { height: 8px; background: var(--blue); border-radius: 2px; }
pre { margin: 4px 0; white-space: pre-wrap; word-break: break-word; font-size: 12px; background: #fbf2f2; border-left: 3px solid var(--bad); padding: 4px 6px; max-height: 240px; overflow: auto; }
.muted { color: var(--mute); }
</style>
</head>
<body>
<header><h1>cortex-local</h1><span class="sub" id="where"></span><span class="sub" id="updated">connecting…</span></header>
<main id="apis"></main>
<script>
"use strict";
const POLL_MS = 2000;
const STATE_COLORS = { ready: "var(--ok)", starting: "var(--warn)", pending: "var(--mute)", failed: "var(--bad)", draining: "var(--violet)" };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
  return node;
}
function fmt(n, digits) {
  if (n === null || n === undefined) return "–";
  const d = digits === undefined ? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2) : digits;
  return Number(n).toFixed(d).replace(/\\.0+$|(\\.\\d*?)0+$/, "$1");
}
function svgEl(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}
/** One or more lines over the same x axis; null values break nothing, they are skipped. */
function sparkline(series, testid) {
  const w = 300, h = 44, pad = 3;
  const svg = svgEl("svg", { class: "spark", viewBox: "0 0 " + w + " " + h, preserveAspectRatio: "none", "data-testid": testid });
  let max = 0;
  for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
  svg.append(svgEl("line", { x1: 0, y1: h - pad, x2: w, y2: h - pad, stroke: "#dde1e8", "stroke-width": 1 }));
  for (const s of series) {
    const n = s.values.length;
    const pts = [];
    s.values.forEach((v, i) => {
      if (v === null) return;
      const x = n === 1 ? w : (i / (n - 1)) * w;
      const y = h - pad - (max === 0 ? 0 : (v / max) * (h - 2 * pad));
      pts.push(x.toFixed(1) + "," + y.toFixed(1));
    });
    svg.append(svgEl("polyline", { points: pts.join(" "), fill: "none", stroke: s.color, "stroke-width": 1.6, "data-series": s.name }));
    // A value between two gaps draws no line: a dot shows it.
    s.values.forEach((v, i) => {
      if (v === null || (i > 0 && s.values[i - 1] !== null) || (i < n - 1 && s.values[i + 1] !== null)) return;
      const x = n === 1 ? w : (i / (n - 1)) * w;
      const y = h - pad - (max === 0 ? 0 : (v / max) * (h - 2 * pad));
      svg.append(svgEl("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 2, fill: s.color }));
    });
  }
  return svg;
}
function panel(title, ...children) {
  return el("div", { class: "panel" }, el("h3", {}, title), ...children);
}

function replicasPanel(a) {
  const states = el("div", { class: "states" });
  for (const [state, n] of Object.entries(a.replicas)) {
    if (n === 0 && state !== "ready") continue;
    states.append(el("span", { "data-state": state }, el("span", { class: "dot", style: "background:" + (STATE_COLORS[state] || "var(--mute)") }), state + " " + n));
  }
  return panel("replicas",
    el("div", {}, el("span", { class: "big", "data-testid": "ready" }, a.replicas.ready), el("span", { class: "unit" }, "ready of " + a.desired_replicas + " desired")),
    states,
    el("div", { class: "muted" }, "in flight " + a.in_flight + " / capacity " + a.capacity + (a.queued ? ", " + a.queued + " queued" : "")));
}

function trafficPanel(a) {
  const r = a.requests;
  return panel("throughput (req/s, 10 min)",
    el("div", {}, el("span", { class: "big", "data-testid": "rate" }, fmt(r.rate)), el("span", { class: "unit" }, "req/s last minute"),
      el("span", { class: "unit" }, "2xx " + r.codes["2xx"] + " · 4xx " + r.codes["4xx"] + " · 5xx " + r.codes["5xx"])),
    sparkline([
      { name: "errors", color: "var(--bad)", values: a.series.map((p) => p.errors / 5) },
      { name: "rate", color: "var(--blue)", values: a.series.map((p) => p.rate) },
    ], "throughput"));
}

function latencyPanel(a) {
  const ms = (s) => (s === null ? null : s * 1000);
  return panel("latency p50 / p99 (ms, 10 min)",
    el("div", {}, el("span", { class: "big" }, fmt(a.requests.p50_ms)), el("span", { class: "unit" }, "p50"),
      el("span", { class: "big", style: "margin-left:12px" }, fmt(a.requests.p99_ms)), el("span", { class: "unit" }, "p99 last minute")),
    sparkline([
      { name: "p50", color: "var(--ok)", values: a.series.map((p) => ms(p.p50)) },
      { name: "p99", color: "var(--warn)", values: a.series.map((p) => ms(p.p99)) },
    ], "latency"));
}

function autoscalerPanel(a) {
  const ticks = a.ticks;
  const changes = ticks.filter((t) => t.request !== t.current).slice(-4).reverse();
  const rows = changes.map((t) => el("tr", {}, el("td", {}, "t=" + t.t + "s"), el("td", {}, t.current + "→" + t.request), el("td", {}, t.reason)));
  const last = ticks.length ? ticks[ticks.length - 1] : null;
  return panel("autoscaler",
    last === null ? el("div", { class: "muted" }, "no tick yet") :
      el("div", {}, "avg in flight " + fmt(last.avg_in_flight) + ", recommends " + (last.recommendation === null ? "–" : last.recommendation) + ", requests " + last.request,
        el("div", { class: "muted" }, last.reason)),
    sparkline([{ name: "replicas", color: "var(--violet)", values: ticks.map((t) => t.request) }], "decisions"),
    rows.length ? el("table", {}, ...rows) : null);
}

function trackerPanel(a) {
  const t = a.tracker;
  if (t === null) return null;
  const misses = el("div", { class: "muted" }, t.tracked + " tracked, " + t.misses + " missed" + (t.last_miss ? " (" + t.last_miss + ")" : ""));
  if (t.model_type === "classification") {
    const top = t.classes.slice(0, 8);
    const max = top.length ? top[0].count : 1;
    const rows = top.map((c) => el("tr", {}, el("td", {}, c.class), el("td", { style: "width:55%" }, el("div", { class: "bar", style: "width:" + (100 * c.count / max) + "%" })), el("td", {}, c.count)));
    return panel("tracker: classes", el("table", { "data-testid": "classes" }, ...rows), misses);
  }
  return panel("tracker: regression",
    el("div", {}, "min " + fmt(t.min) + " · mean " + fmt(t.mean) + " · max " + fmt(t.max)), misses);
}

function replicaTable(a) {
  if (!a.detail.length) return null;
  const rows = a.detail.map((r) => el("tr", {},
    el("td", {}, r.id), el("td", {}, r.state), el("td", {}, r.gpus.length ? r.gpus.join(",") : "–"),
    el("td", {}, r.workers.map((w) => w.pid === null ? "–" : w.pid + (w.memory_bytes === null ? "" : " (" + fmt(w.memory_bytes / 1048576, 0) + " MiB)")).join(", ")),
    el("td", {}, r.in_flight), el("td", {}, r.restarts), el("td", {}, r.reason || "")));
  return panel("replicas in detail", el("table", {}, el("tr", {}, ...["#", "state", "gpus", "workers (pid, memory)", "in flight", "restarts", ""].map((h) => el("th", {}, h))), ...rows));
}

/** A traceback's first line (what failed) and last lines (the exception): the middle is in cortex-local logs. */
function headAndTail(text) {
  const lines = text.split("\\n");
  return lines.length <= 5 ? text : lines[0] + "\\n  …\\n" + lines.slice(-2).join("\\n");
}

function errorsPanel(a) {
  const errors = a.errors.slice(-3).reverse();
  if (!errors.length && !a.last_error) return null;
  return panel("recent errors",
    ...errors.map((e) => el("div", {}, el("span", { class: "muted" }, new Date(e.time).toLocaleTimeString()), el("pre", {}, headAndTail(e.text)))),
    errors.length ? null : el("pre", {}, a.last_error));
}

function draw(apis) {
  const main = document.getElementById("apis");
  const cards = apis.map((a) => el("section", { class: "api", "data-api": a.api },
    el("div", { class: "top" }, el("h2", {}, a.api), el("span", { class: "badge " + a.status }, a.status), el("span", { class: "endpoint" }, "POST " + location.origin + a.endpoint)),
    el("div", { class: "grid" }, replicasPanel(a), trafficPanel(a), latencyPanel(a), autoscalerPanel(a), trackerPanel(a), replicaTable(a), errorsPanel(a))));
  main.replaceChildren(...cards);
}

async function poll() {
  const updated = document.getElementById("updated");
  try {
    const res = await fetch("/apis?series=1", { headers: { accept: "application/json" }, cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    draw((await res.json()).apis);
    updated.textContent = "updated " + new Date().toLocaleTimeString();
    updated.className = "sub";
  } catch (err) {
    updated.textContent = "cannot reach the server: " + err.message;
    updated.className = "sub bad";
  } finally {
    setTimeout(poll, POLL_MS);
  }
}
document.getElementById("where").textContent = location.host;
poll();
</script>
</body>
</html>
`;

export const DASHBOARD_HTML = Buffer.from(PAGE);
