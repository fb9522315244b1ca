#!/usr/bin/env node
// Where the SDK's cold start in Node goes, phase by phase: the profile behind
// the benchmark's "cold start" column.
//
//   node tools/bench/cold_profile.mjs [--model mnasnet_a1] [--runs 15] [--json FILE]
//
// Each run is a fresh Node process set up as the benchmark's (the model's
// bytes already read into a Buffer), which then takes the steps of
// MnasNet.load() one at a time through the SDK's own loader:
//
//   import       the SDK entry (the bundle users import)
//   compile      the .wasm the SDK picks for this runtime
//   instantiate
//   copy         the model bytes into fresh wasm memory (malloc + set)
//   load         mnas_load_owned: parse, plan, fold, pack
//
// with the time V8 spent collecting garbage during them (gc_ms: the model's
// Buffer is the young generation's, and V8 collects before the next new
// backing store once those pass a limit), and two references that are not
// part of a load: the same copy into wasm pages written once before (copy -
// copy_touched = the cost of first touching the pages), and importing an
// empty module in another fresh process (what any import costs in Node).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MNAS_JS_ENTRY, REPO_ROOT, TESTDATA } from './config.mjs';
import { median } from './report.mjs';

const PHASES = ['import', 'compile', 'instantiate', 'copy', 'load'];

async function child(modelPath, entry) {
  const { PerformanceObserver } = await import('node:perf_hooks');
  const gcs = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) gcs.push([e.startTime, e.duration]); }).observe({ entryTypes: ['gc'] });
  const bytes = new Uint8Array(fs.readFileSync(modelPath));
  const now = () => performance.now();
  const t0 = now();
  await import(pathToFileURL(entry).href);
  const importMs = now() - t0;
  // The loader the bundle is built from: its import is not timed.
  const { getModule, instantiate } = await import(pathToFileURL(path.join(REPO_ROOT, 'js/src/loader.js')).href);
  const t1 = now();
  const module = await getModule();
  const t2 = now();
  const { exports: x, mem } = await instantiate(module);
  const t3 = now();
  x.free(x.malloc(1));
  const scratch = x.malloc(96);
  mem().u8.fill(0, scratch, scratch + 96); // +0: model handle, +32: zeroed mnas_options (36 bytes)
  if (x.mnas_create(scratch)) throw new Error('mnas_create failed');
  const model = mem().u32[scratch >> 2];
  const p = x.malloc(bytes.byteLength);
  if (!p) throw new Error('out of wasm memory');
  mem().u8.set(bytes, p);
  const t4 = now();
  const st = x.mnas_load_owned(model, p, bytes.byteLength, scratch + 32);
  const t5 = now();
  if (st) throw new Error(`mnas_load_owned: status ${st}`);
  const classes = x.mnas_num_classes(model);
  const q = x.malloc(bytes.byteLength);
  if (!q) throw new Error('out of wasm memory');
  mem().u8.fill(1, q, q + bytes.byteLength);
  const t6 = now();
  mem().u8.set(bytes, q);
  const t7 = now();
  await new Promise((resolve) => setTimeout(resolve, 10)); // gc entries arrive in a later task
  const gcIn = (a, b) => gcs.filter(([s]) => s >= a && s < b).reduce((acc, [, d]) => acc + d, 0);
  return {
    import: importMs, compile: t2 - t1, instantiate: t3 - t2, copy: t4 - t3, load: t5 - t4,
    gc_ms: gcIn(t0, t0 + importMs) + gcIn(t1, t5), copy_touched: t7 - t6, model_bytes: bytes.byteLength, classes,
  };
}

async function emptyImport(file) {
  const t0 = performance.now();
  await import(pathToFileURL(file).href);
  return { empty_import: performance.now() - t0 };
}

function usage(msg) {
  if (msg) console.error(`cold_profile: ${msg}`);
  console.error('usage: node tools/bench/cold_profile.mjs [--model NAME] [--runs N] [--json FILE]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { model: 'mnasnet_a1', runs: 15, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--model') o.model = val().replace(/\.onnx$/, '');
    else if (a === '--runs') o.runs = Number(val());
    else if (a === '--json') o.json = val();
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 1) usage('--runs must be an integer >= 1');
  return o;
}

function runChild(args) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args], { encoding: 'utf8' });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`child failed (status ${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line);
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    process.stdout.write(`${JSON.stringify(await child(argv[1], argv[2]))}\n`);
    return;
  }
  if (argv[0] === '--child-empty') {
    process.stdout.write(`${JSON.stringify(await emptyImport(argv[1]))}\n`);
    return;
  }
  const o = parseArgs(argv);
  const modelPath = path.join(TESTDATA, 'models', `${o.model}.onnx`);
  if (!fs.existsSync(modelPath)) usage(`no model ${modelPath}`);
  const entry = path.resolve(REPO_ROOT, MNAS_JS_ENTRY);
  if (!fs.existsSync(entry)) usage(`SDK entry ${entry} not built (make wasm)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mnas-cold-'));
  const empty = path.join(tmp, 'empty.mjs');
  fs.writeFileSync(empty, 'export const empty = true;\n');
  const rows = [];
  try {
    for (let i = 0; i < o.runs; i++) {
      rows.push({ ...runChild(['--child', modelPath, entry]), ...runChild(['--child-empty', empty]) });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  for (const r of rows) r.total = PHASES.reduce((s, k) => s + r[k], 0);
  const keys = [...PHASES, 'total', 'gc_ms', 'copy_touched', 'empty_import'];
  const med = Object.fromEntries(keys.map((k) => [k, median(rows.map((r) => r[k]))]));
  const min = Object.fromEntries(keys.map((k) => [k, Math.min(...rows.map((r) => r[k]))]));
  const pages = Math.ceil(rows[0].model_bytes / 4096);
  const faultUs = ((med.copy - med.copy_touched) * 1000) / pages;
  const f = (x) => x.toFixed(2);
  const L = [
    `# Cold start of the SDK in Node, by phase: ${o.model}`,
    '',
    `${o.runs} fresh processes, ${new Date().toISOString()}, Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} logical cores).`,
    '',
    '| phase | median ms | min ms |',
    '|---|---:|---:|',
    ...PHASES.map((k) => `| ${k} | ${f(med[k])} | ${f(min[k])} |`),
    `| **sum** | **${f(med.total)}** | ${f(min.total)} |`,
    `| (of which garbage collection) | ${f(med.gc_ms)} | ${f(min.gc_ms)} |`,
    `| (reference: the same copy into touched pages) | ${f(med.copy_touched)} | ${f(min.copy_touched)} |`,
    `| (reference: importing an empty module) | ${f(med.empty_import)} | ${f(min.empty_import)} |`,
    '',
    `First touch of the ${pages} pages (4 KiB) the model's ${(rows[0].model_bytes / 1048576).toFixed(1)} MiB occupy: ` +
      `${f(med.copy - med.copy_touched)} ms, ${faultUs.toFixed(2)} µs a page.`,
  ];
  console.log(L.join('\n'));
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ model: o.model, median: med, min, rows }, null, 2));
}

main().catch((e) => {
  console.error(`cold_profile: ${e?.stack ?? e}`);
  process.exit(1);
});
