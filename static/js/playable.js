// What this browser plays as it is (audio.canPlayType, asked once per type), and the stream
// query that asks the server for a transcode only when needed: a file this browser cannot
// decode (WMA, AIFF, ALAC in Chromium), or one over the device's quality limit
// (player.quality.set: original, high = 320 kbit/s at most, mobile = 96).

const probe = document.createElement("audio");
const answers = new Map();

const FORMAT_TYPES = {
  mp3: "audio/mpeg",
  flac: "audio/flac",
  ogg: 'audio/ogg; codecs="vorbis"',
  opus: 'audio/ogg; codecs="opus"',
  m4a: 'audio/mp4; codecs="mp4a.40.2"',
  wav: "audio/wav",
  aiff: "audio/aiff",
  wma: "audio/x-ms-wma",
};
const M4A_CODEC_TYPES = { aac: 'audio/mp4; codecs="mp4a.40.2"', alac: 'audio/mp4; codecs="alac"' };

export const QUALITY_MAX_KBPS = { original: 0, high: 320, mobile: 96 };
export const QUALITIES = Object.keys(QUALITY_MAX_KBPS);

export function canPlay(type) {
  if (!answers.has(type)) answers.set(type, probe.canPlayType(type) !== "");
  return answers.get(type);
}

/** The MIME type (with codec) of a track's file, from the catalogue's format and codec. */
export function typeOf(track) {
  if (track.format === "m4a") return M4A_CODEC_TYPES[track.codec] || FORMAT_TYPES.m4a;
  return FORMAT_TYPES[track.format] || `audio/${track.format}`;
}

/** The codec the server should transcode to for this browser. */
export function transcodeCodec() {
  if (canPlay(FORMAT_TYPES.opus)) return "opus";
  return canPlay("audio/mpeg") ? "mp3" : "aac";
}

/** The file formats this browser plays, for a track not loaded yet (the server decides). */
function playableFormats() {
  return Object.keys(FORMAT_TYPES).filter((format) => canPlay(FORMAT_TYPES[format]));
}

/** The query string for a track's stream ("" for the file as it is). */
export function streamQuery(track, quality = "original") {
  const max = QUALITY_MAX_KBPS[quality] || 0;
  const params = new URLSearchParams();
  if (track?.format) {
    const playable = canPlay(typeOf(track));
    if (playable && !max) return "";
    params.set("format", transcodeCodec());
    if (max) params.set("max_bitrate", String(max));
    if (playable) params.set("accept", track.format); // the original when it is within the limit
  } else {
    params.set("format", transcodeCodec());
    if (max) params.set("max_bitrate", String(max));
    params.set("accept", playableFormats().join(","));
  }
  return `?${params}`;
}
