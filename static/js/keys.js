// Keyboard and screen readers, app-wide: the skip link, focus on the page heading after a
// navigation, track changes announced (polite live region), Escape closes what is open
// (a menu, then the side panel, then the phone menu). Space and the arrows: playerbar.js.

import { announce } from "./ui.js";

/** After a navigation: focus the new page's heading (screen readers read where they are). */
export function focusHeading(view) {
  const search = document.getElementById("search");
  if (document.activeElement === search) return; // typing a search: stay in the box
  const heading = view.querySelector("h1");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
}

export function start({ closePanel }) {
  const view = document.getElementById("view");
  document.getElementById("skip-link")?.addEventListener("click", (e) => {
    e.preventDefault(); // the hash is the router's
    const heading = view.querySelector("h1");
    if (heading) heading.tabIndex = -1;
    (heading || view).focus();
  });
  // The player bar's title changes with the track, on any device: say it.
  const title = document.getElementById("pb-title");
  const artist = document.getElementById("pb-artist");
  let said = title.textContent;
  new MutationObserver(() => {
    const text = title.textContent;
    if (!text || text === "…" || text === said) return;
    said = text;
    if (text !== "Nothing playing") setTimeout(() => announce(`Now playing: ${text}${artist.textContent ? `, ${artist.textContent}` : ""}`), 200);
  }).observe(title, { childList: true, characterData: true, subtree: true });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    if (document.querySelector("dialog[open]") || document.querySelector(".pl-menu")) return; // they close themselves
    if (!document.getElementById("panel").hidden) {
      e.preventDefault();
      closePanel();
    } else if (document.body.classList.contains("nav-open")) {
      document.body.classList.remove("nav-open");
      document.getElementById("nav-open")?.focus();
    }
  });
}
