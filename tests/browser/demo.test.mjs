// Browser tests of the web demo (web/), in headless Debian Chromium driven by
// playwright-core. They use the page as a user would (camera, clicks, file
// inputs, drag-and-drop) and only read window.__demo and the DOM.
//
//   node --test tests/browser/
//
// Env: MNAS_TESTDATA (default ../shared) for CIFAR-10 and the reference
// models; CHROMIUM_PATH (default /usr/bin/chromium); DEMO_URL to test an
// already running server instead of starting tools/serve.mjs in-process.
// Screenshots go to test-output/ (camera.png, camera-contrast.png, camera-detail.png,
// no-camera.png, no-camera-phone.png, custom-model.png, custom-model-error.png,
// teach.png, teach-images.png, class-view.png, class-view-model.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS } from './engines.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TESTDATA = path.resolve(ROOT, process.env.MNAS_TESTDATA || '../shared');
const OUT = path.join(ROOT, 'test-output');
const BIG_MODEL = path.join(TESTDATA, 'models', 'mnasnet_a1.onnx');
const CIFAR_BIN = path.join(TESTDATA, 'data', 'cifar10_test.bin');

const BASE_ARGS = ['--headless', ...CHROMIUM_ARGS];

function skipReason() {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} not found (set CHROMIUM_PATH)`;
  if (!process.env.DEMO_URL) {
    const hasSdk = fs.existsSync(path.join(ROOT, 'js', 'package.json')) || fs.existsSync(path.join(ROOT, 'js', 'src', 'index.js'));
    if (!hasSdk) return 'the JS SDK (js/package.json) is missing';
    const dist = path.join(ROOT, 'js', 'dist');
    if (!fs.existsSync(dist) || !fs.readdirSync(dist).some((f) => f.endsWith('.wasm'))) return 'js/dist/*.wasm is missing (run make wasm)';
  }
  if (!fs.existsSync(CIFAR_BIN) || !fs.existsSync(BIG_MODEL)) return `reference data missing in ${TESTDATA} (set MNAS_TESTDATA)`;
  return null;
}
const SKIP = skipReason();
if (SKIP) console.log(`# browser tests skipped: ${SKIP}`);

let chromium, server, baseUrl, tmpDir, y4m;
const browsers = [];

before(async () => {
  if (SKIP) return;
  ({ chromium } = await import('playwright-core'));
  fs.mkdirSync(OUT, { recursive: true });
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnas-demo-'));
  const { makeY4m } = await import('../../tools/fixtures/make-y4m.mjs');
  y4m = makeY4m({ out: path.join(tmpDir, 'automobile.y4m'), size: 256, images: 6, framesPerImage: 8, fps: 10 });
  if (process.env.DEMO_URL) {
    baseUrl = process.env.DEMO_URL;
  } else {
    const { serve } = await import('../../tools/serve.mjs');
    const s = await serve({ port: 0, host: '127.0.0.1' });
    server = s.server;
    baseUrl = `http://127.0.0.1:${s.port}/`;
  }
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (server) await new Promise((r) => server.close(r));
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

async function launch(extraArgs) {
  const b = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BASE_ARGS, ...extraArgs] });
  browsers.push(b);
  return b;
}

