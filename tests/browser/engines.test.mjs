// The SDK and the demo in three browser engines from Debian: Chromium,
// Firefox ESR and WebKitGTK (Safari's engine), through tests/browser/engines.mjs.
// In each engine:
//   - SDK: a cross-origin isolated page loads the default model with no
//     options, classifies CIFAR-10 test image 0 (an airplane) and gives
//     logits within 1e-4 (relative) of Node's with the same build; the build
//     it picked, the .wasm it fetched and its threads are recorded;
//   - demo: the page loads, the model loads, a sample picture is classified
//     as its class and the 8 SE strips are drawn; the camera (Chromium's fake
//     device, Firefox's fake stream, WebKit's mock device) classifies live
//     frames where the engine has one.
// An engine that cannot start is skipped with the reason printed.
// Chromium's detailed tests are demo.test.mjs and threads.test.mjs.
//
// Writes test-output/browsers.json and browsers.md (the README's browser
// matrix) and a screenshot per engine (demo-<engine>.png).
//   node --test tests/browser/engines.test.mjs      (env ENGINES=firefox,webkit to pick)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENGINES, ENGINE_NAMES, startEngine } from './engines.mjs';
import { cifarImage, maxRelDiff } from '../js/helpers.mjs';
import { THREADS_WASM_FILES, WASM_FILES } from '../../js/src/loader.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TESTDATA = path.resolve(ROOT, process.env.MNAS_TESTDATA || '../shared');
const OUT = path.join(ROOT, 'test-output');
const CIFAR_BIN = path.join(TESTDATA, 'data', 'cifar10_test.bin');
const PICK = process.env.ENGINES ? process.env.ENGINES.split(',').map((s) => s.trim()) : ENGINES;
const BUILD_OF = { 'wasm-relaxed-simd': 'relaxed', 'wasm-simd128': 'simd', scalar: 'scalar' };

function skipReason() {
  for (const f of ['mnasnet.wasm', 'mnasnet-relaxed.wasm', 'mnasnet-scalar.wasm', 'mnasnet-threads.wasm', 'mnasnet-threads-relaxed.wasm', 'mnasnet_a1_cifar10.onnx']) {
    if (!fs.existsSync(path.join(ROOT, 'js/dist', f))) return `js/dist/${f} is missing (run make wasm)`;
  }
  if (!fs.existsSync(CIFAR_BIN)) return `${CIFAR_BIN} not found (set MNAS_TESTDATA)`;
  return null;
}
const SKIP = skipReason();
if (SKIP) console.log(`# browser engine tests skipped: ${SKIP}`);

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };

let image, nodeRef, sdkServer, sdkBase, demoServer, demoBase;
const requests = []; // paths the two servers answered, in order
const rows = []; // one per engine, for browsers.json / browsers.md

// /js/<p> and /tests/browser/pages/<p>, cross-origin isolated, and /image.rgba.
function sdkPagesServer() {
  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    requests.push(url.pathname);
    const iso = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, iso);
      res.end();
      return;
    }
    if (url.pathname === '/image.rgba') {
      res.writeHead(200, { ...iso, 'Content-Type': 'application/octet-stream' });
      res.end(image.data);
      return;
    }
    const file = path.resolve(ROOT, `.${decodeURIComponent(url.pathname)}`);
    const allowed = ['js', 'tests/browser/pages'].some((d) => file.startsWith(path.join(ROOT, d) + path.sep));
    if (!allowed || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, iso);
      res.end();
      return;
    }
    res.writeHead(200, { ...iso, 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
}

/** The file the SDK's loader maps a build and thread count to. */
const wasmFile = (backend, threads) => (threads > 1 ? THREADS_WASM_FILES : WASM_FILES)[BUILD_OF[backend]];
const listen = (server) => new Promise((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${server.address().port}`)));
const wasmSince = (from) => [...new Set(requests.slice(from).filter((p) => p.endsWith('.wasm')).map((p) => p.split('/').pop()))];

/** The build and threads Node picks with no options, in a fresh process (no V8 flags). */
function nodeDefault() {
  const script = `
    const { MnasNet } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'js/src/index.js')).href)});
    const net = await MnasNet.load();
    console.log(JSON.stringify({ backend: net.info.backend, threads: net.info.threads }));
    net.dispose();`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

before(async () => {
  if (SKIP) return;
  fs.mkdirSync(OUT, { recursive: true });
  image = cifarImage(fs.readFileSync(CIFAR_BIN), 0);
  sdkServer = sdkPagesServer();
  sdkBase = await listen(sdkServer);
  const { serve } = await import('../../tools/serve.mjs');
  const s = await serve({ port: 0, host: '127.0.0.1', log: (m, p) => requests.push(p) });
  demoServer = s.server;
  demoBase = `http://127.0.0.1:${s.port}/`;
  nodeRef = { version: process.versions.node, ...nodeDefault(), logits: {} };
});

