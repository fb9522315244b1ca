// The package where users are: a tiny app installed from the `npm pack`
// tarball, built with esbuild (ES module and IIFE), webpack 5, Vite 6 and Rollup with
// the commands js/README.md gives, and loaded without a bundler through an
// import map; each classifies CIFAR-10 test image 0 (an airplane) in a page
// and in a worker in headless Chromium, with the build picked at run time.
// options.baseUrl serves the .wasm files from another folder. And Chromium's
// own PNG decoder agrees with the SDK's Node decoder (js/src/png.js).
//
// Writes test-output/bundlers.json and bundlers.md (the README's matrix).
// Env: CHROMIUM_PATH (default /usr/bin/chromium), MNAS_TESTDATA.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { decodePng } from '../../js/src/png.js';
import { JS, ROOT, TESTDATA, cifarImage, describeIf, encodePng, missing, wasmMissing } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const bin = (pkg, file) => resolve(ROOT, 'node_modules', pkg, file);
const skip = wasmMissing() || missing(CHROMIUM, resolve(TESTDATA, 'data/cifar10_test.bin'), bin('esbuild', 'bin/esbuild'),
  bin('webpack-cli', 'bin/cli.js'), bin('rollup', 'dist/bin/rollup'), bin('vite', 'bin/vite.js'), bin('playwright-core', 'package.json'));

const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const run = (cmd, args, cwd) => {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
  }
};

// The app. The page classifies and starts a worker that does the same; the
// results land in window.__results. ?base=URL passes options.baseUrl to both.
const PAGE_JS = `
import { MnasNet } from 'mnasnet-wasm';
const results = (window.__results = {});
const base = new URLSearchParams(location.search).get('base');
const options = base ? { baseUrl: base } : undefined;
(async () => {
  const data = new Uint8Array(await (await fetch('/image.rgba')).arrayBuffer());
  const net = await MnasNet.load(undefined, options);
  const r = net.classify({ data, width: 32, height: 32 });
  results.page = { label: r.top[0].label, backend: net.info.backend };
})().catch((e) => (results.page = { error: (e.code || e.name) + ': ' + e.message }));
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onmessage = (e) => (results.worker = e.data);
worker.onerror = (e) => (results.worker = { error: 'worker: ' + (e.message || 'failed to start') });
worker.postMessage({ options });
`;
const WORKER_JS = `
import { MnasNet } from 'mnasnet-wasm';
self.onmessage = async ({ data: { options } }) => {
  try {
    const data = new Uint8Array(await (await fetch('/image.rgba')).arrayBuffer());
    const net = await MnasNet.load(undefined, options);
    const r = net.classify({ data, width: 32, height: 32 });
    self.postMessage({ label: r.top[0].label, backend: net.info.backend });
  } catch (e) {
    self.postMessage({ error: (e.code || e.name) + ': ' + e.message });
  }
};
`;
// IIFE: a classic script and a classic worker (importScripts world: no import.meta).
const CLASSIC_PAGE_JS = PAGE_JS.replace("new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })", "new Worker('worker.js')");

const page = (script, module = true) =>
  `<!doctype html><meta charset="utf-8"><title>app</title><script ${module ? 'type="module" ' : ''}src="${script}"></script>`;