/** Opens the demo and records console errors, page errors and failed or foreign requests. */
async function openDemo(context) {
  const page = await context.newPage();
  const problems = [];
  const origin = new URL(baseUrl).origin;
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`external request: ${u}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });
  page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') problems.push(`worker console error: ${m.text()}`); }));
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(baseUrl);
  return { page, problems };
}

const demo = (page, expr) => page.evaluate(expr);

async function waitDemo(page, fnSrc, timeout, what, arg = null) {
  try {
    await page.waitForFunction(fnSrc, arg, { timeout, polling: 100 });
  } catch (e) {
    const state = await page.evaluate(() => JSON.stringify({
      ready: window.__demo?.ready, frames: window.__demo?.frames, error: window.__demo?.error,
      camera: window.__demo?.camera, lastTop: window.__demo?.lastTop, modelInfo: window.__demo?.modelInfo && { ...window.__demo.modelInfo, labels: undefined },
    })).catch(() => '?');
    throw new Error(`timed out waiting for ${what}; page state ${state}`);
  }
}

/** Per-strip pixel statistics read from the SE canvases. */
function stripStats(page) {
  return page.evaluate(() => [...document.querySelectorAll('canvas.se-strip')].map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    let lit = 0;
    for (let i = 0; i < d.length; i += 16) {
      if (d[i + 3] && d[i] + d[i + 1] + d[i + 2] > 30) lit++;
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    }
    return { w: c.width, h: c.height, lit, colours: colours.size };
  }));
}

const snapshot = (page) => page.evaluate(() => ({
  frame: window.__demo.excitationsFrame,
  values: window.__demo.excitations.map((e) => Array.from(e.values)),
}));

function maxAbsDiff(a, b) {
  let m = 0;
  for (let k = 0; k < a.length; k++) for (let i = 0; i < a[k].length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
  return m;
}

test('fake camera: live automobile classification, metrics, 8 changing SE strips', { skip: SKIP || false, timeout: 90_000 }, async () => {
  const browser = await launch([
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${y4m.file}`,
  ]);
  const context = await browser.newContext({ permissions: ['camera'] });
  const { page, problems } = await openDemo(context);
  await waitDemo(page, () => window.__demo && window.__demo.ready && window.__demo.camera.state === 'live', 30_000, 'model and camera');

  // Collect gate snapshots while the video cycles through its images.
  const snaps = [];
  const t0 = Date.now();
  while (Date.now() - t0 < 9_000) {
    const s = await snapshot(page);
    if (s.values.length && (!snaps.length || snaps[snaps.length - 1].frame !== s.frame)) snaps.push(s);
    const frames = await demo(page, () => window.__demo.frames);
    if (frames >= 40 && Date.now() - t0 > 6_000) break;
    await page.waitForTimeout(120);
  }
  const st = await demo(page, () => ({
    frames: window.__demo.frames, counts: window.__demo.top1Counts, fps: window.__demo.fps,
    latencyMs: window.__demo.latencyMs, roundTripMs: window.__demo.roundTripMs, stripsDrawn: window.__demo.stripsDrawn,
    n: window.__demo.excitations.length, names: window.__demo.excitations.map((e) => e.name),
    latencyText: document.getElementById('latency').textContent, fpsText: document.getElementById('fps').textContent,
    top1Text: document.querySelector('#top3 .pred-label').textContent, backend: window.__demo.modelInfo.backend,
  }));
  console.log(`# camera: ${st.frames} frames, top-1 counts ${JSON.stringify(st.counts)}, ` +
    `fps ${st.fps.toFixed(1)}, inference ${st.latencyMs.toFixed(1)} ms, frame-to-result ${st.roundTripMs.toFixed(1)} ms, backend ${st.backend}`);
  assert.ok(st.frames >= 10, `only ${st.frames} frames classified`);
  // Chromium ships relaxed SIMD: the SDK's default picks the build with FMA.
  assert.equal(st.backend, 'wasm-relaxed-simd');
  const auto = st.counts.automobile || 0;
  assert.ok(auto / st.frames >= 0.6, `automobile top-1 on ${auto}/${st.frames} frames (< 60%)`);
  assert.ok(Number(st.latencyText) > 0, `latency shows "${st.latencyText}"`);
  assert.ok(Number(st.fpsText) > 0, `fps shows "${st.fpsText}"`);
  assert.ok(st.top1Text.length > 0 && st.top1Text !== '–');

  // All 8 SE strips drawn with more than one colour.
  assert.equal(st.n, 8, `expected 8 SE blocks, got ${st.n}`);
  assert.equal(st.stripsDrawn, 8);
  const strips = await stripStats(page);
  assert.equal(strips.length, 8);
  for (const [i, s] of strips.entries()) {
    assert.ok(s.w > 0 && s.h > 0 && s.lit > 0 && s.colours > 2, `strip ${i} (${st.names[i]}) looks empty: ${JSON.stringify(s)}`);
  }
  // Gates change between frames of different images.
  assert.ok(snaps.length >= 3, `only ${snaps.length} distinct gate snapshots`);
  let change = 0;
  for (let i = 1; i < snaps.length; i++) change = Math.max(change, maxAbsDiff(snaps[0].values, snaps[i].values));
  assert.ok(change > 0.05, `gates hardly change over the video (max |Δ| ${change})`);
  for (const v of snaps[snaps.length - 1].values.flat()) assert.ok(v >= 0 && v <= 1, `gate ${v} outside [0, 1]`);

  await page.screenshot({ path: path.join(OUT, 'camera.png'), fullPage: true });

  // Hovering a channel cell shows its index and gate.
  await page.hover('canvas.se-strip >> nth=0', { position: { x: 2, y: 2 } });
  assert.match(await page.textContent('#tip'), /channel 0 · gate [01]\.\d{3}/);
  assert.ok(await page.locator('#tip').isVisible());

  // Contrast stretches each strip's colours over the block's own range.
  await page.click('#stretch');
  assert.equal(await page.textContent('#legend-lo'), 'low');
  await page.waitForTimeout(500);
  assert.match(await page.textContent('.se-block .se-mean'), /colours 0\.\d\d … 0\.\d\d|colours 1\.00/);
  await page.screenshot({ path: path.join(OUT, 'camera-contrast.png'), fullPage: true });
  await page.click('#stretch');
  assert.equal(await page.textContent('#legend-lo'), '0');

  // Freeze holds the frame, difference mode recolours, a block opens its detail view.
  await page.click('#freeze');
  await page.waitForTimeout(400);
  const f1 = await demo(page, () => window.__demo.frames);
  await page.waitForTimeout(800);
  const f2 = await demo(page, () => window.__demo.frames);
  assert.equal(f2, f1, 'frames kept coming while frozen');
  await page.click('#diff');
  assert.equal(await page.textContent('#legend-name'), 'Δ gate vs frozen frame');
  await page.click('#freeze'); // live again, differences against the frozen frame
  await waitDemo(page, (n) => window.__demo.frames > n + 3, 15_000, 'frames after unfreezing', f2);
  assert.ok((await stripStats(page)).every((x) => x.lit > 0), 'strips empty in difference mode');
  await page.click('#diff'); // back to gates for the detail view
  assert.match(await page.textContent('#legend-name'), /^gate/);
  await page.click('.se-block[data-index="4"]');
  await waitDemo(page, () => document.getElementById('detail').open, 5_000, 'detail dialog');
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(OUT, 'camera-detail.png') });
  await page.keyboard.press('Escape');

  assert.deepEqual(problems, []);
  await context.close();
});