after(async () => {
  if (sdkServer) await new Promise((r) => sdkServer.close(r));
  if (demoServer) { demoServer.closeAllConnections?.(); await new Promise((r) => demoServer.close(r)); }
  if (!rows.length) return;
  const engines = JSON.parse(fs.readFileSync(path.join(ROOT, 'js/package.json'), 'utf8')).engines?.node || '?';
  // Node reads its .wasm from disk: the file is the one the SDK's loader maps the build to.
  const wasm = wasmFile(nodeRef.backend, nodeRef.threads);
  const result = { node: { engines, version: nodeRef.version, backend: nodeRef.backend, threads: nodeRef.threads, wasm }, browsers: rows };
  fs.writeFileSync(path.join(OUT, 'browsers.json'), JSON.stringify(result, null, 2) + '\n');
  fs.writeFileSync(path.join(OUT, 'browsers.md'), markdown(result));
});

function status(part) {
  if (!part) return 'not run';
  if (part.skipped) return `skipped: ${part.skipped}`;
  if (part.error) return `fails: ${part.error.split('\n')[0]}`;
  return 'pass';
}

function markdown({ node, browsers }) {
  const lines = [
    '| runtime | version | build it picks (`.wasm` fetched) | threads | SDK: CIFAR-10 image 0, logits vs Node | demo: sample classified, SE strips | demo camera |',
    '|---|---|---|---|---|---|---|',
    `| Node.js (package: \`${node.engines}\`) | ${node.version} | ${node.backend} (${node.wasm}) | ${node.threads} | reference | — | — |`,
  ];
  for (const r of browsers) {
    if (r.skipped) {
      lines.push(`| ${r.label} | — | — | — | skipped: ${r.skipped} | skipped | skipped |`);
      continue;
    }
    const s = r.sdk || {};
    const build = s.backend ? `${s.backend} (${s.wasm.join(', ')})` : '?';
    const threads = s.threads == null ? '?' : `${s.threads}${s.threads > 1 ? '' : ` (${s.threadsReason || 'no reason given'})`}`;
    const sdk = status(s) + (s.maxRelDiff != null ? ` (max rel. diff ${s.maxRelDiff.toExponential(1)})` : '');
    const d = r.demo || {};
    const demo = status(d) + (d.backend ? ` (${d.backend}, ${d.threads} thread${d.threads === 1 ? '' : 's'}; ${d.wasm.join(', ')})` : '');
    // (the frame count varies from run to run: it is in browsers.json only)
    const cam = d.camera ? (d.camera.frames ? 'live, frames classified' : `skipped: ${d.camera.skipped}`) : status(d);
    lines.push(`| ${r.label} | ${r.version} | ${build} | ${threads} | ${sdk} | ${demo} | ${cam} |`);
  }
  return lines.join('\n') + '\n';
}

/** Node's logits for image 0 with a given build (the V8 flag of helpers.mjs lets Node 20 run 'relaxed'). */
async function nodeLogits(build) {
  if (!nodeRef.logits[build]) {
    const { MnasNet } = await import('../../js/src/index.js');
    const net = await MnasNet.load(undefined, { wasm: build, threads: 1 });
    const r = net.classify({ data: image.data, width: 32, height: 32 });
    nodeRef.logits[build] = { logits: Array.from(r.logits), label: net.info.labels[image.label] };
    net.dispose();
  }
  return nodeRef.logits[build];
}

/** Per-strip pixel counts of the demo's SE canvases. */
const stripStats = () => [...document.querySelectorAll('canvas.se-strip')].map((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let lit = 0;
  for (let i = 0; i < d.length; i += 16) if (d[i + 3] && d[i] + d[i + 1] + d[i + 2] > 30) lit++;
  return lit;
});

