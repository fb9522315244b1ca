// Image files in Debian's Chromium (playwright-core), on a page and in a
// module Web Worker, against the same files classified in Node:
//   - classify(File of a PNG) and classify(PNG bytes) return a Promise whose
//     logits equal Node's classify(png bytes) bit for bit (both on the SIMD
//     build; the SDK decodes PNG itself in both);
//   - classify(Blob of a JPEG) (createImageBitmap, a canvas) equals Node's
//     classify of the pixels the browser decoded, bit for bit, and the top
//     class of Node's classify(jpeg bytes) (jpeg-js); the two JPEG decoders'
//     pixels and logits differ by no more than measured (printed);
//   - a PNG with 50% alpha as a Blob equals Node's classify of the same
//     bytes and of the opaque pixels: alpha ignored, as in Node and the CLI
//     (what a canvas would have made of it is printed, for comparison);
//   - a Blob that is no image rejects with E_INPUT.
//
//   node --test tests/browser/images.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { MnasNet } from '../../js/src/index.js';
import { TESTDATA, cifarImage, encodePng, maxRelDiff } from '../js/helpers.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from './engines.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARGS = ['--headless', ...CHROMIUM_ARGS];
const CIFAR = path.join(TESTDATA, 'data/cifar10_test.bin');

function skipReason() {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} not found (set CHROMIUM_PATH)`;
  for (const f of ['mnasnet.wasm', 'mnasnet_a1_cifar10.onnx']) {
    if (!fs.existsSync(path.join(ROOT, 'js/dist', f))) return `js/dist/${f} is missing (run make wasm)`;
  }
  if (!fs.existsSync(CIFAR)) return `${CIFAR} not found (set MNAS_TESTDATA)`;
  return null;
}
const SKIP = skipReason();
if (SKIP) console.log(`# browser images tests skipped: ${SKIP}`);

// Measured on Chromium 156 (libjpeg-turbo) against jpeg-js 0.4.4 on these
// quality-90 CIFAR-10 JPEGs, page and worker alike: at most 3 levels apart
// in a pixel, 1.35e-2 relative in the logits (printed on each run). The
// bounds leave a margin over that; a decoder bug (a wrong colour transform
// or chroma upsampling) moves pixels by tens of levels.
const JPEG_PIXEL_BOUND = 4; // levels of 255
const JPEG_LOGIT_BOUND = 0.03; // relative to max(1, max |logit|)

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
function pagesServer() {
  return http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://localhost').pathname).slice(1);
    if (rel === 'favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const file = path.resolve(ROOT, rel);
    const allowed = ['js', 'tests/browser/pages'].some((d) => file.startsWith(path.join(ROOT, d) + path.sep));
    if (!allowed || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
    fs.createReadStream(file).pipe(res);
  });
}

let browser, server, base, net, files;

before(async () => {
  if (SKIP) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  server = pagesServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  net = await MnasNet.load(fs.readFileSync(path.join(ROOT, 'js/dist/mnasnet_a1_cifar10.onnx')), { wasm: 'simd', threads: 1 });
  const bin = fs.readFileSync(CIFAR);
  files = [0, 1, 2, 3].map((i) => {
    const img = cifarImage(bin, i);
    return {
      img,
      png: encodePng(32, 32, 6, 8, img.data),
      jpeg: new Uint8Array(jpeg.encode({ data: Buffer.from(img.data), width: 32, height: 32 }, 90).data),
    };
  });
  const half = files[3].img.data.slice();
  for (let p = 3; p < half.length; p += 4) half[p] = 128;
  files.alpha = encodePng(32, 32, 6, 8, half);
});

after(async () => {
  await browser?.close().catch(() => {});
  if (server) await new Promise((r) => server.close(r));
  net?.dispose();
});

async function run(inWorker) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  try {
    await page.goto(`${base}/tests/browser/pages/images.html`);
    await page.waitForFunction(() => window.pageReady === true, null, { timeout: 30000 });
    const args = {
      inWorker,
      wasm: 'simd',
      images: files.map((f) => ({ png: Array.from(f.png), jpeg: Array.from(f.jpeg) })),
      alphaPng: Array.from(files.alpha),
    };
    const out = await page.evaluate((a) => window.runImages(a), args);
    assert.deepEqual(problems, []);
    return out;
  } finally {
    await page.close();
  }
}

function check(out, where) {
  assert.equal(out.backend, 'wasm-simd128');
  let pixelDiff = 0;
  let logitDiff = 0;
  out.images.forEach((b, i) => {
    const f = files[i];
    assert.equal(b.promise, true, `${where} image ${i}: classify(File) returns a Promise`);
    const png = Array.from(net.classify(f.png).logits);
    assert.deepEqual(b.pngFile, png, `${where} image ${i}: File of a PNG = Node's classify(png bytes)`);
    assert.deepEqual(b.pngBytes, png, `${where} image ${i}: PNG bytes = Node's classify(png bytes)`);
    // the browser's JPEG pixels, classified in Node: the same logits bit for bit
    const browserPixels = Uint8Array.from(b.jpegPixels);
    assert.deepEqual(b.jpegBlob, Array.from(net.classify({ data: browserPixels, width: 32, height: 32 }).logits), `${where} image ${i}: JPEG Blob = its pixels`);
    // jpeg-js's pixels and logits against the browser's
    const js = jpeg.decode(f.jpeg, { useTArray: true }).data;
    for (let p = 0; p < js.length; p++) if ((p & 3) !== 3) pixelDiff = Math.max(pixelDiff, Math.abs(js[p] - browserPixels[p]));
    const node = net.classify(f.jpeg);
    assert.equal(b.jpegTop, node.top[0].label, `${where} image ${i}: JPEG top class in the browser and in Node`);
    logitDiff = Math.max(logitDiff, maxRelDiff(b.jpegBlob, node.logits));
  });
  console.log(`${where}: JPEG, Chromium vs jpeg-js: max pixel difference ${pixelDiff} levels, max logit difference ${logitDiff.toExponential(2)} relative`);
  assert.ok(pixelDiff <= JPEG_PIXEL_BOUND, `${where}: JPEG pixels differ by ${pixelDiff} levels`);
  assert.ok(logitDiff <= JPEG_LOGIT_BOUND, `${where}: JPEG logits differ by ${logitDiff} relative`);

  const alpha = Array.from(net.classify(files.alpha).logits);
  assert.deepEqual(out.alphaBlob, alpha, `${where}: 50%-alpha PNG Blob = Node's classify of the same bytes`);
  assert.deepEqual(out.alphaBlob, Array.from(net.classify(files[3].img).logits), `${where}: ... = the opaque pixels`);
  console.log(`${where}: 50%-alpha PNG drawn through a canvas instead: logits differ by ${maxRelDiff(out.alphaCanvas, alpha).toExponential(2)} relative`);
  assert.equal(out.notImage, 'E_INPUT classify: got 5 bytes (Blob) that are not an image file; pass {data, width, height} with RGBA or RGB pixels, or the bytes of a PNG or JPEG file');
}

test('PNG and JPEG files as File, Blob and bytes on a page', { skip: SKIP || false }, async () => {
  check(await run(false), 'page');
});

test('the same in a module Web Worker', { skip: SKIP || false }, async () => {
  check(await run(true), 'worker');
});
