// Malformed models and bad arguments throw MnasNetError with the right code,
// and never leave the model (or its wasm heap) in a bad state.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { OPTIONS } from '../../js/src/abi.js';
import { MnasNet, MnasNetError } from '../../js/src/index.js';
import { kInternals } from '../../js/src/mnasnet.js';
import { JS, VARIANTS, crc32, describeIf, thrown, wasmMissing } from './helpers.mjs';

const skip = wasmMissing();
const modelPath = resolve(JS, 'dist/mnasnet_a1_cifar10.onnx');


/** A valid 4x4 grey PNG file. */
function pngBytes() {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.from([0, 0, 0, 4, 0, 0, 0, 4, 8, 0, 0, 0, 0]); // 4x4, 8-bit greyscale
  const rows = Buffer.alloc(4 * 5, 0x80).fill(0, 0, 1);
  for (let r = 0; r < 4; r++) rows[r * 5] = 0; // filter byte per row
  return new Uint8Array(Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0)),
  ]));
}

async function loadError(model, options) {
  try {
    const net = await MnasNet.load(model, options);
    net.dispose();
  } catch (e) {
    return e;
  }
  throw new Error('load() did not reject');
}

describeIf(describe, skip, 'errors', () => {
  let bytes;
  beforeAll(() => {
    bytes = new Uint8Array(readFileSync(modelPath));
  });

  describe('malformed model bytes', () => {
    const cases = [
      ['truncated (first half)', () => bytes.slice(0, bytes.length >> 1), 'E_MODEL_FORMAT'],
      ['truncated (first 100 bytes)', () => bytes.slice(0, 100), 'E_MODEL_FORMAT'],
      ['random bytes', () => {
        let s = 12345;
        return Uint8Array.from({ length: 65536 }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 255);
      }, 'E_MODEL_FORMAT'],
      ['a PNG file', pngBytes, 'E_MODEL_FORMAT'],
      ['an unsupported op (Relu renamed Relq)', () => {
        const copy = bytes.slice();
        const needle = Buffer.from('Relu');
        let n = 0;
        for (let i = Buffer.from(copy.buffer).indexOf(needle); i >= 0; i = Buffer.from(copy.buffer).indexOf(needle, i + 4)) {
          copy[i + 3] = 'q'.charCodeAt(0);
          n++;
        }
        expect(n).toBeGreaterThan(0);
        return copy;
      }, 'E_UNSUPPORTED_OP'],
    ];
    for (const [name, make, code] of cases) {
      for (const wasm of VARIANTS) {
        test(`${name} (${wasm}) -> ${code}`, async () => {
          const e = await loadError(make(), { wasm });
          expect(e).toBeInstanceOf(MnasNetError);
          expect(e).toBeInstanceOf(Error);
          expect(e.name).toBe('MnasNetError');
          expect(e.code).toBe(code);
          expect(e.message.length).toBeGreaterThan(10); // the C core's explanation
        });
      }
    }
    test('an unsupported op names the op', async () => {
      const copy = Buffer.from(bytes);
      const e = await loadError(new Uint8Array(Buffer.from(copy.toString('latin1').replaceAll('Relu', 'Relq'), 'latin1')));
      expect(e.code).toBe('E_UNSUPPORTED_OP');
      expect(e.message).toMatch(/Relq/);
    });
    test('empty bytes, missing files, bad argument types and options', async () => {
      expect((await loadError(new ArrayBuffer(0))).code).toBe('E_MODEL_FORMAT');
      expect((await loadError('/nonexistent/model.onnx')).code).toBe('E_IO');
      expect((await loadError(42)).code).toBe('E_ARGUMENT');
      expect((await loadError({})).code).toBe('E_ARGUMENT');
      expect((await loadError(bytes, { wasm: 42 })).code).toBe('E_ARGUMENT');
      expect((await loadError(bytes, { wasm: '/nonexistent/mnasnet.wasm' })).code).toBe('E_IO');
      expect((await loadError(bytes, { wasm: new URL('file:///nonexistent/x.wasm') })).code).toBe('E_IO');
      expect((await loadError(bytes, { mean: [0, 0] , std: [1, 1, 1] })).code).toBe('E_ARGUMENT');
      expect((await loadError(bytes, { mean: [0, 0, 0], std: [1, 0, 1] })).code).toBe('E_ARGUMENT');
      expect((await loadError(bytes, { mean: [0, 0, 0] })).code).toBe('E_ARGUMENT');
      expect((await loadError(bytes, { sourceSize: -1 })).code).toBe('E_ARGUMENT');
      expect((await loadError(bytes, { sourceSize: 1.5 })).code).toBe('E_ARGUMENT');
      expect((await loadError(bytes, 'options')).code).toBe('E_ARGUMENT');
    });
    test('the constructor is not public', () => {
      expect(thrown(() => new MnasNet()).code).toBe('E_ARGUMENT');
    });
    // mnas_options.reference_kernels, which the SDK never sets: the SIMD
    // builds leave those kernels out and must refuse it by name; the scalar
    // build runs them.
    for (const wasm of VARIANTS) {
      test(`reference_kernels through the C API (${wasm})`, async () => {
        const net = await MnasNet.load(bytes, { wasm });
        try {
          const { exports: x, memory } = net[kInternals]();
          const scratch = x.malloc(64);
          const copy = x.malloc(bytes.length);
          try {
            expect(x.mnas_create(scratch)).toBe(0);
            const model = new Uint32Array(memory.buffer)[scratch >> 2];
            const opt = scratch + 16; // mnas_options
            new Uint8Array(memory.buffer).fill(0, opt, opt + OPTIONS.size);
            new Int32Array(memory.buffer)[(opt + OPTIONS.reference_kernels) >> 2] = 1;
            new Uint8Array(memory.buffer).set(bytes, copy);
            const st = x.mnas_load(model, copy, bytes.length, opt);
            const u8 = new Uint8Array(memory.buffer);
            const msgPtr = x.mnas_error(model);
            const msg = Buffer.from(u8.subarray(msgPtr, u8.indexOf(0, msgPtr))).toString();
            if (wasm === 'scalar') {
              expect([st, msg]).toEqual([0, '']);
              expect(x.mnas_num_classes(model)).toBe(10);
            } else {
              expect(st).toBe(1); // MNAS_E_ARG
              expect(msg).toMatch(/^reference_kernels: this build has no reference kernels/);
            }
            x.mnas_free(model);
          } finally {
            x.free(copy);
            x.free(scratch);
          }
        } finally {
          net.dispose();
        }
      });
    }
  });

  describe('bad run/classify arguments', () => {
    let net;
    let image;
    let ref;
    let heap;
    beforeAll(async () => {
      net = await MnasNet.load(bytes);
      image = { data: new Uint8Array(32 * 32 * 4).map((_, i) => (i * 7) & 255), width: 32, height: 32 };
      ref = net.classify(image);
      heap = net[kInternals]().exports.mnas_heap_in_use();
    });
    afterAll(() => net.dispose());

    const cases = [
      ['null', () => null, 'E_ARGUMENT'],
      ['a number', () => 3, 'E_ARGUMENT'],
      ['an object without pixels', () => ({}), 'E_INPUT'],
      ['zero width', () => ({ data: new Uint8Array(0), width: 0, height: 32 }), 'E_INPUT'],
      ['fractional size', () => ({ data: new Uint8Array(32 * 32 * 4), width: 31.5, height: 32 }), 'E_INPUT'],
      ['negative size', () => ({ data: new Uint8Array(32 * 32 * 4), width: -32, height: -32 }), 'E_INPUT'],
      ['too few bytes', () => ({ data: new Uint8Array(32 * 32 * 4 - 1), width: 32, height: 32 }), 'E_INPUT'],
      ['too many bytes', () => ({ data: new Uint8Array(32 * 32 * 5), width: 32, height: 32 }), 'E_INPUT'],
      ['float data', () => ({ data: new Float32Array(32 * 32 * 4), width: 32, height: 32 }), 'E_INPUT'],
      ['a plain array', () => ({ data: new Array(32 * 32 * 4).fill(0), width: 32, height: 32 }), 'E_INPUT'],
      ['a detached buffer', () => {
        const data = new Uint8Array(32 * 32 * 4);
        structuredClone(data.buffer, { transfer: [data.buffer] });
        return { data, width: 32, height: 32 };
      }, 'E_INPUT'],
      ['an image over the side limit', () => ({ data: new Uint8Array(20000 * 3), width: 20000, height: 1 }), 'E_LIMIT'],
    ];
    for (const [name, make, code] of cases) {
      test(`classify(${name}) -> ${code}`, () => {
        const e = thrown(() => net.classify(make()));
        expect(e).toBeInstanceOf(MnasNetError);
        expect(e.code).toBe(code);
      });
    }
    test('bad options', () => {
      expect(thrown(() => net.classify(image, { topK: -1 })).code).toBe('E_ARGUMENT');
      expect(thrown(() => net.classify(image, { topK: 1.5 })).code).toBe('E_ARGUMENT');
      expect(thrown(() => net.classify(image, 'fast')).code).toBe('E_ARGUMENT');
      const n = 3 * 96 * 96;
      expect(thrown(() => net.run(new Float32Array(n), { layout: 'CHW' })).code).toBe('E_ARGUMENT');
      expect(thrown(() => net.run(new Float32Array(n - 1))).code).toBe('E_INPUT');
      expect(thrown(() => net.run(new Uint8Array(n))).code).toBe('E_INPUT');
      expect(thrown(() => net.run(null)).code).toBe('E_INPUT');
    });
    test('topK is clamped to the class count; 0 gives no top list', () => {
      expect(net.classify(image, { topK: 100 }).top).toHaveLength(10);
      expect(net.classify(image, { topK: 0 }).top).toEqual([]);
      const p = net.classify(image, { topK: 10 }).top.reduce((s, t) => s + t.probability, 0);
      expect(p).toBeCloseTo(1, 5);
    });
    test('after the errors the model still gives the same results and allocated nothing', () => {
      const r = net.classify(image);
      expect(r.logits).toEqual(ref.logits);
      expect(r.excitations.map((e) => Array.from(e.values))).toEqual(ref.excitations.map((e) => Array.from(e.values)));
      expect(net[kInternals]().exports.mnas_heap_in_use()).toBe(heap);
    });
    test('views: true returns views into wasm memory, replaced by the next call', () => {
      const a = net.classify(image, { views: true });
      const copy = a.logits.slice();
      expect(a.logits.buffer).toBe(net[kInternals]().memory.buffer);
      net.classify({ ...image, data: image.data.map((v) => 255 - v) });
      expect(a.logits).not.toEqual(copy);
      const b = net.classify(image);
      expect(b.logits.buffer).not.toBe(net[kInternals]().memory.buffer);
    });
  });

  test('every method after dispose throws E_DISPOSED; dispose is idempotent', async () => {
    const net = await MnasNet.load(bytes);
    net.dispose();
    net.dispose();
    expect(thrown(() => net.classify({ data: new Uint8Array(4), width: 1, height: 1 })).code).toBe('E_DISPOSED');
    expect(thrown(() => net.run(new Float32Array(3 * 96 * 96))).code).toBe('E_DISPOSED');
    expect(thrown(() => net.info).code).toBe('E_DISPOSED');
  });
});