for (const name of PICK) {
  describe(ENGINE_NAMES[name] || name, { skip: SKIP || false }, () => {
    let engine;
    const row = { engine: name, label: ENGINE_NAMES[name] || name };

    before(async () => {
      const started = await startEngine(name, { camera: true });
      engine = started.engine;
      rows.push(row);
      if (!engine) {
        row.skipped = started.reason;
        console.log(`# SKIP ${row.label}: ${started.reason}`);
        return;
      }
      row.version = engine.version;
      console.log(`# ${row.label} ${engine.version}`);
    });
    after(() => engine?.close());

    test('SDK: default build, threads, CIFAR-10 image 0 as in Node', { timeout: 120_000 }, async (t) => {
      if (!engine) return t.skip(row.skipped);
      const part = (row.sdk = { wasm: [] });
      try {
        const from = requests.length;
        const page = await engine.open(`${sdkBase}/tests/browser/pages/engines.html`);
        await page.waitFor(() => window.pageReady === true, null, 30_000, 'the SDK page');
        const r = await page.eval(() => window.runSdk());
        Object.assign(part, { backend: r.backend, threads: r.threads, threadsReason: r.threadsReason, crossOriginIsolated: r.crossOriginIsolated, sharedArrayBuffer: r.sharedArrayBuffer });
        part.wasm = wasmSince(from);
        const ref = await nodeLogits(BUILD_OF[r.backend]);
        part.maxRelDiff = maxRelDiff(r.logits, ref.logits);
        console.log(`# ${row.label} SDK: ${r.backend} (${part.wasm.join(', ')}), ${r.threads} threads` +
          `${r.threadsReason ? ` (${r.threadsReason})` : ''}, top-1 ${r.top}, max rel. diff to Node ${part.maxRelDiff.toExponential(2)}`);
        assert.ok(BUILD_OF[r.backend], `unknown backend ${r.backend}`);
        assert.deepEqual(part.wasm, [wasmFile(r.backend, r.threads)], 'the .wasm fetched is not the build info.backend names');
        assert.equal(r.top, ref.label);
        assert.equal(r.logits.length, ref.logits.length);
        assert.ok(part.maxRelDiff <= 1e-4, `logits differ from Node's by ${part.maxRelDiff} (relative)`);
        // Served with COOP + COEP: an engine that gives the page shared memory runs
        // threads, and they agree bit for bit; one that does not says why.
        if (r.crossOriginIsolated && r.sharedArrayBuffer) {
          assert.equal(r.threads, Math.min(4, r.hardwareConcurrency));
          if (r.threads > 1) assert.equal(r.sameOnOneThread, true);
        } else {
          assert.equal(r.threads, 1);
          assert.match(r.threadsReason || '', r.crossOriginIsolated ? /SharedArrayBuffer is unavailable/ : /not cross-origin isolated/);
        }
        assert.deepEqual(page.problems, []);
        await page.close();
      } catch (e) {
        part.error = e.message;
        throw e;
      }
    });

    test('demo: loads, classifies a sample and the camera, draws the SE strips', { timeout: 150_000 }, async (t) => {
      if (!engine) return t.skip(row.skipped);
      const part = (row.demo = { wasm: [] });
      try {
        const from = requests.length;
        const page = await engine.open(demoBase);
        await page.waitFor(() => window.__demo && window.__demo.ready && !['idle', 'starting'].includes(window.__demo.camera.state),
          null, 90_000, 'the demo model and camera');
        const cam = await page.eval(() => ({ ...window.__demo.camera }));
        if (cam.state === 'live') {
          await page.waitFor(() => window.__demo.frames >= 5, null, 30_000, 'camera frames');
          part.camera = { frames: await page.eval(() => window.__demo.frames) };
        } else {
          part.camera = { skipped: `no camera in this engine here (${cam.state}: ${cam.message || ''})`.trim() };
        }
        // The engines whose fake camera is set up in engines.mjs must use it.
        if (name !== 'webkit') assert.equal(cam.state, 'live', `camera ${cam.state}: ${cam.message}`);

        await page.click('#samples .sample[data-name="cat-3000.png"]');
        await page.waitFor(() => window.__demo.resultSource === 'cat-3000.png' && window.__demo.lastTop?.[0], null, 30_000, 'the cat sample classified');
        const st = await page.eval(() => ({
          top: window.__demo.lastTop[0].label, shown: document.querySelector('#top3 .pred-label').textContent,
          backend: window.__demo.modelInfo.backend, threads: window.__demo.threads?.available ?? null,
          excitations: window.__demo.excitations.length, stripsDrawn: window.__demo.stripsDrawn,
        }));
        Object.assign(part, { backend: st.backend, threads: st.threads });
        part.wasm = wasmSince(from);
        const lit = await page.eval(stripStats);
        console.log(`# ${row.label} demo: ${st.backend}, ${st.threads} threads (${part.wasm.join(', ')}); ` +
          `camera ${part.camera.frames ? `live, ${part.camera.frames} frames` : part.camera.skipped}; cat sample -> ${st.top}; lit strip cells ${lit.join(' ')}`);
        assert.deepEqual(part.wasm, [wasmFile(st.backend, st.threads)], 'the .wasm fetched is not the build the demo shows');
        assert.equal(st.top, 'cat');
        assert.equal(st.shown, 'cat');
        assert.equal(st.excitations, 8);
        assert.equal(st.stripsDrawn, 8);
        assert.ok(lit.length === 8 && lit.every((n) => n > 0), `SE strips look empty: ${lit}`);
        await page.screenshot(path.join(OUT, `demo-${name}.png`));
        assert.deepEqual(page.problems, []);
        await page.close();
      } catch (e) {
        part.error = e.message;
        throw e;
      }
    });
  });
}
