// A PNG decoder, so that Node code can classify a file as it is
// (`net.classify(readFileSync('cat.png'))`) with no native or npm
// dependency. Every colour type and bit depth of the PNG standard, palettes
// and Adam7 interlacing. zlib comes from the caller: Node's inflateSync, or
// a browser's DecompressionStream (streamInflate). Browsers use it for PNG
// too rather than createImageBitmap and a canvas: a 2D canvas keeps its
// pixels premultiplied by alpha, so a semi-transparent pixel comes back from
// getImageData with its colour rounded (and a transparent one black), which
// would break the alpha rule below; this decoder gives the same bytes as in
// Node.
//
// The result is RGB, the colour channels as stored: alpha (and tRNS) is
// ignored, the SDK's one rule for transparency, as for RGBA pixel data and
// canvas sources, whose alpha the engine does not read either. 16-bit samples
// are scaled to 8 bits with rounding; gAMA/iCCP colour information is not
// applied.
import { MnasNetError } from './errors.js';

let crcTable;
function crc32(bytes, start, end) {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = -1;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// colour type -> [channels, allowed bit depths]
const COLOUR_TYPES = { 0: [1, [1, 2, 4, 8, 16]], 2: [3, [8, 16]], 3: [1, [1, 2, 4, 8]], 4: [2, [8, 16]], 6: [4, [8, 16]] };
// Adam7 passes: x0, y0, dx, dy
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

const fail = (msg) => new MnasNetError('E_INPUT', `classify: PNG: ${msg}`);
const u32 = (b, p) => ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
const chunkType = (b, p) => String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);

/** The chunks of a PNG file: header fields, palette, compressed data. */
function readChunks(bytes) {
  let pos = 8;
  let ihdr = null;
  let plte = null;
  const idat = [];
  let iend = false;
  while (!iend) {
    if (pos + 12 > bytes.length) {
      throw fail(`truncated: the file has ${bytes.length} bytes and ends before the IEND chunk; copy it again`);
    }
    const len = u32(bytes, pos);
    const type = chunkType(bytes, pos + 4);
    const data = pos + 8;
    if (data + len + 4 > bytes.length) {
      throw fail(`truncated: chunk ${type} at byte ${pos} needs ${len + 12} bytes, ${bytes.length - pos} are left (${bytes.length} of at least ${data + len + 4} bytes)`);
    }
    if (crc32(bytes, pos + 4, data + len) !== u32(bytes, data + len)) throw fail(`chunk ${type} at byte ${pos} is corrupt (CRC mismatch)`);
    const body = bytes.subarray(data, data + len);
    if (!ihdr && type !== 'IHDR') throw fail(`the first chunk is ${type}, not IHDR`);
    if (type === 'IHDR') {
      if (len !== 13) throw fail(`IHDR has ${len} bytes, not 13`);
      ihdr = {
        width: u32(body, 0), height: u32(body, 4), depth: body[8], colour: body[9],
        compression: body[10], filter: body[11], interlace: body[12],
      };
    } else if (type === 'PLTE') plte = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') iend = true;
    else if (!(type.charCodeAt(0) & 0x20)) throw fail(`unknown critical chunk ${type} at byte ${pos}`);
    pos = data + len + 4;
  }
  return { ihdr, plte, idat };
}

function unfilter(raw, offset, rows, stride, bpp, out) {
  let src = offset;
  for (let y = 0; y < rows; y++) {
    const filter = raw[src++];
    const row = y * stride;
    const prev = row - stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i];
      const a = i >= bpp ? out[row + i - bpp] : 0;
      const b = y > 0 ? out[prev + i] : 0;
      let v;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: {
          const c = y > 0 && i >= bpp ? out[prev + i - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          throw fail(`row ${y} has filter type ${filter} (0-4 exist)`);
      }
      out[row + i] = v & 0xff;
    }
    src += stride;
  }
  return src;
}

/**
 * Decode a PNG file. inflate: zlib decompression (Node's zlib.inflateSync),
 * or an asynchronous one returning a Promise (inflateAsync), and then so does
 * decodePng. maxSide: the engine's image side limit, checked before any
 * allocation. Returns {data: RGB bytes, width, height}.
 */
