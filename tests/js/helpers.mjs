// Shared helpers for the SDK tests (tests/js/*.test.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { deflateSync } from 'node:zlib';
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

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

export function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A PNG chunk: length, type, data, CRC. */
export function pngChunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/**
 * A PNG file of `samples` (row-major, CHANNELS[colour] samples a pixel, each
 * at `depth` bits; palette indices for colour 3). Rows use filter types 0-4
 * in turn so that a decoder meets them all. opts: {interlace, palette (RGB bytes), extra: [chunk, ...]}.
 */
export function encodePng(width, height, colour, depth, samples, opts = {}) {
  const ch = CHANNELS[colour];
  const bits = ch * depth;
  const bpp = Math.max(1, bits >> 3);
  const passes = opts.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const parts = [];
  let filterType = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w <= 0 || h <= 0) continue;
    const stride = Math.ceil((w * bits) / 8);
    let prev = new Uint8Array(stride);
    for (let y = 0; y < h; y++) {
      const row = new Uint8Array(stride);
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < ch; c++) {
          const v = samples[((y0 + y * dy) * width + x0 + x * dx) * ch + c];
          const i = x * ch + c;
          if (depth === 16) {
            row[2 * i] = v >> 8;
            row[2 * i + 1] = v & 255;
          } else if (depth === 8) row[i] = v;
          else row[(i * depth) >> 3] |= v << (8 - depth - ((i * depth) & 7));
        }
      }
      const f = filterType++ % 5;
      const out = new Uint8Array(stride + 1);
      out[0] = f;
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? row[i - bpp] : 0;
        const b = prev[i];
        const c = i >= bpp ? prev[i - bpp] : 0;
        const p = a + b - c;
        const pred = [0, a, b, (a + b) >> 1,
          Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c][f];
        out[i + 1] = (row[i] - pred) & 255;
      }
      parts.push(out);
      prev = row;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colour;
  ihdr[12] = opts.interlace ? 1 : 0;
  const idat = deflateSync(Buffer.concat(parts));
  return new Uint8Array(Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    ...(opts.palette ? [pngChunk('PLTE', Buffer.from(opts.palette))] : []),
    ...(opts.extra || []),
    // two IDAT chunks when there is enough data: decoders must join them
    ...(idat.length > 8 ? [pngChunk('IDAT', idat.subarray(0, 8)), pngChunk('IDAT', idat.subarray(8))] : [pngChunk('IDAT', idat)]),
    pngChunk('IEND', Buffer.alloc(0)),
  ]));
}

/** Unsigned LEB128, as wasm binaries write sizes and indices. */
export function leb128(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
