#!/usr/bin/env node
// Side-by-side benchmark of mnasnet-wasm against its peers.
//
//   node tools/bench/run.mjs [--models a,b] [--rounds R] [--runs N] [--warmup W]
//        [--warmup-ms MS] [--engines e1,e2] [--out DIR] [--quick] [--profile] [--tol T] [--lenient]
//
// Writes DIR/bench.md and DIR/bench.json (DIR defaults to <repo>/bench-results)
// and prints the markdown table. Exit status: 0 on success, 1 if any engine
// errored (a crash, a timeout or wrong logits; engines that are merely
// unavailable, e.g. our SDK not built yet, do not count; --lenient reports
// errors but exits 0), 2 on bad usage. Being slower than a peer never fails.
// See tools/bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  BENCH_DIR, REPO_ROOT, TESTDATA, MNAS_JS_ENTRY, MNAS_JS_ENTRY_CANDIDATES, ENGINES, DEFAULT_MODELS, QUICK_MODEL,
  binarySize, CHROMIUM_PATH, isNativeOurs,
} from './config.mjs';
import { parseOnnx } from './onnx_proto.mjs';
import { parseNpy } from './npy.mjs';
import { summarize, addRatios, markdown } from './report.mjs';
import { runNative, checkNative, nativeUnavailableReason } from './native.mjs';
import { maxRelDiff } from './measure.mjs';

const MARK = '@@BENCH_RESULT@@';

function usage(msg) {
  if (msg) console.error(`run.mjs: ${msg}`);
  console.error('usage: node tools/bench/run.mjs [--models a,b] [--rounds R] [--runs N] [--warmup W] [--warmup-ms MS] [--engines e1,e2] [--out DIR] [--quick] [--profile] [--tol T] [--lenient] [--verbose] | --from-json bench.json [--out DIR]');
  console.error(`engines: ${Object.keys(ENGINES).join(', ')}`);
  process.exit(2);
}

export function parseArgs(argv) {
  const o = { models: null, rounds: null, runs: null, warmup: null, warmupMs: null, engines: null, out: null, quick: false, profile: false, fromJson: null, tol: 1e-3, lenient: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    const val = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    switch (key) {
      case '--models': o.models = val().split(',').map((s) => s.trim().replace(/\.onnx$/, '')).filter(Boolean); break;
      case '--rounds': o.rounds = Number(val()); break;
      case '--runs': o.runs = Number(val()); break;
      case '--warmup': o.warmup = Number(val()); break;
      case '--warmup-ms': o.warmupMs = Number(val()); break;
      case '--engines': o.engines = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--out': o.out = val(); break;
      case '--tol': o.tol = Number(val()); break;
      case '--quick': o.quick = true; break;
      case '--from-json': o.fromJson = val(); break;
      case '--profile': o.profile = true; break;
      case '--lenient': o.lenient = true; break;
      case '--verbose': case '-v': o.verbose = true; break;
      case '--help': case '-h': usage();
      // eslint-disable-next-line no-fallthrough
      default: usage(`unknown argument ${a}`);
    }
  }
  if (o.quick) {
    o.models ??= [QUICK_MODEL];
    o.rounds ??= 1; o.runs ??= 3; o.warmup ??= 1; o.warmupMs ??= 0;
  }
  o.models ??= DEFAULT_MODELS;
  // Five shorter rounds rather than three long ones: this VM slows down in
  // bursts of tens of seconds, and an engine whose every round falls in one
  // reports that burst; spread-out rounds give each engine calm time, and
  // the median cold start of five is steadier.
  o.rounds ??= 5; o.runs ??= 20; o.warmup ??= 5; o.warmupMs ??= 2000;
  o.engines ??= Object.keys(ENGINES);
  for (const e of o.engines) if (!ENGINES[e]) usage(`unknown engine ${e}`);
  for (const k of ['rounds', 'runs', 'warmup', 'warmupMs']) if (!Number.isInteger(o[k]) || o[k] < (k === 'rounds' || k === 'runs' ? 1 : 0)) usage(`--${k.replace('warmupMs', 'warmup-ms')} must be an integer (rounds, runs >= 1)`);
  o.outGiven = o.out != null;
  o.out = path.resolve(o.out ?? path.join(REPO_ROOT, 'bench-results'));
  return o;
}

function pkgVersion(name) {
  try { return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version; } catch { return null; }
}

