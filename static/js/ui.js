// Small DOM helpers shared by the views.

import { coverSources } from "./covers.js";

/** h("div#x.card", {onclick, dataset: {...}, ...attrs}, ...children) -> element. */
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

// -- dialogs (the app's own: no native prompt/confirm/alert) -------------------------------------------

/**
 * A modal <dialog> with `title`, `body` (nodes) and `actions` ([{label, value, kind}]): resolves
 * with the value of the action pressed, or null when closed (Escape, ✕, outside). `onOpen(dialog)`
 * may focus a field; `collect()` (when given) makes the value of a "submit" action.
 */
export function dialog({ title, body = [], actions = [{ label: "Close", value: null }], collect = null, id = null, wide = false }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const form = h("form.dlg-form", { method: "dialog" });
    const box = h("dialog.dlg", { id, class: wide ? "wide" : null, "aria-labelledby": "dlg-title" },
      form);
    const close = h("button.icon-btn.small.dlg-close", { type: "button", "aria-label": "Close", onclick: () => box.close("") }, "✕");
    const buttons = actions.map((a, i) => h(`button.btn.${a.kind || (i === actions.length - 1 ? "primary" : "ghost")}`,
      { type: a.submit ? "submit" : "button", value: String(i), dataset: { action: a.name || String(i) },
        onclick: a.submit ? null : () => finish(a.value) }, a.label));
    append(form, [h("div.dlg-head", h("h2#dlg-title", title), close), h("div.dlg-body", body), h("div.dlg-actions", buttons)]);
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      resolve(value);
      if (box.open) box.close();
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const action = actions.find((a) => a.submit);
      finish(collect ? collect() : action?.value ?? true);
    });
    box.addEventListener("close", () => {
      finish(null);
      box.remove();
      if (opener && document.contains(opener)) opener.focus();
    });
    box.addEventListener("click", (e) => {
      if (e.target === box) box.close(""); // a click on the backdrop
    });
    document.body.append(box);
    box.showModal();
    (box.querySelector("[autofocus]") || box.querySelector("input, textarea, select") || buttons[buttons.length - 1])?.focus();
  });
}

/** Ask for one line of text: resolves with the trimmed text, or null. */
export function askText(title, { label = title, value = "", placeholder = "", maxlength = 500, ok = "OK" } = {}) {
  const input = h("input.dlg-input", { type: "text", value, placeholder, maxlength: String(maxlength), "aria-label": label, required: true });
  return dialog({
    title,
    body: [h("label.dlg-label", label, input)],
    actions: [{ label: "Cancel", value: null }, { label: ok, submit: true, name: "ok" }],
    collect: () => input.value.trim() || null,
  });
}

/** Ask yes or no: resolves true only when `ok` was pressed. */
export async function confirmDialog(title, message, { ok = "OK", danger = false } = {}) {
  const answer = await dialog({
    title,
    body: [h("p", message)],
    actions: [{ label: "Cancel", value: false }, { label: ok, value: true, kind: danger ? "danger" : "primary", name: "ok" }],
  });
  return answer === true;
}

// -- screen readers -------------------------------------------------------------------------------------

/** Say `text` through the polite live region (track changes, results). */
export function announce(text) {
  let region = document.getElementById("announcer");
  if (!region) {
    region = h("div#announcer.sr-only", { "aria-live": "polite", "aria-atomic": "true" });
    document.body.append(region);
  }
  region.textContent = "";
  setTimeout(() => (region.textContent = text), 50);
}
