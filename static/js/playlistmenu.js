// "Add to playlist": a small menu of your playlists under the button that opened it, and
// "New playlist…". Its own module, so the track menu and the playlist views can both use it.

import { bus } from "./bus.js";
import { askText, button, clear, fail, h, plural, spinner, toast } from "./ui.js";

// -- add to playlist ------------------------------------------------------------------------------------

let openMenu = null;

function closeMenu() {
  openMenu?.remove();
  openMenu = null;
  document.removeEventListener("pointerdown", outside, true);
  document.removeEventListener("keydown", onKey, true);
}

function outside(e) {
  if (openMenu && !openMenu.contains(e.target)) closeMenu();
}

function onKey(e) {
  if (e.key === "Escape") closeMenu();
}

/** A small menu under `anchor`: your playlists, and "New playlist…". */
export async function addToPlaylistMenu(trackIds, anchor) {
  closeMenu();
  const list = h("div.pl-menu-items", spinner());
  const menu = h("div.pl-menu", { role: "menu", "aria-label": "Add to playlist" }, h("p.pl-menu-head.muted.small", "Add to playlist"), list);
  const box = anchor.getBoundingClientRect();
  menu.style.top = `${Math.min(box.bottom + 4, window.innerHeight - 260)}px`;
  menu.style.left = `${Math.max(8, Math.min(box.right - 240, window.innerWidth - 250))}px`;
  document.body.append(menu);
  openMenu = menu;
  setTimeout(() => {
    document.addEventListener("pointerdown", outside, true);
    document.addEventListener("keydown", onKey, true);
  });
  const add = async (playlist) => {
    await bus.request("playlist.add", { playlist: playlist.id, tracks: trackIds });
    closeMenu();
    toast(`Added ${plural(trackIds.length, "track")} to ${playlist.name}`);
  };
  const create = async () => {
    closeMenu();
    const name = await askText("New playlist", { label: "Name of the new playlist", ok: "Create" });
    if (!name) return;
    const playlist = await bus.request("playlist.create", { name: name.slice(0, 500), tracks: trackIds });
    closeMenu();
    toast(`Created ${playlist.name} with ${plural(trackIds.length, "track")}`);
  };
  try {
    const mine = (await bus.request("playlist.list", {})).filter(ownedByMe);
    if (openMenu !== menu) return;
    clear(list,
      mine.map((p) => button(p.name, () => add(p), { cls: "pl-menu-item", role: "menuitem", dataset: { playlist: p.id } })),
      button("＋ New playlist…", create, { cls: "pl-menu-item pl-menu-new", role: "menuitem" }));
  } catch (err) {
    closeMenu();
    fail(err);
  }
}

export function ownedByMe(playlist) {
  return playlist.owner?.username === bootUsername();
}

function bootUsername() {
  try {
    return JSON.parse(document.getElementById("boot").textContent).username;
  } catch {
    return null;
  }
}