function environment(chromiumVer) {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try { cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu; } catch { /* not linux */ }
  let distro = '';
  try { distro = /PRETTY_NAME="([^"]*)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? ''; } catch { /* ignore */ }
  return {
    date: new Date().toISOString(),
    cpu, cores: os.cpus().length, os: `${distro || os.type()} (${os.release()}, ${os.arch()})`,
    node: process.version, chromium: chromiumVer,
    versions: Object.fromEntries(['onnxruntime-web', 'onnxruntime-node', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'playwright-core']
      .map((n) => [n, pkgVersion(n)])),
  };
}

// ---------- inputs and reference logits ----------
async function prepareModel(model, tmpDir, notes) {
  const modelPath = path.join(TESTDATA, 'models', `${model}.onnx`);
  if (!fs.existsSync(modelPath)) throw new Error(`model not found: ${modelPath} (set MNAS_TESTDATA)`);
  const bytes = fs.readFileSync(modelPath);
  const g = parseOnnx(bytes).graph;
  const inputShape = g.inputs[0].shape.map((d, i) => (i === 0 ? 1 : Number(d)));
  const per = inputShape.reduce((a, b) => a * b, 1);
  let input = null, torchRef = null;
  const refDir = path.join(TESTDATA, 'models', 'refs', model);
  try {
    const x = parseNpy(fs.readFileSync(path.join(refDir, 'input.npy')));
    if (x.data.length >= per) input = x.data.slice(0, per);
    const y = parseNpy(fs.readFileSync(path.join(refDir, 'logits.npy')));
    torchRef = y.data.slice(0, y.shape[1]);
  } catch { /* no refs: synthetic input */ }
  if (!input) {
    input = new Float32Array(per);
    let s = 12345;
    for (let i = 0; i < per; i++) { s = (s * 1103515245 + 12345) >>> 0; input[i] = (s / 2 ** 32) * 4 - 2; }
    notes.push(`${model}: no refs/input.npy, used a deterministic pseudo-random input`);
  }
  // Reference logits: onnxruntime-node (1 thread) on the same input.
  let ref = null;
  try {
    const ortm = await import('onnxruntime-node');
    const ort = ortm.default?.InferenceSession ? ortm.default : ortm;
    const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', input, inputShape) });
    ref = Float32Array.from(r[s.outputNames[0]].data);
    await s.release();
    if (torchRef && torchRef.length === ref.length) {
      let d = 0, m = 0;
      for (let i = 0; i < ref.length; i++) { d = Math.max(d, Math.abs(ref[i] - torchRef[i])); m = Math.max(m, Math.abs(torchRef[i])); }
      if (d / Math.max(m, 1) > 1e-4) notes.push(`${model}: onnxruntime-node differs from the PyTorch reference by ${d.toExponential(2)}`);
    }
  } catch (e) {
    if (torchRef) { ref = torchRef; notes.push(`${model}: onnxruntime-node unavailable (${String(e.message).split('\n')[0]}); checked against refs/logits.npy`); }
    else notes.push(`${model}: no reference logits, engines not checked`);
  }
  const inputPath = path.join(tmpDir, `${model}.input.f32`);
  fs.writeFileSync(inputPath, Buffer.from(input.buffer, input.byteOffset, input.byteLength));
  let refPath = null;
  if (ref) { refPath = path.join(tmpDir, `${model}.ref.f32`); fs.writeFileSync(refPath, Buffer.from(ref.buffer, ref.byteOffset, ref.byteLength)); }
  return { model, modelPath, inputShape, inputPath, refPath, classes: ref?.length ?? null };
}

// ---------- one measurement ----------
function runNodeChild(spec, tmpDir, { timeoutMs, verbose }) {
  const specPath = path.join(tmpDir, `spec-${process.hrtime.bigint()}.json`);
  fs.writeFileSync(specPath, JSON.stringify(spec));
  return new Promise((resolve) => {
    let out = '', err = '';
    const p = spawn(process.execPath, [path.join(BENCH_DIR, 'node_child.mjs'), specPath], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; if (verbose) process.stderr.write(`  [${spec.engine}] ${d}`); });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      fs.rmSync(specPath, { force: true });
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      if (line) { resolve(JSON.parse(line.slice(MARK.length))); return; }
      const why = sig ? `killed by ${sig}${sig === 'SIGKILL' ? ' (timeout?)' : ''}` : `exit ${code}`;
      resolve({ engine: spec.engine, model: spec.model, status: 'error',
        reason: `child ${why}: ${(err || out).trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` });
    });
  });
}