export function decodePng(bytes, inflate, maxSide) {
  const { ihdr, plte, idat } = readChunks(bytes);
  const { width, height, depth, colour, interlace } = ihdr;
  const ct = COLOUR_TYPES[colour];
  if (!ct) throw fail(`colour type ${colour} does not exist (0, 2, 3, 4, 6 do)`);
  const [channels, depths] = ct;
  if (!depths.includes(depth)) throw fail(`bit depth ${depth} is not allowed for colour type ${colour} (${depths.join(', ')} are)`);
  if (ihdr.compression !== 0 || ihdr.filter !== 0 || interlace > 1) throw fail('unknown compression, filter or interlace method');
  if (width < 1 || height < 1) throw fail(`image size ${width}x${height}`);
  if (width > maxSide || height > maxSide) {
    throw new MnasNetError('E_LIMIT', `classify: PNG image size ${width}x${height}; the limit is ${maxSide} pixels a side (MNAS_MAX_IMAGE_SIDE)`);
  }
  if (colour === 3 && (!plte || plte.length % 3 || plte.length === 0)) throw fail('colour type 3 (palette) without a valid PLTE chunk');
  if (!idat.length) throw fail('no IDAT chunk (no image data)');

  const damaged = (e) => fail(`the image data does not decompress (${e.message}); the file is damaged or truncated`);
  let raw;
  try {
    raw = inflate(idat.length === 1 ? idat[0] : concat(idat));
  } catch (e) {
    throw damaged(e);
  }
  // A browser inflates with DecompressionStream, which is asynchronous.
  if (typeof raw?.then === 'function') return raw.then((r) => pixels(ihdr, channels, plte, r), (e) => { throw damaged(e); });
  return pixels(ihdr, channels, plte, raw);
}

/** RGB bytes of the decompressed, filtered image data. */
function pixels({ width, height, depth, colour, interlace }, channels, plte, raw) {
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const passes = interlace ? ADAM7 : [[0, 0, 1, 1]];
  // Expected size of the decompressed data: one filter byte per row of each pass.
  let expected = 0;
  const geometry = passes.map(([x0, y0, dx, dy]) => {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    const stride = Math.ceil((w * bitsPerPixel) / 8);
    if (w > 0 && h > 0) expected += h * (stride + 1);
    return { x0, y0, dx, dy, w, h, stride };
  });
  if (raw.length < expected) {
    throw fail(`the image data has ${raw.length} bytes, ${width}x${height} needs ${expected}: the file is truncated or damaged`);
  }

  const max = (1 << depth) - 1;
  let palette = null;
  if (colour === 3) {
    palette = new Uint8Array(256 * 3);
    palette.set(plte.subarray(0, Math.min(plte.length, 768)));
  }

  const out = new Uint8Array(width * height * 3);
  // The common files, 8-bit RGB and RGBA, not interlaced: no per-sample calls.
  if (!interlace && depth === 8 && colour === 2) {
    unfilter(raw, 0, height, width * 3, 3, out);
    return { data: out, width, height };
  }
  if (!interlace && depth === 8 && colour === 6) {
    const rgba = new Uint8Array(width * height * 4);
    unfilter(raw, 0, height, width * 4, 4, rgba);
    for (let i = 0, o = 0; o < out.length; i += 4, o += 3) {
      out[o] = rgba[i];
      out[o + 1] = rgba[i + 1];
      out[o + 2] = rgba[i + 2];
    }
    return { data: out, width, height };
  }
  let offset = 0;
  let scratch = new Uint8Array(0);
  for (const g of geometry) {
    if (g.w <= 0 || g.h <= 0) continue;
    if (scratch.length < g.stride * g.h) scratch = new Uint8Array(g.stride * g.h);
    offset = unfilter(raw, offset, g.h, g.stride, bpp, scratch);
    const sample = (row, i) => {
      if (depth === 8) return scratch[row + i];
      if (depth === 16) return (scratch[row + 2 * i] << 8) | scratch[row + 2 * i + 1];
      const bit = i * depth;
      return (scratch[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
    };
    const to8 = depth === 16 ? (v) => Math.round(v / 257) : depth === 8 ? (v) => v : (v) => Math.round((v * 255) / max);
    for (let y = 0; y < g.h; y++) {
      const row = y * g.stride;
      for (let x = 0; x < g.w; x++) {
        const o = ((g.y0 + y * g.dy) * width + g.x0 + x * g.dx) * 3;
        if (colour === 3) {
          const p = sample(row, x) * 3;
          out[o] = palette[p]; out[o + 1] = palette[p + 1]; out[o + 2] = palette[p + 2];
        } else if (colour === 0 || colour === 4) {
          out[o] = out[o + 1] = out[o + 2] = to8(sample(row, x * channels));
        } else {
          out[o] = to8(sample(row, x * channels));
          out[o + 1] = to8(sample(row, x * channels + 1));
          out[o + 2] = to8(sample(row, x * channels + 2));
        }
      }
    }
  }
  return { data: out, width, height };
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * zlib decompression with the streams of browsers (DecompressionStream,
 * 'deflate' is the zlib format of PNG), or null where there are none.
 */
export function streamInflate() {
  if (typeof DecompressionStream !== 'function' || typeof Response !== 'function' || typeof Blob !== 'function') return null;
  return async (data) => {
    const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  };
}
