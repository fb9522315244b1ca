// Encoded images in Node: the SDK's PNG decoder (js/src/png.js) on every
// colour type, bit depth, palette and Adam7 interlacing against the samples
// the files were made from; classify(pngBytes) equals classify(pixels);
// classify(jpegBytes) equals classify of jpeg-js's pixels (the optional peer
// dependency); a Blob or File gives a Promise of the same result; without
// jpeg-js installed a JPEG says what to install; transparency is ignored, as
// for RGBA pixel data; damaged files and other formats throw errors that say
// what to do.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { TeachableHead } from '../../js/src/index.js';
import { MnasNet, MnasNetError } from '../../js/src/index.js';
import { decodePng } from '../../js/src/png.js';
import { JS, ROOT, TESTDATA, cifarImage, crc32, describeIf, encodePng, missing, pngChunk, wasmMissing } from './helpers.mjs';

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Deterministic pseudo-random samples. */
function samples(n, max, seed) {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s >>> 8) % (max + 1);
  });
}

/** The RGB a decoder must produce: grey replicated, samples scaled to 8 bits, palette looked up, alpha dropped. */
function expectedRgb(width, height, colour, depth, smp, palette) {
  const max = 2 ** depth - 1;
  const to8 = (v) => (depth === 8 ? v : depth === 16 ? Math.round(v / 257) : Math.round((v * 255) / max));
  const ch = CHANNELS[colour];
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const s = smp.slice(p * ch, p * ch + ch);
    const rgb = colour === 3 ? [...palette.slice(s[0] * 3, s[0] * 3 + 3)] : colour === 0 || colour === 4 ? [to8(s[0]), to8(s[0]), to8(s[0])] : s.slice(0, 3).map(to8);
    out.set(rgb, p * 3);
  }
  return out;
}

const CASES = [];
for (const [colour, depths] of Object.entries({ 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] })) {
  for (const depth of depths) for (const interlace of [false, true]) CASES.push([Number(colour), depth, interlace]);
}

describe('PNG decoder', () => {
  test.each(CASES)('colour type %i, %i-bit, interlaced %s: exact samples', (colour, depth, interlace) => {
    // 13x11: odd sizes leave partial bytes at row ends and empty Adam7 passes' edges
    const [w, h] = [13, 11];
    const entries = colour === 3 ? 2 ** depth : 0;
    const palette = colour === 3 ? samples(entries * 3, 255, 7) : null;
    const smp = samples(w * h * CHANNELS[colour], colour === 3 ? entries - 1 : 2 ** depth - 1, colour * 100 + depth + (interlace ? 1 : 0));
    const file = encodePng(w, h, colour, depth, smp, { interlace, palette });
    const img = decodePng(file, inflateSync, 16384);
    expect([img.width, img.height]).toEqual([w, h]);
    expect(Array.from(img.data)).toEqual(Array.from(expectedRgb(w, h, colour, depth, smp, palette)));
  });

  test('a 1x1 image and a 1-pixel-wide interlaced image', () => {
    expect(Array.from(decodePng(encodePng(1, 1, 2, 8, [10, 20, 30]), inflateSync, 16384).data)).toEqual([10, 20, 30]);
    const smp = samples(9, 255, 3);
    expect(Array.from(decodePng(encodePng(1, 9, 0, 8, smp, { interlace: true }), inflateSync, 16384).data)).toEqual(smp.flatMap((v) => [v, v, v]));
  });

  test('ancillary chunks are skipped; damaged files name the fault and the byte', () => {
    const smp = samples(4 * 4 * 3, 255, 5);
    const file = encodePng(4, 4, 2, 8, smp, { extra: [pngChunk('tEXt', Buffer.from('Comment\0made for a test'))] });
    expect(Array.from(decodePng(file, inflateSync, 16384).data)).toEqual(smp);
    const err = (bytes) => {
      try {
        decodePng(bytes, inflateSync, 16384);
      } catch (e) {
        expect(e).toBeInstanceOf(MnasNetError);
        return `${e.code} ${e.message}`;
      }
      throw new Error('decoded');
    };
    expect(err(file.slice(0, file.length - 20))).toMatch(/^E_INPUT classify: PNG: truncated: chunk \w+ at byte \d+ needs \d+ bytes, \d+ are left \(\d+ of at least \d+ bytes\)$/);
    expect(err(file.slice(0, 40))).toMatch(/^E_INPUT classify: PNG: truncated/);
    const flipped = file.slice();
    flipped[40] ^= 1; // the type of the tEXt chunk (bytes 37-40), which its CRC covers
    expect(err(flipped)).toMatch(/^E_INPUT classify: PNG: chunk \w{4} at byte \d+ is corrupt \(CRC mismatch\)$/);
    const wide = Buffer.from(file);
    wide.writeUInt32BE(20000, 16); // IHDR width, CRC fixed below
    wide.writeUInt32BE(crc32(wide.subarray(12, 29)), 29);
    expect(err(wide)).toBe('E_LIMIT classify: PNG image size 20000x4; the limit is 16384 pixels a side (MNAS_MAX_IMAGE_SIDE)');
    const depth = Buffer.from(file);
    depth[24] = 4; // RGB at 4 bits: not allowed
    depth.writeUInt32BE(crc32(depth.subarray(12, 29)), 29);
    expect(err(depth)).toBe('E_INPUT classify: PNG: bit depth 4 is not allowed for colour type 2 (8, 16 are)');
  });
});


