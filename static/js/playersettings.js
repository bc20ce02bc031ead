// The user's player settings (the same on every device, kept on the server:
// account.settings.get/update): ReplayGain off, track or album, chosen with
// `replayGainControl` (on the devices page); the engine applies the mode.

import { bus } from "./bus.js";
import { setReplayGainMode } from "./engine.js";
import { fail, h, toast } from "./ui.js";

export const REPLAYGAIN_MODES = ["off", "track", "album"];
export const playerSettings = { replaygain: "track" };

function apply(settings) {
  Object.assign(playerSettings, settings);
  setReplayGainMode(playerSettings.replaygain);
  return playerSettings;
}

/** Read the settings from the server (on every connection: another device may have changed them). */
export function loadPlayerSettings() {
  return bus.request("account.settings.get").then(apply);
}

export function saveReplayGain(mode) {
  return bus.request("account.settings.update", { replaygain: mode }).then(apply);
}

const LABELS = { off: "Off", track: "Per track", album: "Per album" };

/** A labelled control for the ReplayGain mode (saved for every device of the user). */
export function replayGainControl() {
  const select = h("select#replaygain-mode", { "aria-label": "Volume levelling (ReplayGain)" },
    REPLAYGAIN_MODES.map((mode) => h("option", { value: mode, selected: mode === playerSettings.replaygain }, LABELS[mode])));
  select.addEventListener("change", () => saveReplayGain(select.value).then(
    () => toast(`Volume levelling: ${LABELS[playerSettings.replaygain].toLowerCase()}`), fail));
  loadPlayerSettings().then(() => (select.value = playerSettings.replaygain), () => {});
  return h("label.setting", "Volume levelling (ReplayGain) ", select);
}
