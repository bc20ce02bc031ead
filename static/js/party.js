// Listening parties: a shared `party` tracker whose queue and playback every member's
// page plays (the audio source switches to it). The host may let members control it.
// Share link: /#/party/<tracker id>; opening it offers to join.

import { bus } from "./bus.js";
import { livePosition } from "./clock.js";
import { audio } from "./engine.js";
import { session, act, audioSourceId, setParty, onChange } from "./session.js";
import { positionReport } from "./sync.js";
import * as trackers from "./trackers.js";
import { known, track as loadTrack } from "./tracks.js";
import { button, clear, fail, h, plural, toast } from "./ui.js";

export function partyLink(id) {
  return `${location.origin}/#/party/${id}`;
}

async function createParty(name) {
  const created = await bus.request("party.session.create", name ? { name } : {});
  const partyId = created.tracker;
  // Bring what this device plays into the party, where its audio is. The audio follows
  // the party before this device's player pauses, and keeps playing meanwhile: no reload,
  // no gap (engine.js waits for the party's state; the track is the same).
  const own = trackers.get(session.deviceId)?.state;
  if (own?.queue?.length) {
    const here = audioSourceId() === session.deviceId ? positionReport(audio) : {};
    const position = here.position_ms === undefined ? { position_ms: Math.round(livePosition(own)) } : here;
    await act("player.queue.replace", { tracks: own.queue, index: own.index ?? 0, ...position, play: !!own.playing }, partyId);
    setParty(partyId);
    if (own.playing) await act("player.playback.pause", {}, session.deviceId).catch(() => {});
  }
  setParty(partyId);
  location.hash = `#/party/${partyId}`;
}

async function joinParty(id) {
  await act("party.session.join", {}, id);
  const own = trackers.get(session.deviceId)?.state;
  if (own?.playing) await act("player.playback.pause", {}, session.deviceId).catch(() => {});
  setParty(id);
}

async function leaveParty(id) {
  await act("party.session.leave", {}, id);
  if (session.partyId === id) setParty(null);
  location.hash = "#/party";
}

export function partyView(view, { id = null } = {}) {
  let stop = null;
  let rendered = null;

  async function overview() {
    clear(view, h("div.view-head", h("h1", "Listening party")));
    const nameInput = h("input", { type: "text", placeholder: "Party name (optional)", maxlength: "100", "aria-label": "Party name" });
    view.append(
      h("div.panel-card",
        h("p", "Listen together: everyone in the party hears the same track at the same moment, on their own device."),
        h("div.row", nameInput, button("Start a party", () => createParty(nameInput.value.trim()), { cls: "btn primary", id: "party-create" }))));
    let parties = [];
    try {
      parties = (await bus.request("tracker.list", { kind: "party" })).filter((p) => !p.state.ended);
    } catch {}
    if (parties.length) {
      view.append(h("h2", "Your parties"), h("div.devices", parties.map((p) =>
        h("a.device-card", { href: `#/party/${p.tracker}` }, h("strong", p.state.name), h("span.muted", ` · ${plural(p.state.members.length, "member")}`),
          p.tracker === session.partyId ? h("span.badge.accent", "listening") : null))));
    }
  }

  function render(entry) {
    const s = entry.state;
    if (!s) return;
    const key = JSON.stringify([s, session.partyId]);
    if (key === rendered) return;
    rendered = key;
    const me = session.user.id;
    const isHost = s.host === me;
    const listening = session.partyId === entry.id;
    const trackId = s.index !== null && s.index !== undefined ? s.queue[s.index] : null;
    const t = trackId !== null ? known(trackId) : null;
    if (trackId !== null && !t) loadTrack(trackId).then(() => ((rendered = null), render(entry)));
    const link = partyLink(entry.id);
    clear(view,
      h("div.view-head", h("div", h("p.muted.small", "Listening party"), h("h1", s.name || "Party"))),
      s.ended ? h("p.empty", "This party has ended.") : [
        h("div.panel-card",
          h("p", isHost ? "You are the host. " : "", plural(s.members.length, "member"), " · ",
            s.members_control ? "everyone can control playback" : "only the host controls playback"),
          trackId !== null ? h("p", s.playing ? "Playing: " : "Paused: ", h("strong", t?.title || "…"), t ? h("span.muted", ` · ${t.artist}`) : null) : h("p.muted", "Nothing queued yet: play an album while listening to the party."),
          h("div.share",
            h("label.small.muted", { for: "party-link" }, "Share this link"),
            h("div.row",
              h("input#party-link", { type: "text", readonly: true, value: link, onclick: (e) => e.target.select() }),
              button("Copy", async () => {
                await navigator.clipboard.writeText(link).then(() => toast("Link copied"), () => toast("Select the link and copy it"));
              }, { cls: "btn" }))),
          isHost ? h("label.switch",
            h("input#party-control", { type: "checkbox", checked: !!s.members_control, onchange: (e) => act("party.control.set", { members_control: e.target.checked }, entry.id).catch(fail) }),
            " Let members control playback") : null,
          h("div.actions",
            listening
              ? h("span.pill", { id: "party-listening" }, "● Listening here")
              : button("Listen here", () => setParty(entry.id), { cls: "btn primary" }),
            listening ? button("Stop listening here", () => setParty(null), { cls: "btn ghost" }) : null,
            button("Leave party", () => leaveParty(entry.id), { cls: "btn ghost" }),
            isHost ? button("End party", async () => {
              await act("party.session.end", {}, entry.id);
              setParty(null);
            }, { cls: "btn danger" }) : null)),
      ]);
  }

  function showParty() {
    stop?.();
    stop = trackers.watch(id, (entry, change) => {
      if (change.error) {
        stop?.();
        stop = null;
        if (change.error.details?.reason === "party_ended") clear(view, h("p.empty", "This party has ended."));
        else if (change.error.code === "forbidden") invite();
        else clear(view, h("p.empty", change.error.code === "not_found" ? "No such party." : change.error.message));
        return;
      }
      render(entry);
    });
  }

  function invite() {
    clear(view,
      h("div.view-head", h("h1", "Listening party")),
      h("div.panel-card",
        h("p", "You are invited to a listening party: you will hear what the party plays, in step with everyone else."),
        button("Join the party", async () => {
          await joinParty(id);
          showParty();
        }, { cls: "btn primary", id: "party-join" })));
  }

  if (id) showParty();
  else overview();
  const off = onChange(() => {
    rendered = null;
    const entry = id && trackers.get(id);
    if (entry?.state) render(entry);
  });
  return () => {
    off();
    stop?.();
  };
}