test('camera denied: plain message, sample images and uploads classified', { skip: SKIP || false, timeout: 60_000 }, async () => {
  // A camera exists (fake device) but the context has no camera permission and
  // there is no auto-accepting prompt: getUserMedia is refused.
  const browser = await launch(['--use-fake-device-for-media-stream']);
  const context = await browser.newContext();
  const { page, problems } = await openDemo(context);
  await waitDemo(page, () => window.__demo && !['idle', 'starting', 'live'].includes(window.__demo.camera.state), 20_000, 'camera failure');
  assert.equal(await demo(page, () => window.__demo.camera.state), 'denied');
  const notice = page.locator('#camera-notice');
  assert.ok(await notice.isVisible(), 'camera notice hidden');
  const text = await notice.textContent();
  assert.match(text, /camera access was denied/i);
  assert.match(text, /sample images/i);
  assert.ok(await page.locator('#samples .sample').count() >= 10, 'sample images not offered');

  await waitDemo(page, () => window.__demo.ready && window.__demo.frames > 0, 30_000, 'model');
  // Once loaded, the page works without the network.
  await context.setOffline(true);
  await page.click('#samples .sample[data-label="cat"]');
  await waitDemo(page, () => window.__demo.source === 'sample' && window.__demo.resultSource.startsWith('cat') &&
    window.__demo.lastTop && window.__demo.lastTop[0].label === 'cat' && document.querySelector('#top3 .pred-label').textContent === 'cat',
  20_000, 'cat sample classified as cat');

  // Every sample is classified as its own class (they were picked from images PyTorch gets right).
  const labels = await page.$$eval('#samples .sample', (bs) => bs.map((b) => b.dataset.label));
  const wrong = [];
  for (const [i, label] of labels.entries()) {
    const file = await page.getAttribute(`#samples .sample >> nth=${i}`, 'data-name');
    await page.click(`#samples .sample >> nth=${i}`);
    await waitDemo(page, (f) => window.__demo.resultSource === f && window.__demo.lastTop,
      10_000, `sample ${file}`, file);
    const got = await demo(page, () => window.__demo.lastTop[0].label);
    if (got !== label) wrong.push(`${file} -> ${got}`);
  }
  assert.equal(wrong.length, 0, `samples not classified as their class: ${wrong.join(', ')}`);

  // Upload of an image file.
  const files = fs.readdirSync(path.join(ROOT, 'web', 'samples')).filter((f) => f.startsWith('ship') && f.endsWith('.png'));
  await page.setInputFiles('#image-file', path.join(ROOT, 'web', 'samples', files[0]));
  await waitDemo(page, () => window.__demo.source === 'upload' && window.__demo.resultSource.startsWith('ship') && window.__demo.lastTop[0].label === 'ship', 10_000, 'uploaded ship');
  await page.click(`#samples .sample[data-label="cat"]`);
  await waitDemo(page, () => window.__demo.resultSource.startsWith('cat') && window.__demo.lastTop[0].label === 'cat', 10_000, 'cat again');
  assert.equal((await stripStats(page)).filter((s) => s.lit > 0).length, 8);
  await page.screenshot({ path: path.join(OUT, 'no-camera.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 }); // phone
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a phone screen`);
  await page.screenshot({ path: path.join(OUT, 'no-camera-phone.png'), fullPage: true });

  assert.deepEqual(problems, []);
  await context.close();
});

test('bring your own model: mnasnet_a1.onnx loads (1000 classes, 8 SE), a non-ONNX file shows the SDK error', { skip: SKIP || false, timeout: 90_000 }, async () => {
  const browser = await launch([]); // no camera at all
  const context = await browser.newContext();
  const { page, problems } = await openDemo(context);
  await waitDemo(page, () => window.__demo?.ready && window.__demo.camera.state !== 'starting' && window.__demo.frames > 0, 30_000, 'default model and a sample');
  assert.equal(await demo(page, () => window.__demo.camera.state), 'none');
  assert.match(await page.textContent('#camera-notice'), /no camera was found/i);

  await page.setInputFiles('#model-file', BIG_MODEL);
  await waitDemo(page, () => window.__demo.modelInfo?.name === 'mnasnet_a1.onnx' && !window.__demo.loading, 60_000, 'mnasnet_a1.onnx');
  const mi = await demo(page, () => window.__demo.modelInfo);
  assert.equal(mi.classes, 1000);
  assert.equal(mi.seBlocks.length, 8);
  assert.equal(await demo(page, () => window.__demo.error), null);
  // Teach mode works with the dropped-in model too (its own empty head).
  await waitDemo(page, () => window.__demo.teach.available && window.__demo.teach.classes.length === 0, 5_000, 'Teach panel for the new model');
  assert.ok(await page.locator('#teach-add').isVisible());
  assert.match(await page.textContent('#mi-classes'), /^1000\b/);
  assert.match(await page.textContent('#mi-se'), /^8\b/);
  assert.match(await page.textContent('#mi-input'), /224/);
  assert.notEqual(await page.textContent('#mi-params'), '–');
  assert.notEqual(await page.textContent('#mi-macs'), '–');
  assert.equal(await page.locator('.se-block').count(), 8);
  const names = await page.$$eval('.se-block .se-name', (els) => els.map((e) => e.textContent));
  assert.deepEqual(names, mi.seBlocks.map((b) => b.name));
  // The current image is classified again with the new model.
  await waitDemo(page, () => window.__demo.excitations.length === 8 && window.__demo.excitations[7].channels === window.__demo.modelInfo.seBlocks[7].channels,
    30_000, 'classification with the new model');
  const strips = await stripStats(page);
  assert.equal(strips.filter((s) => s.lit > 0).length, 8);
  await page.screenshot({ path: path.join(OUT, 'custom-model.png'), fullPage: true });

  // A file that is not an ONNX model, dropped on the page.
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['this is a plain text file, not a model\n'.repeat(8)], 'notes.txt', { type: 'text/plain' }));
    for (const type of ['dragenter', 'dragover', 'drop']) {
      document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  });
  await waitDemo(page, () => window.__demo.error && /notes\.txt/.test(window.__demo.error.context) && !window.__demo.loading, 20_000, 'model error');
  const err = await demo(page, () => window.__demo.error);
  assert.ok(err.message && err.message.length > 5, 'empty error message');
  assert.ok(err.code != null, 'the error carries no MnasNetError code');
  const banner = page.locator('#error');
  assert.ok(await banner.isVisible());
  assert.ok((await banner.textContent()).includes(err.message), 'banner does not show the SDK message');
  // The previous model keeps working.
  assert.equal(await demo(page, () => window.__demo.modelInfo.classes), 1000);
  assert.ok(await page.locator('#drop-overlay').isHidden());
  await page.screenshot({ path: path.join(OUT, 'custom-model-error.png') });

  assert.deepEqual(problems, []);
  await context.close();
});

test('teach: record from the camera, add files, the prediction switches to the taught classes and back; download, clear, load, reload', { skip: SKIP || false, timeout: 120_000 }, async () => {
  const browser = await launch([
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${y4m.file}`,
  ]);
  const context = await browser.newContext({ permissions: ['camera'], acceptDownloads: true });
  const { page, problems } = await openDemo(context);
  await waitDemo(page, () => window.__demo?.ready && window.__demo.camera.state === 'live' && window.__demo.teach?.available && window.__demo.frames > 5,
    30_000, 'model, camera and the Teach panel');
  assert.equal(await demo(page, () => window.__demo.predictionSource), 'model');
  assert.ok(await page.locator('#pred-switch').isHidden(), 'the switch shows before anything is taught');

  // A class by name, then hold its Record button for two seconds of the 10 fps fake camera.
  await page.fill('#teach-name', 'road');
  await page.press('#teach-name', 'Enter');
  await waitDemo(page, () => window.__demo.teach.classes.length === 1, 5_000, 'class road');
  assert.equal(await page.inputValue('.tclass-name >> nth=0'), 'road');
  const before = await demo(page, () => ({ frames: window.__demo.frames, t: performance.now() }));
  const rec = page.locator('.tclass-record >> nth=0');
  await rec.hover();
  await page.mouse.down();
  await waitDemo(page, () => window.__demo.teach.recording === 'road', 2_000, 'recording');
  await page.waitForTimeout(2_000);
  await page.mouse.up();
  const after = await demo(page, () => ({ frames: window.__demo.frames, t: performance.now(), fps: window.__demo.fps,
    recording: window.__demo.teach.recording, count: window.__demo.teach.classes[0].count }));
  const fpsWhileRecording = ((after.frames - before.frames) * 1000) / (after.t - before.t);
  console.log(`# teach: recorded ${after.count} examples in 2 s; classified ${fpsWhileRecording.toFixed(1)} frames/s meanwhile (camera 10 fps)`);
  assert.equal(after.recording, null, 'still recording after the button was released');
  assert.ok(after.count >= 12, `only ${after.count} examples recorded in 2 s`);
  assert.ok(fpsWhileRecording >= 8, `recording dropped the classified frame rate to ${fpsWhileRecording.toFixed(1)}/s`);
  // Holding the class's number key records too.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.down('1');
  await page.waitForTimeout(700);
  await page.keyboard.up('1');
  const count2 = await demo(page, () => window.__demo.teach.classes[0].count);
  assert.ok(count2 >= after.count + 4, `key 1 added ${count2 - after.count} examples in 0.7 s`);
  assert.ok(await page.locator('.tclass >> nth=0 >> .thumb').count() >= 3, 'no thumbnails');

  // A second class from image files (animal samples): two classes taught, the panel switches.
  await page.fill('#teach-name', 'animals');
  await page.click('#teach-add-btn');
  await waitDemo(page, () => window.__demo.teach.classes.length === 2, 5_000, 'class animals');
  const animals = fs.readdirSync(path.join(ROOT, 'web', 'samples')).filter((f) => /^(cat|dog|frog|horse|deer|bird)-.*\.png$/.test(f));
  await page.setInputFiles('.tclass >> nth=1 >> .tclass-file', animals.map((f) => path.join(ROOT, 'web', 'samples', f)));
  await waitDemo(page, (n) => window.__demo.teach.classes[1].count === n, 10_000, 'animal examples', animals.length);
  await waitDemo(page, () => window.__demo.teach.ready && window.__demo.predictionSource === 'taught' && window.__demo.lastTop?.[0]?.label === 'road',
    10_000, 'taught prediction "road" on the camera');
  assert.equal(await page.textContent('#top3 .pred-label'), 'road');
  assert.equal(await page.textContent('#pred-source'), 'taught classes');
  const labels = await page.$$eval('#top3 .pred-label', (els) => els.map((e) => e.textContent));
  assert.deepEqual(labels, ['road', 'animals', '–'], `taught panel shows ${labels}`);
  // The class view holds the gates of every example, recorded frames and files alike.
  await page.click('#cv-toggle');
  await waitDemo(page, () => window.__demo.classStats.length === 8 &&
    window.__demo.classStats.every((b) => b.counts.join() === window.__demo.teach.classes.map((c) => c.count).join()),
  10_000, 'class view with the gates of every taught example');
  await page.click('#cv-toggle');
  await page.screenshot({ path: path.join(OUT, 'teach.png'), fullPage: true });

  // The visible way back to the model's classes, and again to the taught ones.
  assert.ok(await page.locator('#pred-switch').isVisible());
  await page.click('#pred-switch');
  await waitDemo(page, () => window.__demo.predictionSource === 'model' && window.__demo.lastTop[0].label === 'automobile', 5_000, "the model's classes");
  assert.equal(await page.textContent('#pred-source'), 'model classes');
  await page.click('#pred-switch');
  await waitDemo(page, () => window.__demo.predictionSource === 'taught', 5_000, 'the taught classes again');

  // Download, clear, load the file back.
  const counts = await demo(page, () => window.__demo.teach.classes.map((c) => `${c.name}:${c.count}`));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#teach-download')]);
  const file = path.join(tmpDir, download.suggestedFilename());
  await download.saveAs(file);
  const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(saved.format, 'mnasnet-wasm/teachable-head');
  assert.deepEqual(saved.classes.map((c) => `${c.name}:${c.examples.length}`), counts);
  assert.equal(saved.model.embeddingSize, 1280);
  assert.ok(Object.keys(saved.demo.thumbnails).length >= 6, 'the file carries no thumbnails');
  await page.click('#teach-clear');
  await waitDemo(page, () => window.__demo.teach.classes.length === 0 && window.__demo.predictionSource === 'model', 5_000, 'cleared');
  assert.ok(await page.locator('#pred-switch').isHidden());
  await page.setInputFiles('#teach-file', file);
  await waitDemo(page, (c) => JSON.stringify(window.__demo.teach.classes.map((x) => `${x.name}:${x.count}`)) === c, 10_000, 'loaded file', JSON.stringify(counts));
  await waitDemo(page, () => window.__demo.predictionSource === 'taught' && window.__demo.lastTop[0].label === 'road', 10_000, 'taught prediction after loading');
  assert.ok(await page.locator('.thumb').count() >= 6, 'thumbnails not restored from the file');

  // Kept in localStorage for this model: a reload brings the classes back.
  await waitDemo(page, (c) => Object.keys(localStorage).some((k) => {
    const o = k.startsWith('mnasnet-wasm/head/') && JSON.parse(localStorage.getItem(k));
    return o && JSON.stringify(o.classes.map((x) => `${x.name}:${x.examples.length}`)) === c;
  }), 5_000, 'saved in localStorage', JSON.stringify(counts));
  await page.reload();
  await waitDemo(page, () => window.__demo?.teach?.restored && window.__demo.camera.state === 'live', 30_000, 'classes restored after a reload');
  assert.deepEqual(await demo(page, () => window.__demo.teach.classes.map((c) => `${c.name}:${c.count}`)), counts);

  assert.deepEqual(problems, []);
  await context.close();
});

test('teach from sample images: the prediction follows the input among the taught classes', { skip: SKIP || false, timeout: 60_000 }, async () => {
  const browser = await launch([]); // no camera: the Images tab
  const context = await browser.newContext();
  const { page, problems } = await openDemo(context);
  await waitDemo(page, () => window.__demo?.ready && window.__demo.frames > 0 && window.__demo.teach?.available, 30_000, 'model and a sample');
  assert.ok(await page.locator('.tclass-record').count() === 0);
  const teachShown = async (name, sample) => {
    await page.click(`#samples .sample[data-name="${sample}"]`);
    await waitDemo(page, (s) => window.__demo.resultSource === s, 10_000, `sample ${sample}`, sample);
    if (!(await page.evaluate((n) => window.__demo.teach.classes.some((c) => c.name === n), name))) {
      await page.fill('#teach-name', name);
      await page.press('#teach-name', 'Enter');
      await waitDemo(page, (n) => window.__demo.teach.classes.some((c) => c.name === n), 5_000, `class ${name}`, name);
    }
    const i = await page.evaluate((n) => window.__demo.teach.classes.findIndex((c) => c.name === n), name);
    assert.equal(await page.locator(`.tclass >> nth=${i} >> .tclass-record`).isDisabled(), true, 'recording offered without a camera');
    const n0 = await page.evaluate((k) => window.__demo.teach.classes[k].count, i);
    await page.click(`.tclass >> nth=${i} >> .tclass-shown`);
    await waitDemo(page, ([k, n]) => window.__demo.teach.classes[k].count === n + 1, 10_000, `example of ${name}`, [i, n0]);
  };
  await teachShown('kitty', 'cat-3000.png');
  assert.equal(await demo(page, () => window.__demo.predictionSource), 'model');
  await teachShown('boat', 'ship-8000.png');
  await teachShown('car', 'automobile-1000.png');
  // Other pictures than the examples: the taught classes follow the input.
  for (const [sample, want] of [['cat-3496.png', 'kitty'], ['ship-8498.png', 'boat'], ['automobile-1495.png', 'car'], ['cat-3000.png', 'kitty']]) {
    await page.click(`#samples .sample[data-name="${sample}"]`);
    await waitDemo(page, (s) => window.__demo.resultSource === s && window.__demo.predictionSource === 'taught', 10_000, `taught prediction for ${sample}`, sample);
    assert.equal(await demo(page, () => window.__demo.lastTop[0].label), want, `${sample} taken for ${await demo(page, () => window.__demo.lastTop[0].label)}`);
    assert.equal(await page.textContent('#top3 .pred-label'), want);
  }
  // Rename and remove a class.
  await page.fill('.tclass-name >> nth=0', 'cat');
  await page.press('.tclass-name >> nth=0', 'Enter');
  await waitDemo(page, () => window.__demo.teach.classes[0].name === 'cat', 5_000, 'renamed');
  await page.click('.tclass >> nth=2 >> .tclass-remove');
  await waitDemo(page, () => window.__demo.teach.classes.length === 2, 5_000, 'class removed');
  await page.click('#samples .sample[data-name="cat-3496.png"]');
  await waitDemo(page, () => window.__demo.resultSource === 'cat-3496.png' && window.__demo.lastTop[0].label === 'cat', 10_000, 'renamed class predicted');
  await page.screenshot({ path: path.join(OUT, 'teach-images.png'), fullPage: true });

  // Excitation by class over the two taught classes, two pictures each (the
  // gates recorded under "kitty" follow the rename to "cat").
  await teachShown('cat', 'cat-3496.png');
  await teachShown('boat', 'ship-8498.png');
  await page.click('#cv-toggle');
  assert.equal(await page.getAttribute('#cv-toggle', 'aria-expanded'), 'true');
  await waitDemo(page, () => window.__demo.classStats.length > 0 && window.__demo.classStats[0].counts.join() === '2,2', 10_000, 'class view of the taught classes');
  const taughtStats = await demo(page, () => window.__demo.classStats);
  assert.equal(taughtStats.length, 8, `${taughtStats.length} SE blocks in the class view`);
  for (const b of taughtStats) {
    assert.deepEqual(b.classes, ['cat', 'boat']);
    assert.ok(Number.isFinite(b.specificity) && b.specificity >= 0 && b.specificity <= 1, `${b.name}: specificity ${b.specificity}`);
  }
  // Two pictures a class differ in their gates: no block separates the classes perfectly.
  assert.ok(taughtStats.every((b) => b.specificity < 1), `specificity 1 on ${taughtStats.filter((b) => b.specificity >= 1).map((b) => b.name)}`);
  assert.equal(await page.locator('.cv-row').count(), 8);
  assert.deepEqual(await page.$$eval('.cv-row .cv-spec', (els) => els.map((e) => e.textContent)), taughtStats.map((b) => b.specificity.toFixed(3)));
  assert.deepEqual(await page.$$eval('.cv-legend .cv-key', (els) => els.map((e) => e.textContent)), ['cat', 'boat']);
  // Each class draws a line on every block's plot.
  const plotted = await page.$$eval('canvas.cv-plot', (cs) => cs.map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 100 && d[i] + d[i + 1] + d[i + 2] > 200) lit++;
    return lit;
  }));
  assert.ok(plotted.length === 8 && plotted.every((n) => n > 20), `plots look empty: ${plotted}`);
  // Keyboard: Enter on the last block lists its 20 most class-separating channels.
  await page.focus('.cv-row >> nth=7');
  await page.keyboard.press('Enter');
  await waitDemo(page, () => !document.getElementById('cv-channels').hidden, 5_000, 'channel list');
  assert.equal(await demo(page, () => window.__demo.classView.selected), taughtStats[7].name);
  assert.equal(await page.locator('#cv-channels tbody tr').count(), 20);
  const shares = await page.$$eval('#cv-channels tbody tr', (rows) => rows.map((r) => Number(r.cells[1].textContent)));
  for (let k = 1; k < shares.length; k++) assert.ok(shares[k] <= shares[k - 1], `channel shares not sorted: ${shares}`);
  await page.locator('#classview').screenshot({ path: path.join(OUT, 'class-view.png') });

  // The model's own classes over the sample pictures (each is classified as its own class).
  await page.click('#cv-model');
  await waitDemo(page, () => window.__demo.classView.source === 'model' && window.__demo.classStats[0]?.classes.length === 10, 20_000, "class view of the model's classes");
  const modelStats = await demo(page, () => window.__demo.classStats);
  assert.equal(modelStats.length, 8);
  for (const b of modelStats) assert.ok(Number.isFinite(b.specificity) && b.specificity >= 0 && b.specificity <= 1, `${b.name}: specificity ${b.specificity}`);
  assert.match(await page.textContent('#cv-status'), /top-1 = CIFAR-10 label on 20\/20/);
  console.log(`# class-specificity, taught cat/boat: ${taughtStats.map((b) => b.specificity.toFixed(3)).join(' ')}`);
  console.log(`# class-specificity, model classes over the samples: ${modelStats.map((b) => b.specificity.toFixed(3)).join(' ')}`);
  await page.locator('#classview').screenshot({ path: path.join(OUT, 'class-view-model.png') });
  assert.deepEqual(problems, []);
  await context.close();
});