const skip = wasmMissing() || missing(resolve(TESTDATA, 'data/cifar10_test.bin'));
/** The packaged default model, loaded, and the CIFAR-10 test file's bytes. */
const defaultModelAndCifar = async () => [
  await MnasNet.load(readFileSync(resolve(JS, 'dist/mnasnet_a1_cifar10.onnx'))),
  readFileSync(resolve(TESTDATA, 'data/cifar10_test.bin')),
];
describeIf(describe, skip, 'classify(encoded bytes) in Node', () => {
  let net;
  let bin;
  beforeAll(async () => {
    [net, bin] = await defaultModelAndCifar();
  });
  afterAll(() => net.dispose());

  test('a PNG file classifies exactly as its pixels, from a Buffer, Uint8Array or ArrayBuffer', () => {
    for (const i of [0, 1, 2, 3]) {
      const img = cifarImage(bin, i);
      const ref = net.classify(img);
      const file = encodePng(32, 32, 6, 8, img.data);
      for (const bytes of [Buffer.from(file), file, file.buffer.slice(file.byteOffset, file.byteOffset + file.length)]) {
        const r = net.classify(bytes);
        expect(Array.from(r.logits)).toEqual(Array.from(ref.logits));
      }
    }
  });

  test('the demo sample images are classified as their class', () => {
    const dir = resolve(ROOT, 'web/samples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.png'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    const wrong = files.filter((f) => net.classify(readFileSync(resolve(dir, f))).top[0].label !== f.split('-')[0]);
    expect(wrong).toEqual([]);
  });

  test('transparency is ignored: 50% alpha, a tRNS palette and opaque give the same result as the RGB pixels', () => {
    const img = cifarImage(bin, 7);
    const ref = net.classify(img).logits;
    const half = img.data.slice();
    for (let p = 3; p < half.length; p += 4) half[p] = 128;
    expect(Array.from(net.classify(encodePng(32, 32, 6, 8, half)).logits)).toEqual(Array.from(ref));
    // the same RGBA with alpha 128 handed over as pixels: the engine ignores alpha too
    expect(Array.from(net.classify({ data: half, width: 32, height: 32 }).logits)).toEqual(Array.from(ref));
  });

  test('other formats and non-images say what to do', () => {
    const err = (src) => {
      try {
        net.classify(src);
      } catch (e) {
        expect(e).toBeInstanceOf(MnasNetError);
        return `${e.code} ${e.message}`;
      }
      throw new Error('classified');
    };
    // a JPEG that jpeg-js (installed) cannot read: its reason, named as a JPEG's
    expect(err(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]))).toMatch(
      /^E_INPUT classify: JPEG: .+; the file is damaged or not a JPEG jpeg-js can read$/,
    );
    expect(err(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'))).toMatch(/^E_INPUT classify: these bytes are a GIF image; in Node the SDK decodes PNG and JPEG only: convert it to PNG/);
    expect(err(new Uint8Array(100))).toBe(
      'E_INPUT classify: got 100 bytes (Uint8Array) that are not an image file; pass {data, width, height} with RGBA or RGB pixels, or the bytes of a PNG or JPEG file',
    );
    expect(err(readFileSync(resolve(JS, 'dist/mnasnet.wasm')))).toMatch(/^E_INPUT classify: got \d+ bytes \(Uint8Array\) that are not an image file but a WebAssembly module;/);
    expect(err({ data: new Uint8Array(32 * 32 * 4), width: '32', height: 32 })).toBe("E_INPUT classify: width must be a number, got the string '32'");
    expect(err({ data: new Uint8Array(32 * 32 * 4), width: 32, height: null })).toBe('E_INPUT classify: height must be a number, got null');
  });
});

// A JPEG of CIFAR-10 test image i, encoded by jpeg-js at the given quality.
function cifarJpeg(bin, i, quality = 90) {
  const img = cifarImage(bin, i);
  return new Uint8Array(jpeg.encode({ data: Buffer.from(img.data), width: 32, height: 32 }, quality).data);
}

const rejection = (promise) =>
  promise.then(
    () => {
      throw new Error('classified');
    },
    (e) => {
      expect(e).toBeInstanceOf(MnasNetError);
      return `${e.code} ${e.message}`;
    },
  );

const JPEG_HINT =
  'E_INPUT classify: these bytes are a JPEG image; decoding a JPEG in Node needs the npm package jpeg-js, an optional peer dependency ' +
  'of mnasnet-wasm: run `npm install jpeg-js`, or decode the image yourself and pass {data, width, height} with RGBA or RGB pixels';

describeIf(describe, skip, 'JPEG files and Blobs in Node', () => {
  let net;
  let bin;
  beforeAll(async () => {
    [net, bin] = await defaultModelAndCifar();
  });
  afterAll(() => net.dispose());

  test('a JPEG file classifies exactly as the pixels jpeg-js decodes, synchronously, from a Buffer, Uint8Array or ArrayBuffer', () => {
    for (const i of [0, 1, 2, 3]) {
      const file = cifarJpeg(bin, i);
      expect(Array.from(file.subarray(0, 3))).toEqual([0xff, 0xd8, 0xff]);
      const px = jpeg.decode(file, { useTArray: true }); // RGBA
      const ref = net.classify(px);
      for (const bytes of [Buffer.from(file), file, file.buffer.slice(file.byteOffset, file.byteOffset + file.length)]) {
        const r = net.classify(bytes);
        expect(typeof r.then).toBe('undefined');
        expect(Array.from(r.logits)).toEqual(Array.from(ref.logits));
      }
    }
  });

  test('a Blob or File of a PNG or JPEG file gives a Promise of the same result as its bytes', async () => {
    for (const i of [0, 1]) {
      const img = cifarImage(bin, i);
      const png = encodePng(32, 32, 6, 8, img.data);
      const jpg = cifarJpeg(bin, i);
      const p = net.classify(new Blob([png]), { topK: 2 });
      expect(p).toBeInstanceOf(Promise);
      const r = await p;
      expect(Array.from(r.logits)).toEqual(Array.from(net.classify(img).logits));
      expect(r.top).toHaveLength(2);
      const f = await net.classify(new File([png], 'cifar.png', { type: 'image/png' }));
      expect(Array.from(f.logits)).toEqual(Array.from(r.logits));
      const j = await net.classify(new Blob([jpg], { type: 'image/jpeg' }), { embedding: true });
      expect(Array.from(j.logits)).toEqual(Array.from(net.classify(jpg).logits));
      expect(j.embedding).toHaveLength(net.info.embeddingSize);
    }
    // anything shaped like a Blob (another realm's, a polyfill's)
    const png = encodePng(32, 32, 6, 8, cifarImage(bin, 0).data);
    const like = { size: png.length, type: 'image/png', arrayBuffer: async () => png.slice().buffer };
    expect(Array.from((await net.classify(like)).logits)).toEqual(Array.from(net.classify(png).logits));
    // await works for the synchronous sources too
    expect(Array.from((await net.classify(cifarImage(bin, 0))).logits)).toEqual(Array.from(net.classify(cifarImage(bin, 0)).logits));
  });

  test('a Blob: errors reject the Promise; disposal while it is read; a head asks for the embedding', async () => {
    expect(await rejection(net.classify(new Blob([])))).toBe(
      'E_INPUT classify: got 0 bytes (Blob) that are not an image file; pass {data, width, height} with RGBA or RGB pixels, or the bytes of a PNG or JPEG file',
    );
    expect(await rejection(net.classify(new Blob(['GIF89a\x01\x00\x01\x00'])))).toMatch(/^E_INPUT classify: these bytes are a GIF image; in Node the SDK decodes PNG and JPEG only/);
    const png = encodePng(32, 32, 6, 8, cifarImage(bin, 0).data);
    expect(await rejection(net.classify(new File([png.subarray(0, 60)], 'cut.png')))).toMatch(/^E_INPUT classify: PNG: truncated/);
    const other = await MnasNet.load(readFileSync(resolve(JS, 'dist/mnasnet_a1_cifar10.onnx')));
    const pending = other.classify(new Blob([png]));
    other.dispose();
    expect(await rejection(pending)).toBe('E_DISPOSED this MnasNet has been disposed');
    const head = new TeachableHead(net);
    expect(() => head.addExample('cat', new Blob([png]))).toThrow(
      'this image file decodes asynchronously (a Blob, or image bytes in a browser); pass its embedding: (await net.classify(file, { embedding: true })).embedding',
    );
    head.addExample('cat', (await net.classify(new Blob([png]), { embedding: true })).embedding);
    expect(head.exampleIds('cat')).toHaveLength(1);
  });

  test('transparency is ignored in a Blob too: a 50%-alpha PNG Blob equals the opaque pixels', async () => {
    const img = cifarImage(bin, 7);
    const half = img.data.slice();
    for (let p = 3; p < half.length; p += 4) half[p] = 128;
    const r = await net.classify(new Blob([encodePng(32, 32, 6, 8, half)]));
    expect(Array.from(r.logits)).toEqual(Array.from(net.classify(img).logits));
  });
});

// Without jpeg-js: the SDK's sources copied where no node_modules holds it
// (a folder of the system's temp dir, NODE_PATH empty), run by a child Node
// that first checks that `jpeg-js` really does not resolve from there.
describeIf(describe, skip, 'JPEG in Node without jpeg-js installed', () => {
  let tmp;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'mnasnet-nojpeg-'));
  });
  afterAll(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  test('classify(jpegBytes) and classify(Blob of a JPEG) name the package to install and the alternative; PNG still decodes', async () => {
    cpSync(resolve(JS, 'src'), join(tmp, 'sdk/src'), { recursive: true });
    symlinkSync(resolve(JS, 'dist'), join(tmp, 'sdk/dist'));
    const bin = readFileSync(resolve(TESTDATA, 'data/cifar10_test.bin'));
    writeFileSync(join(tmp, 'cat.jpg'), cifarJpeg(bin, 3));
    writeFileSync(join(tmp, 'cat.png'), encodePng(32, 32, 6, 8, cifarImage(bin, 3).data));
    writeFileSync(join(tmp, 'run.mjs'), `
      import { readFileSync } from 'node:fs';
      import { createRequire } from 'node:module';
      import { MnasNet } from './sdk/src/index.js';
      let resolvable = true;
      try { createRequire(new URL('./sdk/src/platform.js', import.meta.url)).resolve('jpeg-js'); } catch { resolvable = false; }
      const net = await MnasNet.load();
      const out = { resolvable };
      try { net.classify(readFileSync('cat.jpg')); out.bytes = 'classified'; } catch (e) { out.bytes = e.code + ' ' + e.message; }
      out.blob = await net.classify(new Blob([readFileSync('cat.jpg')])).then(() => 'classified', (e) => e.code + ' ' + e.message);
      out.png = net.classify(readFileSync('cat.png')).top[0].label;
      net.dispose();
      console.log(JSON.stringify(out));
    `);
    const env = { ...process.env, NODE_PATH: '' };
    const out = JSON.parse(execFileSync(process.execPath, ['run.mjs'], { cwd: tmp, env, encoding: 'utf8' }));
    expect(out.resolvable).toBe(false);
    expect(out.bytes).toBe(JPEG_HINT);
    expect(out.blob).toBe(JPEG_HINT);
    const net = await MnasNet.load(readFileSync(resolve(JS, 'dist/mnasnet_a1_cifar10.onnx')));
    expect(out.png).toBe(net.classify(cifarImage(bin, 3)).top[0].label);
    net.dispose();
    // and the same SDK resolves the repository's jpeg-js from js/src (the test's own premise)
    expect(createRequire(resolve(JS, 'src/platform.js')).resolve('jpeg-js')).toMatch(/node_modules[\\/]jpeg-js[\\/]/);
  });
});

