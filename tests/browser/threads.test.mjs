// Threads in Debian's Chromium (playwright-core):
//   - a page without cross-origin isolation falls back to one thread, still
//     classifies, says why in info.threadsReason, and warns on the console
//     only when threads were asked for explicitly;
//   - the same page cross-origin isolated (COOP: same-origin, COEP:
//     require-corp) runs 2 threads, both on the page and with the SDK inside
//     a module Web Worker (nested workers), with logits identical bit for bit
//     to one thread's; its workers end with dispose();
//   - the demo (tools/serve.mjs, cross-origin isolated) shows its threads and
//     switches the running model between 1 and all of them.
//
//   node --test tests/browser/threads.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS } from './engines.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARGS = ['--headless', ...CHROMIUM_ARGS];

function skipReason() {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} not found (set CHROMIUM_PATH)`;
  for (const f of ['mnasnet.wasm', 'mnasnet-threads-relaxed.wasm', 'mnasnet_a1_cifar10.onnx']) {
    if (!fs.existsSync(path.join(ROOT, 'js/dist', f))) return `js/dist/${f} is missing (run make wasm)`;
  }
  return null;
}
const SKIP = skipReason();
if (SKIP) console.log(`# browser threads tests skipped: ${SKIP}`);

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

// /iso/<file> and /plain/<file>: files of js/ and tests/browser/pages/,
// with and without the cross-origin isolation headers.
function pagesServer() {
  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const [, mode, ...rest] = url.pathname.split('/');
    const rel = rest.join('/');
    const file = path.resolve(ROOT, rel);
    const allowed = ['js', 'tests/browser/pages'].some((d) => file.startsWith(path.join(ROOT, d) + path.sep));
    if ((mode !== 'iso' && mode !== 'plain') || !allowed || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
      'Cache-Control': 'no-cache',
      ...(mode === 'iso' ? ISOLATION : {}),
    });
    fs.createReadStream(file).pipe(res);
  });
}

let chromium, browser, server, base, demoServer, demoBase;

before(async () => {
  if (SKIP) return;
  ({ chromium } = await import('playwright-core'));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  server = pagesServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  const { serve } = await import('../../tools/serve.mjs');
  const s = await serve({ port: 0, host: '127.0.0.1' });
  demoServer = s.server;
  demoBase = `http://127.0.0.1:${s.port}/`;
});

after(async () => {
  await browser?.close().catch(() => {});
  if (server) await new Promise((r) => server.close(r));
  if (demoServer) await new Promise((r) => demoServer.close(r));
});

async function openPage(mode) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  await page.goto(`${base}/${mode}/tests/browser/pages/threads.html`);
  await page.waitForFunction(() => window.pageReady === true, null, { timeout: 30000 });
  return { page, problems };
}

const runCase = (page, options) => page.evaluate((o) => window.runCase(o), options);

test('without cross-origin isolation: one thread, a reason, a warning only when threads were asked for', { skip: SKIP || false }, async () => {
  const { page, problems } = await openPage('plain');
  const auto = await runCase(page, {});
  assert.equal(auto.crossOriginIsolated, false);
  assert.equal(auto.threads, 1);
  assert.match(auto.reason, /not cross-origin isolated: serve it with Cross-Origin-Opener-Policy: same-origin/);
  assert.deepEqual(auto.warnings, []);
  assert.equal(auto.sameOnOneThread && auto.sameAfterSwitch, true);
  assert.equal(auto.backend, 'wasm-relaxed-simd');

  const asked = await runCase(page, { threads: 2 });
  assert.equal(asked.threads, 1);
  assert.equal(asked.warnings.length, 1);
  assert.match(asked.warnings[0], /2 threads asked for, running on 1: the page is not cross-origin isolated/);
  assert.deepEqual(asked.bits, auto.bits);

  const inWorker = await runCase(page, { inWorker: true, threads: 2 });
  assert.equal(inWorker.threads, 1);
  assert.deepEqual(inWorker.bits, auto.bits);
  assert.deepEqual(problems, []);
  await page.close();
});

test('cross-origin isolated: 2 threads on the page and inside a Web Worker, the same bits as one thread', { skip: SKIP || false }, async () => {
  const { page, problems } = await openPage('iso');
  const one = await runCase(page, { threads: 1 });
  assert.equal(one.crossOriginIsolated, true);
  assert.equal(one.threads, 1);
  assert.equal(one.reason, null);

  const two = await runCase(page, { threads: 2 });
  assert.equal(two.threads, 2);
  assert.equal(two.reason, null);
  assert.deepEqual(two.warnings, []);
  assert.equal(two.backend, 'wasm-relaxed-simd');
  assert.deepEqual(two.bits, one.bits);
  assert.equal(two.sameOnOneThread && two.sameAfterSwitch, true);

  const auto = await runCase(page, {});
  assert.equal(auto.threads, Math.min(4, auto.hardwareConcurrency));
  assert.deepEqual(auto.bits, one.bits);

  const inWorker = await runCase(page, { inWorker: true, threads: 2 });
  assert.equal(inWorker.crossOriginIsolated, true);
  assert.equal(inWorker.threads, 2);
  assert.deepEqual(inWorker.bits, one.bits);

  // dispose() ended the page's workers (runCase disposes its model); the
  // browser reports a worker's end a moment after terminate(), and for the
  // worker that held the SDK's own nested workers it once took over 5 s on
  // a busy 2-core machine
  const t0 = Date.now();
  while (page.workers().length && Date.now() - t0 < 20000) await page.waitForTimeout(100);
  assert.equal(page.workers().length, 0, `workers left: ${page.workers().map((w) => w.url()).join(' ')}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the demo shows its threads and switches between 1 and all of them while classifying', { skip: SKIP || false }, async () => {
  const b = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: [...ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
  try {
    const context = await b.newContext({ permissions: ['camera'] });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(demoBase);
    await page.waitForFunction(() => window.__demo?.ready && window.__demo.frames > 3, null, { timeout: 60000 });
    const t = await page.evaluate(() => ({ ...window.__demo.threads, isolated: crossOriginIsolated, hc: navigator.hardwareConcurrency }));
    assert.equal(t.isolated, true);
    assert.equal(t.available, Math.min(4, t.hc));
    assert.equal(t.using, t.available);
    assert.match(await page.textContent('#mi-threads'), new RegExp(`^${t.available} of ${t.available} run on 1$`));
    for (const want of [1, t.available]) {
      await page.click('#threads-switch');
      await page.waitForFunction((n) => window.__demo.threads.using === n, want, { timeout: 20000 });
      const frames = await page.evaluate(() => window.__demo.frames);
      await page.waitForFunction((f) => window.__demo.frames > f + 3, frames, { timeout: 30000 });
      assert.match(await page.textContent('#mi-threads'), new RegExp(`^${want} of ${t.available} `));
    }
    assert.deepEqual(problems, []);
  } finally {
    await b.close();
  }
});
