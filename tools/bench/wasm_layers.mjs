#!/usr/bin/env node
// Per-layer profile of our engine in wasm under Node: where a wasm run
// spends its time, beside the native `mnas bench MODEL --per-layer`. The
// SDK does not time layers, so this drives the .wasm's C API directly
// (mnas_set_profiling, mnas_get_layer) through the SDK's own loader, with
// the struct offsets of js/src/abi.js.
//
//   node tools/bench/wasm_layers.mjs [--model mnasnet_a1] [--runs 40]
//        [--wasm js/dist/mnasnet.wasm] [--layer-by-layer]
//
// One thread, the first image of the model's PyTorch reference input.
// Prints each step (a fused block is one row, named and shaped by its first
// layer, its kinds joined by '+') with its median time over the runs and
// its multiply-adds per second, then the run's median and minimum.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, TESTDATA } from './config.mjs';
import { parseNpy } from './npy.mjs';
import { median } from './report.mjs';
import { instantiate } from '../../js/src/loader.js';
import { LAYER, OPTIONS, STATS } from '../../js/src/abi.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'mnasnet_a1' },
    runs: { type: 'string', default: '40' },
    wasm: { type: 'string', default: path.join(REPO_ROOT, 'js/dist/mnasnet.wasm') },
    'layer-by-layer': { type: 'boolean', default: false },
  },
});
const runs = Number(args.runs);
if (!(runs >= 1)) throw new Error(`--runs: expected a positive number, got '${args.runs}'`);

const { exports: x, mem } = await instantiate(new WebAssembly.Module(fs.readFileSync(args.wasm)));
const check = (st, what) => {
  if (st) throw new Error(`${what}: status ${st}`);
};
const cstr = (p) => {
  const u8 = mem().u8;
  let e = p;
  while (u8[e]) e++;
  return Buffer.from(u8.subarray(p, e)).toString('utf8');
};

check(x.mnas_warm_up(), 'mnas_warm_up');
const scratch = x.malloc(4 + OPTIONS.size + STATS.size + LAYER.size);
const opt = scratch + 4, stats = opt + OPTIONS.size, layer = stats + STATS.size;
check(x.mnas_create(scratch), 'mnas_create');
const model = mem().u32[scratch >> 2];
const bytes = fs.readFileSync(path.join(TESTDATA, 'models', `${args.model}.onnx`));
const copy = x.malloc(bytes.length);
mem().u8.set(bytes, copy);
mem().u8.fill(0, opt, opt + OPTIONS.size);
mem().i32[(opt + OPTIONS.threads) >> 2] = 1;
mem().i32[(opt + OPTIONS.layer_by_layer) >> 2] = args['layer-by-layer'] ? 1 : 0;
check(x.mnas_load_owned(model, copy, bytes.length, opt), `loading ${args.model}`);
check(x.mnas_get_stats(model, stats), 'mnas_get_stats');
const nLayers = mem().i32[(stats + STATS.layers) >> 2];

// the first image of the reference batch
const ref = parseNpy(fs.readFileSync(path.join(TESTDATA, 'models', 'refs', args.model, 'input.npy')));
const input = ref.data.subarray(0, ref.shape.slice(1).reduce((a, b) => a * b, 1));
const inPtr = x.malloc(input.length * 4);
mem().f32.set(input, inPtr >> 2);
check(x.mnas_set_profiling(model, 1), 'mnas_set_profiling');

const times = Array.from({ length: nLayers }, () => []);
const total = [];
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  check(x.mnas_run_nchw(model, inPtr, input.length), 'mnas_run_nchw');
  total.push(performance.now() - t0);
  for (let i = 0; i < nLayers; i++) {
    check(x.mnas_get_layer(model, i, layer), 'mnas_get_layer');
    times[i].push(mem().dv.getFloat64(layer + LAYER.time_ms, true));
  }
}

// A fused block's time is on its first layer; its other layers add their
// kinds and multiply-adds to that row.
const rows = [];
const byFirst = new Map();
for (let i = 0; i < nLayers; i++) {
  check(x.mnas_get_layer(model, i, layer), 'mnas_get_layer');
  const dv = mem().dv;
  const int = (f) => dv.getInt32(layer + LAYER[f], true);
  const first = int('fused_with');
  const kind = cstr(dv.getUint32(layer + LAYER.kind, true));
  const macs = Number(dv.getBigInt64(layer + LAYER.macs, true));
  if (first >= 0 && first !== i && byFirst.has(first)) {
    const row = byFirst.get(first);
    row.kinds.push(kind);
    row.macs += macs;
    continue;
  }
  const row = {
    index: i, name: cstr(dv.getUint32(layer + LAYER.name, true)), kinds: [kind], macs, ms: median(times[i]),
    shape: `${int('in_c')}x${int('in_h')}x${int('in_w')} -> ${int('out_c')}x${int('out_h')}x${int('out_w')}`,
    kernel: `${int('kh')}/${int('stride')}`,
  };
  rows.push(row);
  byFirst.set(i, row);
}

console.log(`# ${args.model} in wasm (${path.relative(REPO_ROOT, args.wasm)}, ${cstr(x.mnas_backend())}), ` +
  `Node ${process.version}, 1 thread, ${runs} runs${args['layer-by-layer'] ? ', layer by layer' : ''}\n`);
console.log('| # | step | kinds | shape | k/s | median ms | GMAC/s |\n|---:|---|---|---|---|---:|---:|');
for (const r of rows) {
  const rate = r.macs && r.ms ? (r.macs / r.ms / 1e6).toFixed(1) : '';
  console.log(`| ${r.index} | \`${r.name}\` | ${r.kinds.join('+')} | ${r.shape} | ${r.kernel} | ${r.ms.toFixed(3)} | ${rate} |`);
}
const sum = rows.reduce((s, r) => s + r.ms, 0);
console.log(`\nrun median ${median(total).toFixed(3)} ms, min ${Math.min(...total).toFixed(3)} ms; ` +
  `sum of step medians ${sum.toFixed(3)} ms`);
