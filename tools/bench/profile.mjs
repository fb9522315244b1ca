#!/usr/bin/env node
// Per-layer profile of onnxruntime-node (1 thread), to put beside our own
// per-layer times (`mnas bench MODEL --per-layer --json`).
//
//   node tools/bench/profile.mjs [--model mnasnet_a1] [--runs 20] [--warmup 5] [--out DIR]
//   (also run by `node tools/bench/run.mjs --profile`)
//
// Writes DIR/ort-profile.md and DIR/ort-profile.json. Two ORT sessions are
// profiled: graph optimisation 'all' (what ORT really runs: Conv+Relu fused,
// NCHWc blocked layout with Reorder nodes; node names are derived from the
// ONNX output value names) and 'basic' (close to one ORT node per ONNX node,
// named like the ONNX node), each with enableProfiling; times are per node
// and per run, the median over the timed runs (warm-up runs are dropped).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, TESTDATA } from './config.mjs';
import { parseNpy } from './npy.mjs';
import { parseOnnx } from './onnx_proto.mjs';
import { runNativePerLayer } from './native.mjs';
import { median } from './report.mjs';

const shape = (ts) => (Array.isArray(ts) && ts.length ? JSON.stringify(Object.values(ts[0])[0]) : '');

async function profileSession(ort, bytes, input, inputShape, level, runs, warmup, tmp) {
  const prefix = path.join(tmp, `ort-${level}`);
  const s = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: level, enableProfiling: true, profileFilePrefix: prefix,
  });
  const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', input, inputShape) };
  for (let i = 0; i < warmup + runs; i++) await s.run(feeds);
  s.endProfiling();
  await s.release();
  const file = fs.readdirSync(tmp).filter((f) => f.startsWith(`ort-${level}`) && f.endsWith('.json')).map((f) => path.join(tmp, f))[0];
  if (!file) throw new Error(`onnxruntime-node wrote no profile for level ${level}`);
  const events = JSON.parse(fs.readFileSync(file, 'utf8'));
  const runsEv = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const timed = runsEv.slice(warmup);
  const nodes = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const ri = timed.findIndex((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur);
    if (ri < 0) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    let n = nodes.get(name);
    if (!n) {
      n = { name, op: e.args?.op_name ?? '', index: Number(e.args?.node_index ?? -1), out_shape: shape(e.args?.output_type_shape),
        in_shape: shape(e.args?.input_type_shape), weight_shape: Array.isArray(e.args?.input_type_shape) && e.args.input_type_shape[1] ? JSON.stringify(Object.values(e.args.input_type_shape[1])[0]) : '',
        provider: e.args?.provider ?? '', durs: [], first_ts: e.ts - timed[ri].ts };
      nodes.set(name, n);
    }
    n.durs.push(e.dur);
  }
  const runMedianUs = median(timed.map((r) => r.dur));
  const list = [...nodes.values()].map((n) => ({ ...n, us: median(n.durs), calls_per_run: n.durs.length / timed.length, durs: undefined }))
    .sort((a, b) => b.us - a.us);
  const sumUs = list.reduce((a, n) => a + n.us, 0);
  for (const n of list) n.share = n.us / sumUs;
  const ops = {};
  for (const n of list) { ops[n.op] ??= { op: n.op, nodes: 0, us: 0 }; ops[n.op].nodes++; ops[n.op].us += n.us; }
  const opList = Object.values(ops).sort((a, b) => b.us - a.us).map((o) => ({ ...o, share: o.us / sumUs }));
  // Execution order, for a side-by-side by position.
  const order = [...list].sort((a, b) => a.first_ts - b.first_ts).map((n) => n.name);
  fs.rmSync(file, { force: true });
  return { level, runs: timed.length, run_median_us: runMedianUs, node_sum_us: sumUs, nodes: list, ops: opList, order };
}

// Our layers are named after their weights ("blocks.2.0.conv_pw" for the
// weight "blocks.2.0.conv_pw.weight"; see mnas_layer.name), ORT's nodes after
// the ONNX nodes: this maps the one to the other for the nodes with a weight.
function layerNodes(bytes) {
  const map = new Map();
  let g;
  try {
    ({ graph: g } = parseOnnx(bytes));
  } catch {
    return map;
  }
  for (const n of g.nodes) {
    const w = n.inputs[1];
    if (!g.initializers.has(w) || w.startsWith('onnx::') || /^[0-9]+$/.test(w)) continue;
    const cut = Math.max(w.lastIndexOf('.'), w.lastIndexOf('/'));
    const name = cut > 0 ? w.slice(0, cut) : w;
    if (!map.has(name)) map.set(name, n.name);
  }
  return map;
}

