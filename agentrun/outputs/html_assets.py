"""The HTML report's inline style and script (no network, no framework).

The status colours are the live view's (Okabe-Ito, from :data:`STYLES`), each with
its symbol, so colour is never the only signal. The script reads the embedded JSON,
writes every value with ``textContent`` and draws only the rows in view.
"""

from __future__ import annotations

import re

from agentrun.outputs.text_summary import STYLES

_GREYS = {"grey50": "#7f7f7f", "grey62": "#9e9e9e"}


def status_colour(style: str) -> str:
    """The CSS colour of a rich style such as ``bold #0072B2`` or ``grey50``."""
    found = re.search(r"#[0-9A-Fa-f]{6}", style)
    if found:
        return found.group()
    return next((hex_ for name, hex_ in _GREYS.items() if name in style), "#7f7f7f")


def status_css() -> str:
    """One class per status setting ``--c``, the colour its bars and badges use."""
    return "".join(f".st-{s.value}{{--c:{status_colour(style)}}}" for s, style in STYLES.items())


STYLE = """
:root{--bg:#fff;--fg:#1b1b1b;--muted:#5f5f5f;--line:#d0d0d0;--panel:#f4f4f4;--row:22px}
@media (prefers-color-scheme:dark){:root{--bg:#15171a;--fg:#e6e6e6;--muted:#a0a0a0;
--line:#3a3d42;--panel:#1f2226}}
body{background:var(--bg);color:var(--fg);font:14px/1.4 system-ui,sans-serif;margin:1rem 2rem}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
.legend span{margin-right:1rem;white-space:nowrap}
.vlist{position:relative;overflow-y:auto;overflow-x:hidden;max-height:60vh;
border:1px solid var(--line)}
.vlist .spacer{position:relative}
.row{position:absolute;left:0;right:0;height:var(--row);display:flex;align-items:center;
white-space:nowrap;border-bottom:1px solid var(--line);box-sizing:border-box}
.label{width:16rem;flex:none;overflow:hidden;text-overflow:ellipsis;padding:0 .4rem;cursor:pointer}
.lane{position:relative;flex:1;height:100%}
.bar{position:absolute;top:4px;bottom:4px;min-width:2px;background:var(--c);cursor:pointer;
border-radius:2px;opacity:.9}
.bar.k-queued{background:repeating-linear-gradient(45deg,var(--muted) 0 3px,transparent 3px 6px);
top:8px;bottom:8px;opacity:.8}
.bar.k-backoff{background:none;border-top:2px dotted var(--c);top:10px;bottom:auto;height:0}
.bar.win{outline:2px solid var(--fg)}
.deadline{position:absolute;top:0;bottom:0;border-left:2px dashed #D55E00;z-index:2;
pointer-events:none}
.axis{position:relative;height:1.2rem;margin-left:16rem;color:var(--muted);font-size:12px}
.axis span{position:absolute;transform:translateX(-50%)}
.sym{display:inline-block;width:1.3em;text-align:center;color:var(--c);font-weight:bold}
.badge{background:var(--c);color:#000;padding:0 .4em;border-radius:3px}
.chip{margin-left:.6em}.chip.bad{font-weight:bold}
.summary{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem}
.summary dt{color:var(--muted)}.summary dd{margin:0}
.fail{border-left:4px solid var(--c);padding:.2rem .6rem;margin:.3rem 0;background:var(--panel)}
.detail{background:var(--panel);border:1px solid var(--line);padding:.6rem;margin-top:.6rem}
pre{white-space:pre-wrap;word-break:break-word;max-height:20rem;overflow:auto;
background:var(--bg);border:1px solid var(--line);padding:.4rem;margin:.2rem 0}
.muted{color:var(--muted)}
"""

