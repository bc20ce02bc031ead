// Cover image addresses. A cover-art id names an image whose content never changes (a new
// cover gets a new id), so `covers/{id}` may be cached for good and a changed cover shows
// at once; `srcset` asks for 1x, 2x and 3x renditions for sharp phone and retina screens.
// The server fits renditions into these sizes (bridge.files.BUCKETS).

const BUCKETS = [32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1200];

const bucket = (px) => BUCKETS.find((b) => b >= px) ?? BUCKETS[BUCKETS.length - 1];

/** The address of cover `coverId` fitted into `px` pixels. */
export function coverUrl(coverId, px) {
  return `/api/v1/covers/${Number(coverId)}?size=${bucket(px)}`;
}

/** `{src, srcset}` for an image shown `cssPx` CSS pixels wide. */
export function coverSources(coverId, cssPx) {
  const seen = new Set();
  const candidates = [];
  for (const density of [1, 2, 3]) {
    const size = bucket(cssPx * density);
    if (seen.has(size)) continue;
    seen.add(size);
    candidates.push(`${coverUrl(coverId, size)} ${density}x`);
  }
  return { src: coverUrl(coverId, cssPx), srcset: candidates.join(", ") };
}
