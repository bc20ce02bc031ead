// Staff: the libraries, each with its live scan progress (its `library.scan` tracker),
// "Scan now" (library.scan.start) and "Cancel" (library.scan.cancel).

import { bus } from "./bus.js";
import * as scans from "./scans.js";
import * as trackers from "./trackers.js";
import { button, clear, fail, h } from "./ui.js";

const ACTIVE = new Set(["running", "cancelling"]);
const COUNTERS = [["files_seen", "files"], ["added", "added"], ["updated", "updated"], ["removed", "removed"], ["unchanged", "unchanged"], ["errors", "errors"]];

/** Library names from the REST API when it exists (it may not yet): id -> {name, root}. */
async function restLibraries() {
  try {
    const response = await fetch("/api/v1/libraries/", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return new Map();
    const body = await response.json();
    const rows = Array.isArray(body) ? body : body.results || body.items || [];
    return new Map(rows.filter((r) => r && r.id).map((r) => [Number(r.id), r]));
  } catch {
    return new Map();
  }
}

/** The progress bar's fill; its width is set through the CSSOM (the page allows no style attributes). */
function progressFill(pct) {
  const fill = h("span");
  fill.style.width = `${pct}%`;
  return fill;
}

function fmtClock(ms) {
  return ms ? new Date(ms).toLocaleString() : "";
}

export function librariesView(view) {
  let info = new Map();
  const watching = new Map();
  const list = h("div.libraries");
  clear(view, h("div.view-head", h("h1", "Libraries"), h("a.btn.ghost", { href: "/admin/", target: "_blank", rel: "noopener" }, "Site admin ↗")), list);

  function card(scan) {
    const entry = trackers.get(scan.id);
    const s = entry?.state || {};
    const lib = info.get(scan.library);
    const active = ACTIVE.has(s.status);
    const total = s.files_seen || 0;
    const done = (s.parsed || 0) + (s.unchanged || 0);
    const pct = active && total ? Math.min(100, Math.round((100 * done) / total)) : s.status === "completed" ? 100 : 0;
    return h("div.library-card", { dataset: { library: scan.library, status: s.status || "idle" } },
      h("div.lib-head",
        h("div", h("h2", lib?.name || `Library ${scan.library}`), lib?.root ? h("p.muted.small", lib.root) : null),
        h("span.status-badge", { class: `st-${s.status || "idle"}` }, s.status || "idle")),
      active ? h("div.progress", { role: "progressbar", "aria-valuenow": pct, "aria-valuemin": 0, "aria-valuemax": 100 }, progressFill(pct)) : null,
      h("p.scan-phase", active ? `Phase: ${s.phase || "starting"}` : s.finished_at ? `Last scan finished ${fmtClock(s.finished_at)}` : "Not scanned yet"),
      h("div.counters", COUNTERS.map(([k, label]) => h("span.counter", { dataset: { counter: k } }, h("strong", String(s[k] ?? 0)), " ", label))),
      s.message ? h("p.muted.small.scan-message", s.message) : null,
      h("div.actions",
        active
          ? button("Cancel scan", () => bus.request("library.scan.cancel", { library: scan.library }), { cls: "btn danger", disabled: s.status === "cancelling" })
          : [button("Scan now", () => start(scan.library, false), { cls: "btn primary", "data-act": "scan" }),
             button("Full rescan", () => start(scan.library, true), { cls: "btn ghost", title: "Re-read every file" })]));
  }

  async function start(library, full) {
    const result = await bus.request("library.scan.start", { library, full });
    scans.follow(result.tracker, result.library);
    render();
  }

  function render() {
    const all = scans.list();
    for (const scan of all) if (!watching.has(scan.id)) watching.set(scan.id, trackers.watch(scan.id, render));
    // Libraries the REST API knows that have no scan tracker yet (never scanned).
    const unscanned = [...info.keys()].filter((id) => !all.some((s) => s.library === id));
    clear(list,
      all.length || unscanned.length ? null : h("p.empty", "No libraries yet. Add one with ", h("code", "manage.py library add --name Music /path/to/music"), " or in the site admin."),
      all.map(card),
      unscanned.map((id) => h("div.library-card", { dataset: { library: id, status: "idle" } },
        h("div.lib-head", h("h2", info.get(id).name || `Library ${id}`), h("span.status-badge.st-idle", "never scanned")),
        h("div.actions", button("Scan now", () => start(id, false), { cls: "btn primary", "data-act": "scan" })))));
  }

  const offList = scans.onScansListed(render);
  restLibraries().then((m) => ((info = m), render()));
  scans.refresh().then(render, fail);
  render();
  return () => {
    offList();
    for (const stop of watching.values()) stop();
  };
}
