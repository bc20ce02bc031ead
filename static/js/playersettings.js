// The user's player settings (the same on every device, kept on the server:
// account.settings.get/update): ReplayGain off, track or album. The account page calls
// `saveReplayGain`; the engine applies the mode.

import { bus } from "./bus.js";
import { setReplayGainMode } from "./engine.js";

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
