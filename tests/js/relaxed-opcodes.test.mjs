// tools/wasm/relaxed-opcodes.mjs renumbers clang 14's prototype
// f32x4.relaxed_madd (0xfd 0xaf) to the standard 0xfd 0x105 by decoding
// instructions, never by searching bytes, and rejects what it cannot decode.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renumberRelaxed } from '../../tools/wasm/relaxed-opcodes.mjs';
import { RELAXED_PROBE } from '../../js/src/loader.js';
import { JS, VARIANTS, wasmMissing } from './helpers.mjs';

const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];

// f(a, b, c) = lane 0 of relaxed_madd(splat a, splat b, splat c), after a
// dropped v128.const whose lanes hold the bytes fd af 01 (which a byte
// search would also rewrite).
function moduleWith(madd, constLanes = [0xfd, 0xaf, 0x01]) {
  const lanes = [...constLanes, ...new Array(16 - constLanes.length).fill(0)];
  const body = [
    0x00, // no locals
    0xfd, 0x0c, ...lanes, 0x1a, // v128.const, drop
    0x20, 0x00, 0xfd, 0x13, 0x20, 0x01, 0xfd, 0x13, 0x20, 0x02, 0xfd, 0x13, // 3 x f32x4.splat
    0xfd, ...madd, // the multiply-add
    0xfd, 0x1f, 0x00, // f32x4.extract_lane 0
    0x0b,
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x03, 0x7d, 0x7d, 0x7d, 0x01, 0x7d]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, 0x01, 0x66, 0x00, 0x00]),
    ...section(10, [0x01, ...leb(body.length), ...body]),
  ]);
}

const canRun = WebAssembly.validate(RELAXED_PROBE);

test('renumbers the instruction, not the same bytes inside a v128.const', () => {
  const proto = moduleWith([0xaf, 0x01]);
  const { bytes, renumbered } = renumberRelaxed(proto);
  expect(renumbered).toBe(1);
  expect(bytes).toEqual(moduleWith([0x85, 0x02]));
  expect(bytes.length).toBe(proto.length);
  if (canRun) {
    const f = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f;
    expect(f(2, 3, 4)).toBe(10); // a * b + c
  }
});

test('a module with nothing to renumber comes back unchanged', () => {
  const std = moduleWith([0x85, 0x02]);
  const r = renumberRelaxed(std);
  expect(r.renumbered).toBe(0);
  expect(r.bytes).toEqual(std);
});

test('atomic instructions are decoded with their immediates', () => {
  // memory.atomic.notify, i32.atomic.load and atomic.fence in one body: a
  // module that imports a shared memory
  const body = [0x00, 0x41, 0x00, 0x41, 0x01, 0xfe, 0x00, 0x02, 0x00, 0x1a, 0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a,
    0xfe, 0x03, 0x00, 0x0b];
  const m = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x00, 0x00]),
    ...section(2, [0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x03, 0x01, 0x01]),
    ...section(3, [0x01, 0x00]),
    ...section(10, [0x01, ...leb(body.length), ...body]),
  ]);
  expect(WebAssembly.validate(m)).toBe(true);
  expect(renumberRelaxed(m).renumbered).toBe(0);
});

test('undecodable input is an error naming where', () => {
  expect(() => renumberRelaxed(new Uint8Array([1, 2, 3]))).toThrow(/not a WebAssembly binary/);
  const cut = moduleWith([0xaf, 0x01]);
  cut[cut.length - 1] = 0x01; // last 'end' becomes a nop: the body runs out
  expect(() => renumberRelaxed(cut)).toThrow(/function body 0: .*end/);
  // 0xfd 0xb0 was the prototype's f32x4.relaxed_nmadd-like fms: no mapping here
  expect(() => renumberRelaxed(moduleWith([0xb0, 0x01]))).toThrow(/function body 0: prototype relaxed-SIMD opcode 0xfd 0xb0 at byte \d+/);
  const long = moduleWith([0xaf, 0x01]);
  long[long.length - 40] += 1; // the body's size byte: one more than its code section holds
  expect(() => renumberRelaxed(long)).toThrow(/function body 0 at byte \d+ runs past the code section/);
});

(wasmMissing() ? test.skip : test)('the built relaxed modules use only the standard encoding', () => {
  // the threaded one also holds atomics (0xfe), which the decoder reads
  for (const f of ['dist/mnasnet-relaxed.wasm', 'dist/mnasnet-threads-relaxed.wasm']) {
    const built = readFileSync(resolve(JS, f));
    expect(renumberRelaxed(built).renumbered).toBe(0);
    if (VARIANTS.includes('relaxed')) expect(WebAssembly.validate(built)).toBe(true);
  }
});

(wasmMissing() ? test.skip : test)('the decoder reads every instruction of the other builds too', () => {
  for (const f of ['dist/mnasnet.wasm', 'dist/mnasnet-scalar.wasm', 'dist/mnasnet-threads.wasm']) {
    const bytes = readFileSync(resolve(JS, f));
    const r = renumberRelaxed(bytes);
    expect(r.renumbered).toBe(0);
    expect(Buffer.from(r.bytes).equals(bytes)).toBe(true);
  }
});
