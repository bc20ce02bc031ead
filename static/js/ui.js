// Small DOM helpers shared by the views.

import { coverSources } from "./covers.js";

/** h("div.card#x", {onclick, dataset: {...}, ...attrs}, ...children) -> element. */
export function h(tag, attrs, ...children) {
  const [, name = "div", id, classes] = tag.match(/^([a-z0-9-]*)(?:#([\w-]+))?((?:\.[\w-]+)*)$/i) || [];
  const el = document.createElement(name || "div");
  if (id) el.id = id;
  if (classes) el.className = classes.slice(1).replace(/\./g, " ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "class") el.className += (el.className ? " " : "") + value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function fmtTime(ms) {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  const hours = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${mm.padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

export function fmtDuration(ms) {
  const minutes = Math.round((ms || 0) / 60000);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function plural(n, word, many = word + "s") {
  return `${n} ${n === 1 ? word : many}`;
}

/**
 * An album cover, or a placeholder when there is none or it fails. With `coverId` (the
 * catalogue's `cover`): a versioned address and 1x/2x/3x sources for `size` CSS pixels.
 */
export function cover(albumId, { size = 300, hasCover = true, label = "", coverId = null } = {}) {
  const box = h("div.cover", { role: "img", "aria-label": label ? `Cover of ${label}` : "Cover" });
  // Placeholder: a colour and letter of its own for each album, under the image.
  if (albumId) box.style.setProperty("--hue", String((Number(albumId) * 67) % 360));
  box.append(h("span.cover-ph", { "aria-hidden": "true" }, label ? label.trim().charAt(0).toUpperCase() : "♪"));
  if (albumId && hasCover) {
    const sources = coverId !== null && coverId !== undefined ? coverSources(coverId, size) : { src: `/api/v1/albums/${albumId}/cover?size=${size}` };
    const img = h("img", { ...sources, alt: "", loading: "lazy", decoding: "async" });
    img.addEventListener("error", () => img.remove());
    img.addEventListener("load", () => box.classList.add("has-img"));
    box.append(img);
  }
  return box;
}

export function toast(message, kind = "info", ms = 4000) {
  const box = document.getElementById("toasts");
  const el = h(`div.toast.${kind}`, { role: kind === "error" ? "alert" : "status" }, message);
  box.append(el);
  setTimeout(() => el.classList.add("out"), ms);
  setTimeout(() => el.remove(), ms + 400);
}

/** Show a request's failure; returns undefined so callers can `.catch(fail)`. */
export function fail(err) {
  if (err?.code === "disconnected") toast("Not connected; try again in a moment.", "error");
  else toast(err?.message || String(err), "error");
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A button that runs `fn` and shows failures. */
export function button(label, fn, { cls = "btn", title, ...attrs } = {}) {
  return h(`button.${cls.split(" ").join(".")}`, { type: "button", title, ...attrs, onclick: (e) => Promise.resolve(fn(e)).catch(fail) }, label);
}

export function spinner() {
  return h("div.loading", h("span.spin"), "Loading…");
}
