// node tools/bench/simd_vs_scalar.mjs [--model NAME] [--runs N] [--rounds R]
//
// The native engine with its SIMD kernels (build/mnas) against the scalar
// reference kernels compiled -O2 -fno-tree-vectorize (build-scalar/mnas) on
// one model, one thread: latency, speed-up, GMAC/s and where the time goes
// (stem, 1x1, depthwise, SE, rest). Rounds alternate the two binaries so
// machine noise hits both alike; minima over all rounds are reported.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, TESTDATA } from './config.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const model = opt('model', 'mnasnet_a1');
const runs = Number(opt('runs', 30));
const rounds = Number(opt('rounds', 3));
const modelPath = path.join(TESTDATA, 'models', `${model}.onnx`);
const bins = { simd: path.join(REPO_ROOT, 'build/mnas'), scalar: path.join(REPO_ROOT, 'build-scalar/mnas') };

for (const [name, bin] of Object.entries(bins)) {
  if (!fs.existsSync(bin)) {
    console.error(`simd_vs_scalar: ${bin} is missing (${name} build); run make bench`);
    process.exit(1);
  }
}
if (!fs.existsSync(modelPath)) {
  console.log(`simd_vs_scalar: skipped, ${modelPath} not found (set MNAS_TESTDATA)`);
  process.exit(0);
}

const bench = (bin, n) =>
  JSON.parse(execFileSync(bin, ['bench', modelPath, '--runs', String(n), '--warmup', '3', '--per-layer', '--threads', '1', '--json'],
    { encoding: 'utf8', maxBuffer: 64 << 20 }));

const best = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, bin] of Object.entries(bins)) {
    // the scalar build is ~10x slower: fewer runs keep the rounds comparable in time
    const res = bench(bin, name === 'scalar' ? Math.max(3, Math.ceil(runs / 10)) : runs);
    const b = best[name];
    if (!b || res.min_ms < b.min_ms) best[name] = { ...res, median_ms: b ? Math.min(b.median_ms, res.median_ms) : res.median_ms };
  }
}

const s = best.simd, c = best.scalar;
const fmt = (x, d = 2) => x.toFixed(d);
console.log(`\n${model}: ${fmt(s.macs / 1e6, 1)} M multiply-adds, one thread, best of ${rounds} rounds\n`);
console.log('| kernels | min ms | median ms | GMAC/s |');
console.log('|---|---:|---:|---:|');
console.log(`| scalar reference (${c.kernels}, -O2 -fno-tree-vectorize) | ${fmt(c.min_ms)} | ${fmt(c.median_ms)} | ${fmt(c.gmacs_per_s)} |`);
console.log(`| SIMD (${s.kernels}) | ${fmt(s.min_ms)} | ${fmt(s.median_ms)} | ${fmt(s.gmacs_per_s)} |`);
console.log(`\nSIMD speed-up: ${fmt(c.min_ms / s.min_ms, 1)}x (min), ${fmt(c.median_ms / s.median_ms, 1)}x (median)\n`);
console.log('| part | SIMD ms | % | scalar ms | % |');
console.log('|---|---:|---:|---:|---:|');
const total = (x) => Object.values(x.categories).reduce((a, b) => a + b, 0);
for (const k of Object.keys(s.categories)) {
  const a = s.categories[k], b = c.categories[k];
  console.log(`| ${k} | ${fmt(a, 3)} | ${fmt((100 * a) / total(s), 1)} | ${fmt(b, 3)} | ${fmt((100 * b) / total(c), 1)} |`);
}
