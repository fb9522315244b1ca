// Shared helpers for the SDK tests (tests/js/*.test.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { RELAXED_PROBE } from '../../js/src/loader.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const JS = resolve(ROOT, 'js');
export const TESTDATA = resolve(ROOT, process.env.MNAS_TESTDATA || '../shared');

// Node 20 compiles relaxed SIMD only behind a V8 flag (it ships from Node 22,
// as in Chrome 114+): turn it on so the relaxed build is tested here too.
// Set before any test compiles a module; the SDK itself never sets flags.
if (!WebAssembly.validate(RELAXED_PROBE)) setFlagsFromString('--experimental-wasm-relaxed-simd');
const relaxed = WebAssembly.validate(RELAXED_PROBE);
if (!relaxed) console.warn('SKIP the relaxed-simd build: this Node cannot compile relaxed SIMD');
export const VARIANTS = relaxed ? ['relaxed', 'simd', 'scalar'] : ['simd', 'scalar'];
/** What net.info.backend reports for each build. */
export const BACKEND = { relaxed: 'wasm-relaxed-simd', simd: 'wasm-simd128', scalar: 'scalar' };

/** null when every path exists, else a skip reason naming the first missing one. */
export function missing(...paths) {
  for (const p of paths) if (!existsSync(p)) return `${p} not found (set MNAS_TESTDATA)`;
  return null;
}

export const wasmMissing = () => {
  const m = missing(resolve(JS, 'dist/mnasnet.wasm'), resolve(JS, 'dist/mnasnet-relaxed.wasm'), resolve(JS, 'dist/mnasnet-scalar.wasm'));
  return m && `${m}; run \`make wasm\``;
};

/** describe(), or describe.skip() with the reason printed, so a skip is never silent. */
export function describeIf(jestDescribe, reason, name, fn) {
  if (!reason) return jestDescribe(name, fn);
  console.warn(`SKIP ${name}: ${reason}`);
  return jestDescribe.skip(name, fn);
}

/** Minimal .npy reader: little-endian float32 ('<f4') or uint8 ('|u1'), C order. */
export function readNpy(file) {
  const buf = readFileSync(file);
  if (buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);
  const off = start + hlen;
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = buf.subarray(off, off + count * (descr === '<f4' ? 4 : 1));
  let data;
  if (descr === '<f4') data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  else if (descr === '|u1') data = new Uint8Array(bytes);
  else throw new Error(`${file}: dtype ${descr} not supported`);
  return { shape, data };
}

export const CIFAR_RECORD = 3073;

/** RGBA (or RGB) bytes of CIFAR-10 record i: 1 label byte, 1024 R, 1024 G, 1024 B. */
export function cifarImage(bin, i, rgb = false) {
  const r = bin.subarray(i * CIFAR_RECORD + 1, (i + 1) * CIFAR_RECORD);
  const bpp = rgb ? 3 : 4;
  const data = new Uint8Array(1024 * bpp);
  for (let p = 0; p < 1024; p++) {
    data[p * bpp] = r[p];
    data[p * bpp + 1] = r[1024 + p];
    data[p * bpp + 2] = r[2048 + p];
    if (!rgb) data[p * bpp + 3] = 255;
  }
  return { data, width: 32, height: 32, label: bin[i * CIFAR_RECORD] };
}

/** Largest |a-b| relative to max(1, max|ref|), for the per-row tolerance. */
export function maxRelDiff(a, ref) {
  let scale = 1;
  let d = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]));
    d = Math.max(d, Math.abs(a[i] - ref[i]));
  }
  return d / scale;
}

export function maxAbsDiff(a, ref) {
  let d = 0;
  for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(a[i] - ref[i]));
  return d;
}

/** The error fn throws; fails the test when it returns normally. */
export function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}