// The commands of js/README.md (copying the packaged files beside the bundle).
const COPY = 'cp node_modules/mnasnet-wasm/dist/*.wasm node_modules/mnasnet-wasm/dist/*.onnx';
const BUILDS = [
  {
    name: 'esbuild (ESM)', dir: 'out-esbuild',
    build: (app) => {
      run(process.execPath, [bin('esbuild', 'bin/esbuild'), 'src/index.js', 'src/worker.js', '--bundle', '--format=esm', '--outdir=out-esbuild', '--log-level=warning'], app);
      run('sh', ['-c', `${COPY} out-esbuild/`], app);
      writeFileSync(join(app, 'out-esbuild/index.html'), page('index.js'));
    },
  },
  {
    name: 'esbuild (IIFE, classic worker)', dir: 'out-iife',
    build: (app) => {
      for (const [entry, out] of [['src/classic.js', 'out-iife/main.js'], ['src/worker.js', 'out-iife/worker.js']]) {
        run(process.execPath, [bin('esbuild', 'bin/esbuild'), entry, '--bundle', '--format=iife', `--outfile=${out}`, '--log-level=error'], app);
      }
      run('sh', ['-c', `${COPY} out-iife/`], app);
      writeFileSync(join(app, 'out-iife/index.html'), page('main.js', false));
    },
  },
  {
    name: 'webpack 5 (no config)', dir: 'out-webpack',
    build: (app) => {
      // zero configuration: entry ./src/index.js; the worker and the packaged files are found by webpack itself
      run(process.execPath, [bin('webpack-cli', 'bin/cli.js'), '--mode', 'production', '--output-path', 'out-webpack'], app);
      writeFileSync(join(app, 'out-webpack/index.html'), page('main.js', false));
    },
  },
  {
    name: 'Vite 6 (no config)', dir: 'out-vite',
    build: (app) => {
      writeFileSync(join(app, 'index.html'), page('/src/index.js'));
      // --base: this test serves the app from /out-vite/, not from the site's root
      run(process.execPath, [bin('vite', 'bin/vite.js'), 'build', '--outDir', 'out-vite', '--emptyOutDir', '--base', '/out-vite/', '--logLevel', 'warn'], app);
    },
  },
  {
    name: 'Rollup + node-resolve', dir: 'out-rollup',
    build: (app) => {
      run(process.execPath, [bin('rollup', 'dist/bin/rollup'), 'src/index.js', 'src/worker.js', '-d', 'out-rollup', '-f', 'es', '-p', 'node-resolve', '--silent'], app);
      run('sh', ['-c', `${COPY} out-rollup/`], app);
      writeFileSync(join(app, 'out-rollup/index.html'), page('index.js'));
    },
  },
  {
    name: 'no bundler (import map)', dir: 'importmap',
    build: (app) => {
      // module workers get no import map: the worker imports the file by its path
      mkdirSync(join(app, 'importmap'), { recursive: true });
      writeFileSync(join(app, 'importmap/index.js'), PAGE_JS);
      writeFileSync(join(app, 'importmap/worker.js'), WORKER_JS.replace("from 'mnasnet-wasm'", "from '/node_modules/mnasnet-wasm/dist/mnasnet.js'"));
      writeFileSync(join(app, 'importmap/index.html'), '<!doctype html><meta charset="utf-8"><title>app</title>' +
        '<script type="importmap">{"imports": {"mnasnet-wasm": "/node_modules/mnasnet-wasm/dist/mnasnet.js"}}</script>' +
        '<script type="module" src="index.js"></script>');
    },
  },
  {
    name: 'esbuild (ESM), files elsewhere + baseUrl', dir: 'out-base', query: '?base=/cdn/mnasnet/',
    build: (app) => {
      run(process.execPath, [bin('esbuild', 'bin/esbuild'), 'src/index.js', 'src/worker.js', '--bundle', '--format=esm', '--outdir=out-base', '--log-level=warning'], app);
      mkdirSync(join(app, 'cdn/mnasnet'), { recursive: true });
      run('sh', ['-c', `${COPY} cdn/mnasnet/`], app); // nothing beside the bundle
      writeFileSync(join(app, 'out-base/index.html'), page('index.js'));
    },
  },
];

const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.png': 'image/png' };