export async function profileOrt({ model = 'mnasnet_a1', runs = 20, warmup = 5, outDir = path.join(REPO_ROOT, 'bench-results') } = {}) {
  const modelPath = path.join(TESTDATA, 'models', `${model}.onnx`);
  if (!fs.existsSync(modelPath)) throw new Error(`model not found: ${modelPath}`);
  const ortm = await import('onnxruntime-node');
  const ort = ortm.default?.InferenceSession ? ortm.default : ortm;
  const bytes = fs.readFileSync(modelPath);
  let input, inputShape;
  try {
    const x = parseNpy(fs.readFileSync(path.join(TESTDATA, 'models', 'refs', model, 'input.npy')));
    inputShape = [1, ...x.shape.slice(1)];
    input = x.data.slice(0, inputShape.reduce((a, b) => a * b, 1));
  } catch {
    inputShape = parseOnnx(bytes).graph.inputs[0].shape.map((d, i) => (i === 0 ? 1 : Number(d)));
    input = new Float32Array(inputShape.reduce((a, b) => a * b, 1)).fill(0.5);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mnas-ortprof-'));
  let all, basic;
  try {
    all = await profileSession(ort, bytes, input, inputShape, 'all', runs, warmup, tmp);
    basic = await profileSession(ort, bytes, input, inputShape, 'basic', runs, warmup, tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const ours = await runNativePerLayer(modelPath, { runs, warmup });

  const us = (v) => (v == null || Number.isNaN(v) ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  const L = [];
  L.push(`# onnxruntime-node per-layer profile — ${model}`);
  L.push('');
  L.push(`- date: ${new Date().toISOString()}; onnxruntime-node ${ort.env?.versions?.node ?? ''}; 1 intra-op thread, sequential; input ${JSON.stringify(inputShape)}`);
  L.push(`- ${runs} profiled runs after ${warmup} warm-up runs; per node: median µs per run`);
  L.push('');
  for (const p of [all, basic]) {
    L.push(`## graphOptimizationLevel '${p.level}' — run median ${us(p.run_median_us)} µs, sum of node medians ${us(p.node_sum_us)} µs, ${p.nodes.length} nodes`);
    L.push('');
    L.push('Top 15 nodes:');
    L.push('');
    L.push('| # | ORT node | op | input shape | weight shape | output shape | µs | share |');
    L.push('|---:|---|---|---|---|---|---:|---:|');
    p.nodes.slice(0, 15).forEach((n, i) => L.push(`| ${i + 1} | \`${n.name}\` | ${n.op} | ${n.in_shape} | ${n.weight_shape} | ${n.out_shape} | ${us(n.us)} | ${pct(n.share)} |`));
    L.push('');
    L.push('By op type:');
    L.push('');
    L.push('| op | nodes | µs | share |');
    L.push('|---|---:|---:|---:|');
    for (const o of p.ops) L.push(`| ${o.op} | ${o.nodes} | ${us(o.us)} | ${pct(o.share)} |`);
    L.push('');
  }
  L.push('## Ours (`mnas bench --per-layer --json`)');
  L.push('');
  if (ours.status === 'ok') {
    const tot = ours.layers.reduce((a, l) => a + (Number.isFinite(l.us) ? l.us : 0), 0);
    const byName = new Map(basic.nodes.map((n) => [n.name, n]));
    const nodeOf = layerNodes(bytes);
    L.push(`Sum of our layer times: ${us(tot)} µs (ORT 'all': ${us(all.node_sum_us)} µs). Top 15, with the ORT 'basic' node of the same name where there is one:`);
    L.push('');
    L.push('| # | our layer | op | shape | µs | share | ORT basic µs |');
    L.push('|---:|---|---|---|---:|---:|---:|');
    [...ours.layers].sort((a, b) => b.us - a.us).slice(0, 15).forEach((l, i) => {
      const o = byName.get(l.name) ?? byName.get(nodeOf.get(l.name));
      L.push(`| ${i + 1} | \`${l.name}\` | ${l.op} | ${l.shape ? JSON.stringify(l.shape) : ''} | ${us(l.us)} | ${pct(l.us / tot)} | ${o ? us(o.us) : '—'} |`);
    });
  } else {
    L.push(`${ours.status}: ${ours.reason}`);
  }
  L.push('');
  const md = L.join('\n');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'ort-profile.md'), md + '\n');
  fs.writeFileSync(path.join(outDir, 'ort-profile.json'), JSON.stringify({ model, input_shape: inputShape, runs, warmup, ort: [all, basic], ours }, null, 1) + '\n');
  console.log(md);
  console.error(`profile: wrote ${path.join(outDir, 'ort-profile.md')} and ort-profile.json`);
  return { all, basic, ours };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const a = process.argv.slice(2);
  const get = (k, d) => { const i = a.indexOf(k); return i >= 0 ? a[i + 1] : d; };
  profileOrt({
    model: get('--model', 'mnasnet_a1').replace(/\.onnx$/, ''),
    runs: Number(get('--runs', 20)), warmup: Number(get('--warmup', 5)),
    outDir: path.resolve(get('--out', path.join(REPO_ROOT, 'bench-results'))),
  }).then(() => process.exit(0), (e) => { console.error('profile:', e?.stack ?? e); process.exit(1); });
}
