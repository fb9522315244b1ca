#!/usr/bin/env node
// The first inference against the steady state, build by build: how much of
// V8's tier-up (baseline Liftoff code -> optimized TurboFan code) the SDK's
// kernel warm-up leaves to the first run.
//
//   node tools/bench/first_run.mjs [--model mnasnet_a1] [--procs 8] [--runs 20]
//        [--builds simd,threads,relaxed,threads-relaxed,scalar] [--wasm-dir DIR]...
//        [--chromium] [--json FILE]
//
// Each measurement is a fresh process (Node) or a fresh browser profile
// (Chromium), with the model's bytes and the input already in memory:
//
//   to first  MnasNet.load() (compile, instantiate, warm-up, model load)
//             plus the first run(): what a user waits for a first answer
//   first     the first run() alone
//   steady    the least of --runs runs made after at least 5 runs and 1 s
//             of running (V8 has finished optimizing by then)
//   warm-up   mnas_warm_up() alone, in a process of its own: the module
//             compiled and instantiated as the SDK does, then the call timed
//
// Medians over --procs processes. The builds, through the SDK in js/src
// (the .wasm files of js/dist): simd / relaxed / scalar on one thread,
// threads / threads-relaxed with threads: 2 (Node 20 picks `threads`; the
// relaxed builds need V8's --experimental-wasm-relaxed-simd there, which the
// children set at run time: worker_threads refuse it on the command line).
// --wasm-dir (repeatable) takes the .wasm files from other directories, e.g.
// a copy of js/dist made before a change: the processes of all directories
// and builds are interleaved, so that the machine's slow spells hit every
// row alike, and the rows name their directory. --chromium adds the SDK in headless Chromium through the
// benchmark page (tools/bench/page.html, cross-origin isolated): one thread
// (it picks mnasnet-relaxed.wasm) and two (mnasnet-threads-relaxed.wasm).
// The first run's logits are checked against the model's PyTorch reference,
// and each Node row prints an FNV-1a hash of the first and the last run's
// logits, so that two versions of the engine can be compared bit for bit.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { REPO_ROOT, TESTDATA } from './config.mjs';
import { maxRelDiff } from './measure.mjs';
import { parseNpy } from './npy.mjs';
import { median } from './report.mjs';

const SDK = 'js/src/index.js';
const BUILDS = {
  simd: { wasm: 'simd', threads: 1 },
  relaxed: { wasm: 'relaxed', threads: 1 },
  scalar: { wasm: 'scalar', threads: 1 },
  threads: { wasm: 'simd', threads: 2 },
  'threads-relaxed': { wasm: 'relaxed', threads: 2 },
};
const FILES = {
  simd: 'mnasnet.wasm', relaxed: 'mnasnet-relaxed.wasm', scalar: 'mnasnet-scalar.wasm',
  threads: 'mnasnet-threads.wasm', 'threads-relaxed': 'mnasnet-threads-relaxed.wasm',
};
const DIST = path.join(REPO_ROOT, 'js/dist');
const STEADY_WARM_RUNS = 5;
const STEADY_WARM_MS = 1000;
const TOL = 1e-3;

