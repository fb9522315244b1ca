// Soak: 20,000 inferences of the default model through the SDK on frames of
// varying size and layout. After a warm-up that has seen every frame size,
// wasm memory and the heap must not grow at all, and identical frames must
// give bit-identical logits and gates every time.
import { MnasNet } from '../../js/src/index.js';
import { kInternals } from '../../js/src/mnasnet.js';
import { describeIf, wasmMissing } from './helpers.mjs';

const CALLS = Number(process.env.MNAS_SOAK_CALLS || 20000);
// Small frames dominate, as from a thumbnail pipeline; camera-sized ones recur.
const SIZES = [
  [32, 32, 4], [32, 32, 3], [96, 96, 4], [64, 48, 4], [97, 31, 3], [1, 1, 4],
  [160, 120, 4], [33, 200, 3], [320, 240, 4], [640, 480, 4],
];

function frame(w, h, bpp, seed) {
  const data = new Uint8Array(w * h * bpp);
  let s = seed * 2654435761;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { data, width: w, height: h };
}

describeIf(describe, wasmMissing(), 'soak', () => {
  test(`${CALLS} classify calls: memory flat after warm-up, identical input gives identical output`, async () => {
    const net = await MnasNet.load();
    const { exports, memory } = net[kInternals]();
    const frames = SIZES.map(([w, h, bpp], i) => frame(w, h, bpp, i + 1));
    const first = [];
    for (let i = 0; i < frames.length; i++) {
      const r = net.classify(frames[i]);
      first.push({ logits: Float32Array.from(r.logits), gates: r.excitations.map((e) => Float32Array.from(e.values)) });
    }
    const pages = memory.buffer.byteLength;
    const heap = exports.mnas_heap_in_use();
    let mismatches = 0;
    for (let i = 0; i < CALLS; i++) {
      const k = i % frames.length;
      const r = net.classify(frames[k], { views: i % 3 === 0 });
      const ref = first[k];
      let same = r.logits.length === ref.logits.length && r.logits.every((v, j) => v === ref.logits[j]);
      if (i % 97 === 0) {
        same = same && r.excitations.every((e, b) => e.values.every((v, j) => v === ref.gates[b][j]));
      }
      if (!same) mismatches++;
    }
    const grownPages = memory.buffer.byteLength - pages;
    const grownHeap = exports.mnas_heap_in_use() - heap;
    console.log(
      `soak: ${CALLS} calls over ${frames.length} frame sizes; wasm memory ${(pages / 2 ** 20).toFixed(1)} MiB ` +
        `(grew ${grownPages} bytes), heap in use ${(heap / 2 ** 20).toFixed(2)} MiB (grew ${grownHeap} bytes), ` +
        `${mismatches} mismatching results`,
    );
    expect(mismatches).toBe(0);
    expect(grownPages).toBe(0);
    expect(grownHeap).toBe(0);
    net.dispose();
  });
});