function serve(root, log) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = join(root, path);
    log.push(path);
    if (!file.startsWith(root) || !existsSync(file) || !/\.\w+$/.test(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] || 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

describeIf(describe, skip, 'bundlers and Chromium', () => {
  let tmp;
  let app;
  let server;
  let origin;
  let browser;
  const requests = [];
  const matrix = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'mnasnet-bundlers-'));
    app = join(tmp, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], JS));
    writeFileSync(join(app, 'package.json'), '{"name": "app", "private": true}');
    run('npm', ['install', join(tmp, packed.filename), '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
    writeFileSync(join(app, 'src/index.js'), PAGE_JS);
    writeFileSync(join(app, 'src/worker.js'), WORKER_JS);
    writeFileSync(join(app, 'src/classic.js'), CLASSIC_PAGE_JS);
    writeFileSync(join(app, 'image.rgba'), cifarImage(readFileSync(resolve(TESTDATA, 'data/cifar10_test.bin')), 0).data);
    server = await serve(app, requests);
    origin = `http://127.0.0.1:${server.address().port}`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok()));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    if (matrix.length) {
      const out = resolve(ROOT, 'test-output');
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'bundlers.json'), JSON.stringify(matrix, null, 2));
      const version = browser?.version?.() || '';
      writeFileSync(join(out, 'bundlers.md'), [
        `| build | page (Chromium ${version}) | worker | .wasm fetched |`, '|---|---|---|---|',
        ...matrix.map((m) => {
          const cell = (r) => (r.error ? `fails: ${r.error}` : `${r.label}, ${r.backend}`);
          return `| ${m.name} | ${cell(m.page)} | ${cell(m.worker)} | ${m.wasm.join(', ')} |`;
        }),
      ].join('\n') + '\n');
    }
  });

  for (const b of BUILDS) {
    test(`${b.name}: builds, and classifies in a page and a worker`, async () => {
      b.build(app);
      const context = await browser.newContext();
      const problems = [];
      const pg = await context.newPage();
      pg.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      pg.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });
      const from = requests.length;
      await pg.goto(`${origin}/${b.dir}/index.html${b.query || ''}`);
      await pg.waitForFunction(() => window.__results?.page && window.__results?.worker, null, { timeout: 30_000 }).catch(() => {});
      const results = await pg.evaluate(() => window.__results || {});
      await context.close();
      const wasm = [...new Set(requests.slice(from).filter((p) => p.endsWith('.wasm')).map((p) => p.split('/').pop()))];
      const row = { name: b.name, page: results.page || { error: 'no result' }, worker: results.worker || { error: 'no result' }, wasm };
      matrix.push(row);
      expect({ problems, page: results.page, worker: results.worker }).toEqual({
        problems: [],
        // auto: Chromium compiles relaxed SIMD, so both pick the relaxed build
        page: { label: 'airplane', backend: 'wasm-relaxed-simd' },
        worker: { label: 'airplane', backend: 'wasm-relaxed-simd' },
      });
      if (b.query) expect(requests.slice(from).filter((p) => p.endsWith('.wasm')).every((p) => p.startsWith('/cdn/mnasnet/'))).toBe(true);
      // webpack and Vite rename the files they emit
      if (b.dir !== 'out-webpack' && b.dir !== 'out-vite') expect(wasm).toEqual(['mnasnet-relaxed.wasm']);
      // the browser bundles hold no `node:` import
      for (const f of readdirSync(join(app, b.dir)).filter((x) => x.endsWith('.js'))) {
        expect([f, /\b(import|require)\s*\(?\s*['"]node:/.test(readFileSync(join(app, b.dir, f), 'utf8'))]).toEqual([f, false]);
      }
    }, 180_000);
  }

  test("Chromium's PNG decoder and the SDK's agree", async () => {
    const rnd = (n, max, seed) => Array.from({ length: n }, (_, i) => ((i * 2654435761 + seed) >>> 7) % (max + 1));
    const fixtures = {
      'rgb8.png': encodePng(17, 9, 2, 8, rnd(17 * 9 * 3, 255, 1)),
      'grey2-interlaced.png': encodePng(17, 9, 0, 2, rnd(17 * 9, 3, 2), { interlace: true }),
      'palette4.png': encodePng(17, 9, 3, 4, rnd(17 * 9, 15, 3), { palette: rnd(48, 255, 4) }),
      'rgb16.png': encodePng(17, 9, 2, 16, rnd(17 * 9 * 3, 65535, 5)),
    };
    const dir = join(app, 'png');
    mkdirSync(dir, { recursive: true });
    for (const [f, bytes] of Object.entries(fixtures)) writeFileSync(join(dir, f), bytes);
    const samples = readdirSync(resolve(ROOT, 'web/samples')).filter((f) => f.endsWith('.png')).slice(0, 4);
    for (const f of samples) cpSync(resolve(ROOT, 'web/samples', f), join(dir, f));
    const files = [...Object.keys(fixtures), ...samples];
    const context = await browser.newContext();
    const pg = await context.newPage();
    writeFileSync(join(app, 'blank.html'), '<!doctype html><title>png</title>');
    await pg.goto(`${origin}/blank.html`);
    const decoded = await pg.evaluate(async (names) => {
      const out = {};
      for (const f of names) {
        const blob = await (await fetch(`/png/${f}`)).blob();
        const bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const c = new OffscreenCanvas(bmp.width, bmp.height);
        const ctx = c.getContext('2d');
        ctx.drawImage(bmp, 0, 0);
        const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
        out[f] = Array.from(d.filter((_, i) => i % 4 !== 3)); // RGB
      }
      return out;
    }, files);
    await context.close();
    for (const f of files) {
      const mine = decodePng(readFileSync(join(dir, f)), inflateSync, 16384).data;
      let diff = 0;
      for (let i = 0; i < mine.length; i++) diff = Math.max(diff, Math.abs(mine[i] - decoded[f][i]));
      // 16-bit samples: Chromium truncates to 8 bits where the SDK rounds
      expect([f, decoded[f].length, diff <= (f === 'rgb16.png' ? 1 : 0)]).toEqual([f, mine.length, true]);
    }
  }, 60_000);
});
