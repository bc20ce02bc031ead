// "Recently played": the user's plays, most recent first, and their most played tracks
// (play.list and play.top, recorded by plays.js on the devices that played them).

import { bus } from "./bus.js";
import { act } from "./session.js";
import { prime } from "./tracks.js";
import { clear, fail, fmtTime, h, plural, spinner } from "./ui.js";

const RECENT = 50;
const TOP = 20;

function playTracks(ids, index) {
  return act("player.queue.replace", { tracks: ids, index, play: true }).catch(fail);
}

function ago(iso) {
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 24 * 60) return `${Math.round(minutes / 60)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function row(t, i, ids, note) {
  const onPlay = () => playTracks(ids, i);
  return h("div.track-row",
    { dataset: { track: t.id }, role: "row", ondblclick: onPlay },
    h("span.tr-num.muted", i + 1),
    h("button.tr-play", { type: "button", "aria-label": `Play ${t.title}`, onclick: onPlay }, "▶"),
    h("span.tr-main", h("span.tr-title", t.title), h("span.tr-artist.muted", t.artist || t.album_artist?.name || "")),
    t.album ? h("a.tr-album.muted", { href: `#/album/${t.album.id}` }, t.album.title) : h("span.tr-album"),
    h("span.tr-note.muted", note),
    h("span.tr-dur.muted", fmtTime(t.duration_ms)));
}

function list(cls, entries, note) {
  const tracks = entries.map((e) => e.track);
  prime(tracks);
  const ids = tracks.map((t) => t.id);
  return h(`div.track-list.${cls}`, entries.map((e, i) => row(e.track, i, ids, note(e))));
}

export async function historyView(view) {
  clear(view, h("div.view-head", h("h1", "Recently played")), spinner());
  const [recent, top] = await Promise.all([
    bus.request("play.list", { limit: RECENT }),
    bus.request("play.top", { limit: TOP }),
  ]);
  const heard = recent.items.filter((p) => p.submission);
  clear(view,
    h("div.view-head", h("h1", "Recently played")),
    heard.length
      ? list("history-recent", heard, (p) => ago(p.played_at))
      : h("p.empty.muted", "Nothing played yet: tracks show here once half of them (or 4 minutes) played."),
    top.items.length ? [h("h2", "Most played"), list("history-top", top.items, (e) => plural(e.plays, "play"))] : null);
}
