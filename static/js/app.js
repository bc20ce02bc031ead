// The app: connects, registers this device, routes #/... to views, and wires the
// panels (queue, devices), the connection indicator and the phone menu.

import { accountView } from "./account.js";
import { bus } from "./bus.js";
import * as clock from "./clock.js";
import { startConnectionBanner } from "./connection.js";
import { devicesComponent } from "./devices.js";
import * as engine from "./engine.js";
import { historyView } from "./history.js";
import { albumsView, albumView, artistsView, artistView, genresView, searchView, startSearchBox } from "./library.js";
import { librariesView } from "./libraries.js";
import * as mediasession from "./mediasession.js";
import * as keys from "./keys.js";
import { songsView } from "./songs.js";
import { partyView } from "./party.js";
import * as playerbar from "./playerbar.js";
import { loadPlayerSettings, replayGainControl } from "./playersettings.js";
import * as plays from "./plays.js";
import { queueComponent } from "./queue.js";
import { radioView } from "./radio.js";
import * as scans from "./scans.js";
import { session, register, restoreParty, onChange, startAfresh } from "./session.js";
import { clear, fail, h, toast } from "./ui.js";
import { favouritesView, loadFavourites, playlistsView, playlistView, subsonicView } from "./userdata.js";

const view = document.getElementById("view");
const panel = document.getElementById("panel");

// -- routing ---------------------------------------------------------------------------------------

const routes = [
  [/^\/?$/, () => albumsView(view, {}), "albums"],
  [/^\/albums$/, (m, q) => albumsView(view, { params: q }), "albums"],
  [/^\/songs$/, (m, q) => songsView(view, { params: q }), "songs"],
  [/^\/artists$/, (m, q) => artistsView(view, { order: q.get("order") || "name" }), "artists"],
  [/^\/artist\/(\d+)$/, (m) => artistView(view, { id: m[1] }), "artists"],
  [/^\/album\/(\d+)$/, (m) => albumView(view, { id: m[1] }), "albums"],
  [/^\/genres$/, () => genresView(view), "genres"],
  [/^\/genre\/(.+)$/, (m, q) => albumsView(view, { genre: decodeURIComponent(m[1]), params: q }), "genres"],
  [/^\/search(?:\/(.*))?$/, (m, q) => searchView(view, { q: decodeURIComponent(m[1] || ""), kind: q.get("kind") }), "search"],
  [/^\/playlists$/, () => playlistsView(view), "playlists"],
  [/^\/playlist\/(\d+)$/, (m) => playlistView(view, { id: m[1] }), "playlists"],
  [/^\/favourites$/, () => favouritesView(view), "favourites"],
  [/^\/history$/, () => historyView(view), "history"],
  [/^\/subsonic$/, () => subsonicView(view), "subsonic"],
  [/^\/devices$/, (m, q) => devicesPage({ renameThis: q.has("rename") }), "devices"],
  [/^\/party(?:\/([\w-]+))?$/, (m) => partyView(view, { id: m[1] || null }), "party"],
  [/^\/radio$/, () => radioView(view), "radio"],
  [/^\/account$/, () => accountView(view), "account"],
  [/^\/libraries$/, () => (session.user.is_staff ? librariesView(view) : notFound()), "libraries"],
];

let cleanup = null;
let lastPath = null;
let lastQuery = "";
let routedBefore = false;

function notFound() {
  clear(view, h("p.empty", "Nothing here. ", h("a", { href: "#/albums" }, "Back to albums")));
}

function devicesPage({ renameThis = false } = {}) {
  clear(view, h("div.view-head", h("h1", "Devices")), h("p.muted", "Everything you play follows you: control another device from here, or move the music between devices."));
  const box = h("div");
  view.append(box, h("h2", "Playback"), replayGainControl());
  return devicesComponent(box, { renameThis });
}

async function route() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const samePage = path.startsWith("/search") && lastPath?.startsWith("/search") && !query && !lastQuery;
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
  if (!samePage) {
    clear(view);
    view.scrollTop = 0;
    window.scrollTo(0, 0);
  }
  lastPath = path;
  lastQuery = query;
  document.body.classList.remove("nav-open");
  for (const [pattern, render, nav] of routes) {
    const match = path.match(pattern);
    if (!match) continue;
    for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === nav);
    try {
      const result = await render(match, params);
      if (lastPath === path) cleanup = result;
      else if (typeof result === "function") result();
      if (!samePage && lastPath === path && routedBefore) keys.focusHeading(view); // not on the first page: the skip link comes first
      routedBefore = true;
    } catch (err) {
      fail(err);
    }
    return;
  }
  notFound();
}

/** Render the current route again (after a reconnect), keeping the scroll position. */
async function reload() {
  const scroll = [window.scrollY, view.scrollTop];
  lastPath = null;
  await route();
  window.scrollTo(0, scroll[0]);
  view.scrollTop = scroll[1];
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
  startConnectionBanner({ onReconnected: reload });
  bus.on("system.session.welcome", () => {
    register().catch(fail);
    loadFavourites(true).catch(() => {});
    loadPlayerSettings().catch(() => {});
  });
  bus.on("system.announcement.created", (p) => toast(p.text, "info", 10000));
  onChange(() => {
    document.getElementById("device-name").textContent = session.deviceName || "…";
  });
  document.getElementById("device-name").addEventListener("click", () => {
    location.hash = "#/devices?rename";
  });
  bus.on("player.device.forgotten", (p) => {
    startAfresh(p.tracker).then((fresh) => fresh && toast("This device was forgotten; it starts afresh as a new device.", "info", 8000), fail);
  });
  document.getElementById("pb-queue").addEventListener("click", () => togglePanel("queue"));
  document.getElementById("pb-devices").addEventListener("click", () => togglePanel("devices"));
  document.getElementById("nav-open").addEventListener("click", () => document.body.classList.add("nav-open"));
  document.getElementById("nav-close").addEventListener("click", () => document.body.classList.remove("nav-open"));
  // A link to the page already shown changes no hash: close the phone menu all the same.
  document.getElementById("sidebar").addEventListener("click", (e) => e.target.closest("a[href^='#']") && document.body.classList.remove("nav-open"));
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) {
      e.preventDefault();
      document.getElementById("search").focus();
    }
  });
  startSearchBox();
  keys.start({ closePanel: () => panelKind && togglePanel(panelKind) });
  scans.start();
  engine.start();
  plays.start();
  mediasession.start();
  playerbar.start();
  restoreParty();
  window.addEventListener("hashchange", route);
  clock.start(bus);
  bus.start();
  route();
}

start();