function fnv1a(f32) {
  const b = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function refs(model) {
  const dir = path.join(TESTDATA, 'models', 'refs', model);
  const x = parseNpy(fs.readFileSync(path.join(dir, 'input.npy')));
  const y = parseNpy(fs.readFileSync(path.join(dir, 'logits.npy')));
  const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
  return { input: x.data.slice(0, per), shape: [1, ...x.shape.slice(1)], logits: y.data.slice(0, y.shape[1]) };
}

// The SDK's options for a build: its name, or its file when it comes from another directory.
function loadOptions(build, dir) {
  const b = BUILDS[build];
  return path.resolve(dir) === DIST ? b : { ...b, wasm: path.join(dir, FILES[build]) };
}

async function relaxedFlag(build) {
  if (build.includes('relaxed')) (await import('node:v8')).default.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

async function child(build, dir, modelPath, model, runs) {
  await relaxedFlag(build);
  const bytes = new Uint8Array(fs.readFileSync(modelPath));
  const { input, logits: ref } = refs(model);
  const { MnasNet } = await import(pathToFileURL(path.join(REPO_ROOT, SDK)).href);
  const now = () => performance.now();
  const t0 = now();
  const net = await MnasNet.load(bytes, loadOptions(build, dir));
  const t1 = now();
  const first = Float32Array.from((await net.run(input, { layout: 'NCHW' })).logits);
  const t2 = now();
  const info = net.info;
  const tw = now();
  for (let w = 0; w < STEADY_WARM_RUNS || now() - tw < STEADY_WARM_MS; w++) await net.run(input, { layout: 'NCHW' });
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const a = now();
    last = (await net.run(input, { layout: 'NCHW' })).logits;
    times.push(now() - a);
  }
  net.dispose();
  return {
    backend: info.backend, threads: info.threads, load: t1 - t0, first: t2 - t1, to_first: t2 - t0,
    steady: Math.min(...times), diff: maxRelDiff(first, ref), hash_first: fnv1a(first), hash_last: fnv1a(Float32Array.from(last)),
  };
}

// mnas_warm_up() in a fresh instance of a freshly compiled module, as the SDK's load calls it.
async function childWarm(build, dir) {
  await relaxedFlag(build);
  const { getModule, instantiate } = await import(pathToFileURL(path.join(REPO_ROOT, 'js/src/loader.js')).href);
  const { threadsFor, planThreads } = await import(pathToFileURL(path.join(REPO_ROOT, 'js/src/threads.js')).href);
  const b = loadOptions(build, dir);
  const plan = await planThreads(b.threads, b.wasm);
  const module = await getModule(plan.wasm);
  const { exports: x } = await instantiate(module, threadsFor(plan, module).memory);
  x.free(x.malloc(1));
  const t0 = performance.now();
  x.mnas_warm_up();
  return { warm: performance.now() - t0 };
}

function runChild(args) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args], { encoding: 'utf8', timeout: 300000 });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`child failed (status ${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line);
}

async function chromiumRows(o, ref, tmpDir) {
  const { chromiumUnavailableReason, runInChromium } = await import('./chromium.mjs');
  const why = chromiumUnavailableReason();
  if (why) {
    console.error(`first_run: Chromium skipped: ${why}`);
    return [];
  }
  const { startServer } = await import('./server.mjs');
  const server = await startServer({ repoRoot: REPO_ROOT, testdata: TESTDATA, tmpDir });
  fs.writeFileSync(path.join(tmpDir, 'input.f32'), Buffer.from(ref.input.buffer));
  fs.writeFileSync(path.join(tmpDir, 'ref.f32'), Buffer.from(ref.logits.buffer));
  // The page loads the .wasm files of another directory from the server's /tmp/.
  const cases = [];
  o.dirs.forEach((d, i) => {
    const own = o.dirs.length === 1 && d === DIST;
    if (!own) {
      fs.mkdirSync(path.join(tmpDir, `d${i}`));
      for (const b of ['relaxed', 'threads-relaxed']) fs.copyFileSync(path.join(d, FILES[b]), path.join(tmpDir, `d${i}`, FILES[b]));
    }
    for (const threads of [1, 2]) {
      const wasm = own ? undefined : `/tmp/d${i}/${FILES[threads > 1 ? 'threads-relaxed' : 'relaxed']}`;
      cases.push({ name: `Chromium ${threads}t${own ? '' : ` (${path.relative(process.cwd(), d) || '.'})`}`, threads, wasm, per: [] });
    }
  });
  try {
    for (let i = 0; i < o.procs; i++) {
      for (const c of cases) {
        const r = await runInChromium({
          engine: c.name, adapter: 'mnas-wasm', threads: c.threads, wasm: c.wasm, model: o.model, inputShape: ref.shape,
          runs: o.runs, warmup: STEADY_WARM_RUNS, warmupMs: STEADY_WARM_MS, tol: TOL, mnasEntry: SDK,
          modelUrl: `/testdata/models/${o.model}.onnx`, inputUrl: '/tmp/input.f32', refUrl: '/tmp/ref.f32',
        }, server);
        if (r.status !== 'ok') throw new Error(`${c.name}: ${r.reason}`);
        c.per.push({ backend: r.details?.backend, threads: r.details?.threads, load: r.load_ms, first: r.first_inference_ms,
          to_first: r.load_ms + r.first_inference_ms, steady: Math.min(...r.times_ms), diff: r.max_rel_diff });
      }
    }
  } finally {
    await server.close();
  }
  return cases;
}

function usage(msg) {
  if (msg) console.error(`first_run: ${msg}`);
  console.error('usage: node tools/bench/first_run.mjs [--model NAME] [--procs N] [--runs N] [--builds a,b] [--chromium] [--json FILE]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { model: 'mnasnet_a1', procs: 8, runs: 20, builds: ['simd', 'threads'], dirs: [], chromium: false, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--model') o.model = val().replace(/\.onnx$/, '');
    else if (a === '--procs') o.procs = Number(val());
    else if (a === '--runs') o.runs = Number(val());
    else if (a === '--builds') o.builds = val().split(',').filter(Boolean);
    else if (a === '--wasm-dir') o.dirs.push(path.resolve(val()));
    else if (a === '--chromium') o.chromium = true;
    else if (a === '--json') o.json = val();
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  for (const k of ['procs', 'runs']) if (!Number.isInteger(o[k]) || o[k] < 1) usage(`--${k} must be an integer >= 1`);
  for (const b of o.builds) if (!BUILDS[b]) usage(`unknown build ${b} (${Object.keys(BUILDS).join(', ')})`);
  if (!o.dirs.length) o.dirs.push(DIST);
  for (const d of o.dirs) for (const b of o.builds) if (!fs.existsSync(path.join(d, FILES[b]))) usage(`no ${path.join(d, FILES[b])}`);
  return o;
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    process.stdout.write(`${JSON.stringify(await child(argv[1], argv[2], argv[3], argv[4], Number(argv[5])))}\n`);
    return;
  }
  if (argv[0] === '--child-warm') {
    process.stdout.write(`${JSON.stringify(await childWarm(argv[1], argv[2]))}\n`);
    return;
  }
  const o = parseArgs(argv);
  const modelPath = path.join(TESTDATA, 'models', `${o.model}.onnx`);
  if (!fs.existsSync(modelPath)) usage(`no model ${modelPath}`);
  const ref = refs(o.model);
  const rows = [];
  // Processes of the builds interleaved, so that a slow spell of the machine hits them alike.
  const cases = o.builds.flatMap((b) => o.dirs.map((d) => ({ b, d, per: [] })));
  for (let i = 0; i < o.procs; i++) {
    for (const c of cases) {
      const r = runChild(['--child', c.b, c.d, modelPath, o.model, String(o.runs)]);
      Object.assign(r, runChild(['--child-warm', c.b, c.d]));
      if (!(r.diff <= TOL)) throw new Error(`${c.b} (${c.d}): first logits differ from the reference by ${r.diff}`);
      c.per.push(r);
    }
  }
  const where = (d) => (o.dirs.length > 1 || d !== DIST ? ` (${path.relative(process.cwd(), d) || '.'})` : '');
  for (const c of cases) rows.push({ name: `Node ${c.b}${where(c.d)}`, per: c.per });
  if (o.chromium) {
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnas-first-'));
    try {
      rows.push(...(await chromiumRows(o, ref, tmpDir)));
    } finally {
      fs.rmSync(tmpDir, { recursive: true, force: true });
    }
  }
  const f = (x) => (x === undefined || x === null || Number.isNaN(x) ? '—' : x.toFixed(2));
  const L = [
    `# First inference against the steady state: ${o.model}`,
    '',
    `${o.procs} fresh processes a row, ${new Date().toISOString()}, Node ${process.version}, ` +
      `${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} logical cores). Medians in ms; steady = least of ${o.runs} runs.`,
    '',
    '| runtime, build | kernels | load | first | to first result | steady | first / steady | warm-up | logits (first, last) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const m = (k) => median(r.per.map((p) => p[k]).filter((v) => v !== undefined));
    const ratio = median(r.per.map((p) => p.first / p.steady));
    const hashes = [...new Set(r.per.map((p) => (p.hash_first ? `${p.hash_first} ${p.hash_last}` : '—')))].join('; ');
    L.push(`| ${r.name} | ${r.per[0].backend}, ${r.per[0].threads}t | ${f(m('load'))} | ${f(m('first'))} | ${f(m('to_first'))} | ` +
      `${f(m('steady'))} | ${ratio.toFixed(2)} | ${f(m('warm'))} | ${hashes} |`);
  }
  console.log(L.join('\n'));
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ model: o.model, settings: o, rows }, null, 2));
}

main().catch((e) => {
  console.error(`first_run: ${e?.stack ?? e}`);
  process.exit(1);
});
