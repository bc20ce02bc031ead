// The connection as the user sees it: a banner while the server cannot be reached, with
// "Retry now", and what the page shows reloaded once the connection is back (the bus
// resubscribes the trackers by itself).

import { bus } from "./bus.js";

const SHOW_AFTER_MS = 700; // a reconnect quicker than this shows no banner

export function startConnectionBanner({ onReconnected }) {
  const banner = document.getElementById("offline");
  const retry = document.getElementById("offline-retry");
  let timer = null;
  bus.on("status", (status) => {
    if (status === "open") {
      clearTimeout(timer);
      timer = null;
      banner.hidden = true;
      retry.disabled = false;
    } else if (status === "reconnecting" && banner.hidden && !timer) {
      timer = setTimeout(() => {
        timer = null;
        if (bus.status !== "open") banner.hidden = false;
      }, SHOW_AFTER_MS);
    } else if (status === "reconnecting") {
      retry.disabled = false;
    }
  });
  retry.addEventListener("click", () => {
    retry.disabled = true; // enabled again at the next attempt's outcome
    bus.reconnectNow();
  });
  bus.on("reconnected", () => onReconnected());
}
