// Colour maps as 256-entry RGB lookup tables, interpolated linearly between a
// few hand-written control points.
//  - SEQUENTIAL: a viridis-like map (dark violet -> blue -> teal -> green ->
//    yellow), monotonic in lightness, for gate values in [0, 1].
//  - DIVERGING: blue -> near-white -> red, symmetric in lightness, for
//    differences centred on 0.

const SEQUENTIAL_POINTS = [
  [0.000, 68, 1, 84],
  [0.125, 72, 40, 120],
  [0.250, 62, 73, 137],
  [0.375, 49, 104, 142],
  [0.500, 38, 130, 142],
  [0.625, 31, 158, 137],
  [0.750, 53, 183, 121],
  [0.875, 110, 206, 88],
  [1.000, 253, 231, 37],
];

const DIVERGING_POINTS = [
  [0.00, 5, 48, 97],
  [0.15, 33, 102, 172],
  [0.30, 103, 169, 207],
  [0.42, 189, 218, 234],
  [0.50, 242, 240, 236],
  [0.58, 250, 206, 187],
  [0.70, 239, 138, 98],
  [0.85, 178, 24, 43],
  [1.00, 103, 0, 31],
];

function buildLut(points) {
  const lut = new Uint8ClampedArray(256 * 3);
  let seg = 0;
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    while (seg < points.length - 2 && t > points[seg + 1][0]) seg++;
    const [t0, r0, g0, b0] = points[seg];
    const [t1, r1, g1, b1] = points[seg + 1];
    const u = Math.min(1, Math.max(0, (t - t0) / (t1 - t0)));
    lut[i * 3] = r0 + (r1 - r0) * u;
    lut[i * 3 + 1] = g0 + (g1 - g0) * u;
    lut[i * 3 + 2] = b0 + (b1 - b0) * u;
  }
  return lut;
}

export const SEQUENTIAL = buildLut(SEQUENTIAL_POINTS);
export const DIVERGING = buildLut(DIVERGING_POINTS);

/** LUT index for value v mapped from [lo, hi] to [0, 255] (clamped; NaN -> 0). */
export function lutIndex(v, lo, hi) {
  const t = (v - lo) / (hi - lo);
  if (!(t > 0)) return 0;
  if (t >= 1) return 255;
  return (t * 255 + 0.5) | 0;
}

/** CSS colour string for value v in [lo, hi]. */
export function cssColor(lut, v, lo = 0, hi = 1) {
  const i = lutIndex(v, lo, hi) * 3;
  return `rgb(${lut[i]},${lut[i + 1]},${lut[i + 2]})`;
}

/** Draws a horizontal gradient of the LUT over the whole canvas. */
export function drawLegend(canvas, lut) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(256, 1);
  for (let i = 0; i < 256; i++) {
    img.data[i * 4] = lut[i * 3];
    img.data[i * 4 + 1] = lut[i * 3 + 1];
    img.data[i * 4 + 2] = lut[i * 3 + 2];
    img.data[i * 4 + 3] = 255;
  }
  const tmp = new OffscreenCanvas(256, 1);
  tmp.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}
