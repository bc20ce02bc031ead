// The app: connects, registers this device, routes #/... to views, and wires the
// panels (queue, devices), the connection indicator and the phone menu.

import { bus } from "./bus.js";
import * as clock from "./clock.js";
import { devicesComponent, promptDeviceRename } from "./devices.js";
import * as engine from "./engine.js";
import { albumsView, albumView, artistsView, artistView, genresView, searchView, startSearchBox } from "./library.js";
import { librariesView } from "./libraries.js";
import { partyView } from "./party.js";
import * as playerbar from "./playerbar.js";
import { queueComponent } from "./queue.js";
import * as scans from "./scans.js";
import { session, register, restoreParty, onChange } from "./session.js";
import { clear, fail, h, toast } from "./ui.js";
import { favouritesView, loadFavourites, playlistsView, playlistView, subsonicView } from "./userdata.js";

const view = document.getElementById("view");
const panel = document.getElementById("panel");

// -- routing ---------------------------------------------------------------------------------------

const routes = [
  [/^\/?$/, () => albumsView(view, {}), "albums"],
  [/^\/albums$/, (m, q) => albumsView(view, { order: q.get("order") || "name" }), "albums"],
  [/^\/artists$/, (m, q) => artistsView(view, { order: q.get("order") || "name" }), "artists"],
  [/^\/artist\/(\d+)$/, (m) => artistView(view, { id: m[1] }), "artists"],
  [/^\/album\/(\d+)$/, (m) => albumView(view, { id: m[1] }), "albums"],
  [/^\/genres$/, () => genresView(view), "genres"],
  [/^\/genre\/(.+)$/, (m, q) => albumsView(view, { genre: decodeURIComponent(m[1]), order: q.get("order") || "name" }), "genres"],
  [/^\/search(?:\/(.*))?$/, (m) => searchView(view, { q: decodeURIComponent(m[1] || "") }), "search"],
  [/^\/playlists$/, () => playlistsView(view), "playlists"],
  [/^\/playlist\/(\d+)$/, (m) => playlistView(view, { id: m[1] }), "playlists"],
  [/^\/favourites$/, () => favouritesView(view), "favourites"],
  [/^\/subsonic$/, () => subsonicView(view), "subsonic"],
  [/^\/devices$/, () => devicesPage(), "devices"],
  [/^\/party(?:\/([\w-]+))?$/, (m) => partyView(view, { id: m[1] || null }), "party"],
  [/^\/libraries$/, () => (session.user.is_staff ? librariesView(view) : notFound()), "libraries"],
];

let cleanup = null;
let lastPath = null;

function notFound() {
  clear(view, h("p.empty", "Nothing here. ", h("a", { href: "#/albums" }, "Back to albums")));
}

function devicesPage() {
  clear(view, h("div.view-head", h("h1", "Devices")), h("p.muted", "Everything you play follows you: control another device from here, or move the music between devices."));
  const box = h("div");
  view.append(box);
  return devicesComponent(box);
}

async function route() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const samePage = path.startsWith("/search") && lastPath?.startsWith("/search");
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
  if (!samePage) {
    clear(view);
    view.scrollTop = 0;
    window.scrollTo(0, 0);
  }
  lastPath = path;
  document.body.classList.remove("nav-open");
  for (const [pattern, render, nav] of routes) {
    const match = path.match(pattern);
    if (!match) continue;
    for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === nav);
    try {
      const result = await render(match, params);
      if (lastPath === path) cleanup = result;
      else if (typeof result === "function") result();
    } catch (err) {
      fail(err);
    }
    return;
  }
  notFound();
}

// -- side panel (queue or devices) --------------------------------------------------------------------

let panelKind = null;
let panelCleanup = null;

function togglePanel(kind) {
  panelCleanup?.();
  panelCleanup = null;
  if (panelKind === kind) {
    panelKind = null;
    panel.hidden = true;
    document.body.classList.remove("panel-open");
  } else {
    panelKind = kind;
    panel.hidden = false;
    document.body.classList.add("panel-open");
    const close = h("button.icon-btn.panel-close", { type: "button", "aria-label": "Close panel", onclick: () => togglePanel(kind) }, "✕");
    const body = h("div.panel-body");
    clear(panel, close, body);
    if (kind === "devices") body.append(h("h2", "Devices"));
    panelCleanup = kind === "queue" ? queueComponent(body) : devicesComponent(body, { compact: true });
  }
  document.getElementById("pb-queue").classList.toggle("on", panelKind === "queue");
  document.getElementById("pb-devices").classList.toggle("on", panelKind === "devices");
}

// -- connection indicator ------------------------------------------------------------------------------

function showStatus(status) {
  const el = document.getElementById("conn");
  el.dataset.status = status;
  el.textContent = { open: "live", connecting: "connecting…", reconnecting: "reconnecting…" }[status] || status;
  el.title = status === "open" ? "Connected: changes arrive live" : "Not connected: retrying";
}

// -- boot ----------------------------------------------------------------------------------------------

function start() {
  bus.on("status", showStatus);
  bus.on("system.session.welcome", () => {
    register().catch(fail);
    loadFavourites(true).catch(() => {});
  });
  bus.on("system.announcement.created", (p) => toast(p.text, "info", 10000));
  document.addEventListener("audio-error", () => toast("This track cannot be played here.", "error"));
  onChange(() => {
    document.getElementById("device-name").textContent = session.deviceName || "…";
  });
  document.getElementById("device-name").addEventListener("click", () => promptDeviceRename());
  document.getElementById("pb-queue").addEventListener("click", () => togglePanel("queue"));
  document.getElementById("pb-devices").addEventListener("click", () => togglePanel("devices"));
  document.getElementById("nav-open").addEventListener("click", () => document.body.classList.add("nav-open"));
  document.getElementById("nav-close").addEventListener("click", () => document.body.classList.remove("nav-open"));
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) {
      e.preventDefault();
      document.getElementById("search").focus();
    }
  });
  startSearchBox();
  scans.start();
  engine.start();
  playerbar.start();
  restoreParty();
  window.addEventListener("hashchange", route);
  clock.start(bus);
  bus.start();
  route();
}

start();
