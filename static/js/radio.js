// The Radio view: the internet radio stations staff listed (in the page's boot data), each
// playable here in an <audio> element of its own (the queue's player is paused meanwhile).
// The page's Content-Security-Policy allows media from exactly these stations' origins.

import { h, clear } from "./ui.js";

const boot = JSON.parse(document.getElementById("boot")?.textContent || "{}");

export function radioView(view) {
  const stations = boot.radio || [];
  const audio = h("audio#radio-audio", { controls: true, preload: "none" });
  const now = h("p#radio-now.muted", "Pick a station.");
  const list = h("ul.radio-list",
    stations.map((station) => h("li",
      h("button.btn.radio-station", {
        type: "button",
        dataset: { station: String(station.id) },
        onclick: () => {
          document.getElementById("audio")?.pause();
          audio.src = station.stream_url;
          now.textContent = `Playing ${station.name}`;
          audio.play().catch(() => { now.textContent = `${station.name} cannot be played here.`; });
        },
      }, station.name),
      station.homepage_url ? h("a.muted", { href: station.homepage_url, target: "_blank", rel: "noopener noreferrer" }, " homepage") : null,
    )));
  clear(view, h("div.view-head", h("h1", "Radio")),
    stations.length ? [now, audio, list] : h("p.empty", "No stations yet: staff add them in the admin."));
  return () => { audio.pause(); audio.removeAttribute("src"); };
}
