// Memory: inference allocates nothing, dispose() gives back every byte a model
// took, and loading + disposing models in turn does not grow memory.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MnasNet } from '../../js/src/index.js';
import { kInternals } from '../../js/src/mnasnet.js';
import { JS, describeIf, wasmMissing } from './helpers.mjs';

const skip = wasmMissing();
const modelPath = resolve(JS, 'dist/mnasnet_a1_cifar10.onnx');

function image(seed, w = 32, h = 32) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 17) & 255;
  return { data, width: w, height: h };
}

describeIf(describe, skip, 'memory', () => {
  let bytes;
  beforeAll(() => {
    bytes = new Uint8Array(readFileSync(modelPath));
  });

  // The scalar build runs ~100 ms per image on a slow box: fewer calls there.
  for (const [wasm, calls] of [['simd', 2000], ['scalar', 200]]) {
    test(`${calls} classify calls after warm-up do not grow wasm memory or the heap (${wasm})`, async () => {
      const net = await MnasNet.load(bytes, { wasm });
      const { exports, memory } = net[kInternals]();
      // Warm-up: the first classify and the first NCHW run() allocate their
      // input buffers once; after that nothing may grow.
      const t = new Float32Array(3 * 96 * 96);
      for (let i = 0; i < 5; i++) net.classify(image(i));
      net.run(t);
      const pages = memory.buffer.byteLength;
      const heap = exports.mnas_heap_in_use();
      for (let i = 0; i < calls; i++) {
        const r = net.classify(image(i), { views: i % 2 === 0 });
        if (i % 100 === 0) expect(r.top).toHaveLength(5);
      }
      for (let i = 0; i < 20; i++) net.run(t, { layout: i % 2 ? 'NHWC' : 'NCHW' });
      expect(memory.buffer.byteLength).toBe(pages);
      expect(exports.mnas_heap_in_use()).toBe(heap);
      net.dispose();
    });
  }

  test('dispose() returns the heap to its value before the model was created', async () => {
    const net = await MnasNet.load(bytes);
    const { exports, baseline } = net[kInternals]();
    expect(exports.mnas_heap_in_use()).toBeGreaterThan(baseline + 5e6); // fp32 weights of 2.6M params
    net.classify(image(1, 640, 480)); // grows the pixel buffer
    net.classify(image(2, 1280, 720)); // and again
    net.dispose();
    expect(exports.mnas_heap_in_use()).toBe(baseline);
  });

  test('loading + disposing 50 models in turn: every dispose is exact', async () => {
    for (let i = 0; i < 50; i++) {
      const net = await MnasNet.load(bytes);
      net.classify(image(i));
      const { exports, baseline } = net[kInternals]();
      net.dispose();
      expect(exports.mnas_heap_in_use()).toBe(baseline);
    }
  });

  test('50 models loaded and freed in one wasm instance do not grow its memory beyond the first', async () => {
    // The SDK gives each model its own instance; this checks the same C calls
    // (create, load, run, free) 50 times over in a single one.
    const host = await MnasNet.load(bytes);
    const { exports: x, memory, baseline } = host[kInternals]();
    host.dispose();
    const u32 = () => new Uint32Array(memory.buffer);
    let pages = 0;
    for (let i = 0; i < 50; i++) {
      const out = x.malloc(4);
      expect(x.mnas_create(out)).toBe(0);
      const m = u32()[out >> 2];
      const p = x.malloc(bytes.length);
      new Uint8Array(memory.buffer).set(bytes, p);
      expect(x.mnas_load(m, p, bytes.length, 0)).toBe(0);
      x.free(p);
      expect(x.mnas_run(m, x.mnas_input_buffer(m), 3 * 96 * 96)).toBe(0);
      x.mnas_free(m);
      x.free(out);
      expect(x.mnas_heap_in_use()).toBe(baseline);
      if (i === 0) pages = memory.buffer.byteLength;
      else expect(memory.buffer.byteLength).toBe(pages);
    }
  });
});