SCRIPT = r"""
"use strict";
(function () {
  const started = performance.now();
  const D = JSON.parse(document.getElementById("data").textContent);
  const ROW = 22;
  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  const secs = (s) => (s === null || s === undefined) ? "" :
    (s < 1 ? (s * 1000).toFixed(0) + "ms" :
      s < 120 ? s.toFixed(2) + "s" : (s / 60).toFixed(1) + "m");
  const sym = (status) => el("span", "sym st-" + status, D.symbols[status] || "?");
  const badge = (status) =>
    el("span", "badge st-" + status, (D.symbols[status] || "?") + " " + status);
  const text = (t) => document.createTextNode(t);
  const pct = (t) => (100 * t / D.span).toFixed(4) + "%";

  function virtual(box, count, draw) {
    const spacer = el("div", "spacer");
    spacer.style.height = (count * ROW) + "px";
    box.appendChild(spacer);
    box.style.height = Math.min(count * ROW + 2, window.innerHeight * 0.6) + "px";
    let shown = "";
    function paint() {
      const first = Math.max(0, Math.floor(box.scrollTop / ROW) - 10);
      const last = Math.min(count, Math.ceil((box.scrollTop + box.clientHeight) / ROW) + 10);
      if (shown === first + ":" + last) return;
      shown = first + ":" + last;
      spacer.querySelectorAll(".row").forEach((n) => n.remove());
      for (let i = first; i < last; i++) {
        const row = draw(i);
        row.style.top = (i * ROW) + "px";
        spacer.appendChild(row);
      }
    }
    box.addEventListener("scroll", () => requestAnimationFrame(paint), { passive: true });
    paint();
    return spacer;
  }

  function timelineRow(i) {
    const r = D.rows[i];
    const row = el("div", "row");
    row.dataset.row = i;
    const label = el("span", "label");
    label.append(sym(r.s), text(r.i + (r.r !== "agent" ? " (" + r.r + ")" : "")));
    label.title = r.i + ": " + r.s + (r.p ? " — stands in for " + r.p : "");
    const lane = el("div", "lane");
    for (const [kind, t0, t1, attempt, status] of r.x) {
      const win = r.w && kind === "attempt" ? " win" : "";
      const bar = el("div", "bar k-" + kind + " st-" + status + win);
      bar.style.left = pct(t0);
      bar.style.width = pct(Math.max(t1 - t0, 0));
      bar.dataset.row = i;
      bar.dataset.attempt = attempt;
      bar.title = r.i + (kind === "attempt" ? " attempt " + attempt + ": " + status : " " + kind) +
        " " + secs(t1 - t0);
      lane.appendChild(bar);
    }
    row.append(label, lane);
    return row;
  }

  function field(box, name, value, pre) {
    if (value === null || value === undefined || value === "" ||
        (Array.isArray(value) && value.length === 0)) return;
    box.appendChild(el("h4", "", name));
    const shown = Array.isArray(value) ? value.join(pre ? "\n" : " ") : value;
    box.appendChild(el(pre ? "pre" : "p", "", shown));
  }

  function checks(box, list) {
    for (const c of list || []) {
      const status = c.passed ? "passed" : (c.severity === "warning" ? "retrying" : "violated");
      const line = el("div", "");
      line.append(sym(status), text(c.name + (c.message ? ": " + c.message : "")));
      box.appendChild(line);
    }
  }

  function showDetail(i, attempt) {
    const r = D.rows[i], a = D.details[r.d];
    const log = a.attempt_log || [];
    const at = attempt > 0 ? log[attempt - 1] : log[log.length - 1];
    const box = document.getElementById("detail");
    box.replaceChildren();
    const head = el("h3", "");
    const which = at ? " — attempt " + at.number + " of " + log.length : "";
    head.append(badge(r.s), text(" " + r.i + which));
    box.appendChild(head);
    if (r.p) box.appendChild(el("p", "muted", "stands in for " + r.p));
    if (a.replaced_by) box.appendChild(el("p", "muted", "replaced by " + a.replaced_by));
    const src = at || a;
    if (at) box.appendChild(el("p", "", "attempt " + at.status + ", " + secs(at.duration_s)));
    field(box, "error", src.error, true);
    if (src.imperatives && src.imperatives.length) {
      box.appendChild(el("h4", "", "checks"));
      checks(box, src.imperatives);
    }
    const sent = (at && at.sent) || {};
    field(box, "system", sent.system, true);
    field(box, "sent", sent.prompt, true);
    field(box, "command", sent.command, true);
    field(box, "stdin", sent.stdin, true);
    field(box, "output", src.output, true);
    field(box, "log", at && at.log, true);
    field(box, "traceback", at && at.traceback, true);
    box.hidden = false;
  }

  function agentRow(i) {
    const r = D.rows[i], a = D.details[r.d];
    const row = el("div", "row");
    row.dataset.row = i;
    const label = el("span", "label");
    label.append(sym(r.s), document.createTextNode(r.i));
    const count = (a.attempt_log || []).length;
    const rest = el("span", "", r.s + " · " + count + " att · " + secs(a.duration_s));
    row.append(label, rest);
    for (const c of a.imperatives || []) {
      const mark = (c.passed ? "✓ " : "✗ ") + c.name;
      row.appendChild(el("span", "chip" + (c.passed ? "" : " bad"), mark));
    }
    if (a.error && r.s !== "passed") row.appendChild(el("span", "chip muted", a.error));
    return row;
  }

  function summary() {
    const s = D.summary;
    const title = (s.paradigm || "run") + " (" + (s.pattern || "?") + ")";
    document.getElementById("title").textContent = title;
    const look = { failed: "violated", interrupted: "cancelled" }[s.status] || "passed";
    document.getElementById("headline").append(
      badge(look), text(" " + String(s.status).toUpperCase() + " in " + secs(s.duration_s)));
    const dl = document.getElementById("summary");
    const cost = D.tokens && D.tokens.cost_usd != null ? ", $" + D.tokens.cost_usd.toFixed(4) : "";
    const tokens = D.tokens ? D.tokens.total_tokens + cost : null;
    const counts = Object.entries(D.counts).map(([k, v]) => v + " " + k).join(", ");
    for (const [k, v] of [["status", s.status], ["reason", s.reason],
      ["exit code", s.exit_code], ["duration", secs(s.duration_s)], ["agents", counts],
      ["tokens", tokens], ["winner", s.winner], ["rescued by", s.rescued_by],
      ["violation", s.violation], ["deadline", secs(D.deadline)]]) {
      if (v === null || v === undefined || v === "") continue;
      dl.append(el("dt", "", k), el("dd", "", typeof v === "object" ? JSON.stringify(v) : v));
    }
  }

  function failuresList() {
    const box = document.getElementById("failures");
    document.getElementById("failures-title").textContent = "Failures (" + D.failures.length + ")";
    if (!D.failures.length) box.appendChild(el("p", "muted", "none"));
    for (const i of D.failures.slice(0, 200)) {
      const r = D.rows[i], a = D.details[r.d];
      const item = el("div", "fail st-" + r.s);
      item.dataset.row = i;
      const head = el("div", "");
      head.append(badge(r.s), text(" " + r.i));
      item.appendChild(head);
      if (a.error) item.appendChild(el("div", "", a.error));
      checks(item, (a.imperatives || []).filter((c) => !c.passed));
      item.addEventListener("click", () => showDetail(i, 0));
      box.appendChild(item);
    }
    const more = D.failures.length - 200;
    if (more > 0) box.appendChild(el("p", "muted", more + " more: see the agents below"));
  }

  function timeline() {
    const legend = document.getElementById("legend");
    for (const s of Object.keys(D.symbols)) legend.appendChild(badge(s)).after(" ");
    legend.appendChild(el("span", "muted", "▨ queued  ┄ backoff  ▭ winner outlined" +
      (D.estimated ? "  — times estimated from durations (no events file)" : "")));
    const axis = document.getElementById("axis");
    for (let k = 0; k <= 5; k++) {
      const tick = el("span", "", secs(D.span * k / 5));
      tick.style.left = (k * 20) + "%";
      axis.appendChild(tick);
    }
    const box = document.getElementById("timeline");
    const spacer = virtual(box, D.rows.length, timelineRow);
    if (D.deadline !== null && D.deadline > D.span) {
      const note = "  deadline " + secs(D.deadline) + " (beyond the axis)";
      legend.appendChild(el("span", "muted", note));
    } else if (D.deadline !== null) {
      const line = el("div", "deadline");
      line.style.left = "calc(16rem + (100% - 16rem) * " + (D.deadline / D.span).toFixed(4) + ")";
      line.title = "deadline " + secs(D.deadline);
      spacer.appendChild(line);
    }
    box.addEventListener("click", (e) => {
      const t = e.target.closest("[data-row]");
      if (t) showDetail(Number(t.dataset.row), Number(t.dataset.attempt || 0));
    });
  }

  summary();
  timeline();
  failuresList();
  document.getElementById("agents-title").textContent = "Agents (" + D.rows.length + ")";
  const agents = document.getElementById("agents");
  virtual(agents, D.rows.length, agentRow);
  agents.addEventListener("click", (e) => {
    const t = e.target.closest("[data-row]");
    if (t) showDetail(Number(t.dataset.row), 0);
  });
  // A link to REPORT.html#INSTANCE opens that instance's details.
  const wanted = decodeURIComponent(location.hash.slice(1));
  const found = wanted ? D.rows.findIndex((r) => r.i === wanted) : -1;
  if (found >= 0) showDetail(found, 0);
  document.body.dataset.renderMs = (performance.now() - started).toFixed(1);
  document.body.dataset.sinceNavigationMs = performance.now().toFixed(1);
})();
"""