// Re-render bench.md (and the summaries in bench.json) from an earlier run's raw rounds.
function rerender(opt) {
  const j = JSON.parse(fs.readFileSync(opt.fromJson, 'utf8'));
  const engines = j.settings.engines, models = j.settings.models;
  const summaries = [];
  for (const m of models) for (const e of engines) summaries.push(summarize(e, m, j.rounds[`${m}|${e}`] ?? [], binarySize(e)));
  addRatios(summaries);
  const md = markdown({ env: j.env, settings: j.settings, summaries, notes: j.notes });
  const out = opt.outGiven ? opt.out : path.dirname(path.resolve(opt.fromJson));
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'bench.md'), md + '\n');
  fs.writeFileSync(path.join(out, 'bench.json'), JSON.stringify({ ...j, summaries }, null, 1) + '\n');
  console.log(md);
  return summaries.some((s) => s.status === 'error') && !opt.lenient ? 1 : 0;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  if (opt.fromJson) return rerender(opt);
  const t0 = Date.now();
  const notes = [];
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnas-bench-'));
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => { fs.rmSync(tmpDir, { recursive: true, force: true }); process.exit(130); });
  }
  let server = null;
  const log = (m) => console.error(m);
  try {
    if (!fs.existsSync(TESTDATA)) {
      console.error(`run.mjs: MNAS_TESTDATA folder ${TESTDATA} not found — nothing to benchmark (skipped)`);
      return 0;
    }
    // Availability of each engine (decided once, reported as rows).
    const unavailable = {};
    const needChromium = opt.engines.some((e) => ENGINES[e].env === 'chromium');
    let chromiumMod = null, chromiumVer = null;
    if (needChromium) {
      chromiumMod = await import('./chromium.mjs');
      const why = chromiumMod.chromiumUnavailableReason();
      let pwOk = true;
      try { await import('playwright-core'); } catch (e) { pwOk = false; for (const e2 of opt.engines) if (ENGINES[e2].env === 'chromium') unavailable[e2] = `playwright-core not installed (${e.message.split('\n')[0]})`; }
      if (why && pwOk) for (const e of opt.engines) if (ENGINES[e].env === 'chromium') unavailable[e] = why;
      if (!why) chromiumVer = await chromiumMod.chromiumVersion();
    }
    const mnasEntryAbs = path.resolve(REPO_ROOT, MNAS_JS_ENTRY);
    for (const e of opt.engines) {
      if (ENGINES[e].adapter === 'mnas-wasm' && !fs.existsSync(mnasEntryAbs)) unavailable[e] ??= `SDK entry not found (${process.env.MNAS_JS_ENTRY ? MNAS_JS_ENTRY : MNAS_JS_ENTRY_CANDIDATES.join(" or ")}; MNAS_JS_ENTRY in tools/bench/config.mjs)`;
      if (isNativeOurs(e) && nativeUnavailableReason()) unavailable[e] = nativeUnavailableReason();
    }
    for (const e of opt.engines) {
      const mod = { 'ort-web': 'onnxruntime-web', 'tfjs-wasm': '@tensorflow/tfjs-backend-wasm', 'ort-node': 'onnxruntime-node' }[ENGINES[e].adapter];
      if (mod && !pkgVersion(mod)) unavailable[e] ??= `${mod} not installed (npm ci at the repo root)`;
    }
    const env = environment(chromiumVer);

    log(`bench: models ${opt.models.join(', ')}; engines ${opt.engines.join(', ')}; ${opt.rounds} round(s) × ${opt.runs} runs (+ warm-up: ≥${opt.warmup} runs and ≥${opt.warmupMs} ms)`);
    for (const [e, why] of Object.entries(unavailable)) log(`bench: ${e} unavailable: ${why}`);

    const prepared = {};
    for (const m of opt.models) prepared[m] = await prepareModel(m, tmpDir, notes);

    if (opt.engines.some((e) => ENGINES[e].env === 'chromium' && !unavailable[e])) {
      const { startServer } = await import('./server.mjs');
      server = await startServer({ repoRoot: REPO_ROOT, testdata: TESTDATA, tmpDir });
    }

    const results = {}; // key model|engine -> [round results]
    const key = (m, e) => `${m}|${e}`;
    const timeoutMs = Math.max(120000, opt.runs * 2000 + 60000);
    for (let round = 0; round < opt.rounds; round++) {
      // Rotate the engine order each round so no engine always runs first/last.
      const order = opt.engines.map((_, i) => opt.engines[(i + round) % opt.engines.length]);
      for (const m of opt.models) {
        const P = prepared[m];
        for (const e of order) {
          const k = key(m, e);
          results[k] ??= [];
          if (unavailable[e]) { results[k].push({ engine: e, model: m, status: 'unavailable', reason: unavailable[e] }); continue; }
          // Once an engine failed on a model, don't spend time on further rounds.
          if (results[k].some((r) => r.status === 'error')) continue;
          const spec = {
            engine: e, adapter: ENGINES[e].adapter, threads: ENGINES[e].threads ?? 1, model: m, inputShape: P.inputShape,
            runs: opt.runs, warmup: opt.warmup, warmupMs: opt.warmupMs, tol: opt.tol, repoRoot: REPO_ROOT, mnasEntry: MNAS_JS_ENTRY,
          };
          const ts = Date.now();
          let r;
          if (ENGINES[e].env === 'chromium') {
            r = await chromiumMod.runInChromium({
              ...spec,
              modelUrl: `/testdata/${path.relative(TESTDATA, P.modelPath).split(path.sep).join('/')}`,
              inputUrl: `/tmp/${path.basename(P.inputPath)}`,
              refUrl: P.refPath ? `/tmp/${path.basename(P.refPath)}` : null,
            }, server, { timeoutMs, verbose: opt.verbose });
          } else if (isNativeOurs(e)) {
            let check = null;
            if (round === 0 && P.refPath) {
              const readF32 = (f) => { const b = fs.readFileSync(f); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
              check = await checkNative({ ...spec, modelPath: P.modelPath, input: readF32(P.inputPath), reference: readF32(P.refPath) }, tmpDir, maxRelDiff);
              if (!check.checked) notes.push(`${m}: ${e} logits not checked: ${check.why}`);
            }
            if (check?.checked && !(check.max_rel_diff <= opt.tol)) {
              r = { engine: e, model: m, status: 'error', max_rel_diff: check.max_rel_diff,
                reason: `logits disagree with onnxruntime-node: max|diff|/max|ref| = ${check.max_rel_diff.toExponential(3)} > ${opt.tol} — timing aborted` };
            } else {
              r = await runNative({ ...spec, modelPath: P.modelPath }, { timeoutMs });
              if (check?.checked) r.max_rel_diff = check.max_rel_diff;
            }
          } else {
            r = await runNodeChild({ ...spec, modelPath: P.modelPath, inputPath: P.inputPath, refPath: P.refPath }, tmpDir, { timeoutMs, verbose: opt.verbose });
          }
          r.round = round + 1;
          results[k].push(r);
          const med = r.times_ms?.length ? [...r.times_ms].sort((a, b) => a - b)[r.times_ms.length >> 1] : r.median_ms;
          log(`  round ${round + 1}/${opt.rounds} ${m.padEnd(20)} ${e.padEnd(19)} ${r.status === 'ok'
            ? `median ${med?.toFixed(2)} ms, cold ${r.cold_start_ms?.toFixed(0)} ms, first ${r.first_inference_ms?.toFixed(1)} ms`
            : `${r.status}: ${r.reason}`} [${((Date.now() - ts) / 1000).toFixed(1)} s]`);
        }
      }
    }

    const sizes = Object.fromEntries(opt.engines.map((e) => [e, binarySize(e)]));
    const summaries = [];
    for (const m of opt.models) for (const e of opt.engines) summaries.push(summarize(e, m, results[key(m, e)], sizes[e]));
    addRatios(summaries);
    notes.push(`wall time ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    const settings = { rounds: opt.rounds, runs: opt.runs, warmup: opt.warmup, warmupMs: opt.warmupMs, tol: opt.tol, quick: opt.quick, models: opt.models, engines: opt.engines };
    const md = markdown({ env, settings, summaries, notes });
    fs.mkdirSync(opt.out, { recursive: true });
    fs.writeFileSync(path.join(opt.out, 'bench.md'), md + '\n');
    fs.writeFileSync(path.join(opt.out, 'bench.json'), JSON.stringify({ env, settings, summaries, rounds: results, notes }, null, 1) + '\n');
    console.log(md);
    console.error(`bench: wrote ${path.relative(process.cwd(), path.join(opt.out, 'bench.md')) || 'bench.md'} and bench.json`);

    if (opt.profile) {
      const { profileOrt } = await import('./profile.mjs');
      await profileOrt({ model: 'mnasnet_a1', outDir: opt.out });
    }

    const errors = summaries.filter((s) => s.status === 'error');
    if (errors.length) {
      for (const s of errors) console.error(`bench: ERROR ${s.model} ${s.engine}: ${s.reason}`);
      if (!opt.lenient) return 1;
    }
    return 0;
  } finally {
    await server?.close();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => process.exit(code), (e) => { console.error('bench: harness failure:', e?.stack ?? e); process.exit(1); });
}
