#!/usr/bin/env node
// Per-step scaling of the native engine from 1 to N threads: where the
// second thread pays and where it does not.
//
//   node tools/bench/threads_profile.mjs [--model mnasnet_a1] [--threads 2] [--rounds 5] [--runs 20]
//                                        [--top 12] [--json FILE]
//
// Each round runs `mnas bench MODEL --per-layer --json` at 1 and at N threads
// (alternating, so both see the same machine); a step's time is its
// per-round mean, and the minimum over rounds is kept (a busy machine only
// ever adds time). Prints the split by kind and the steps that scale worst,
// ordered by the time they lose against a perfect split (t_N - t_1 / N).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, TESTDATA } from './config.mjs';
import { nativeBinPath, nativeUnavailableReason } from './native.mjs';

/** `mnas bench --per-layer --json` at `threads`: the CLI's layer list (index, name, kind, category, ms, macs). */
function perLayer(modelPath, runs, threads) {
  const out = execFileSync(nativeBinPath(), ['bench', modelPath, '--per-layer', '--json', '--runs', String(runs), '--warmup', '3',
    '--threads', String(threads)], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out).layers;
}

function parseArgs(argv) {
  const o = { model: 'mnasnet_a1', threads: 2, rounds: 5, runs: 20, top: 12, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i];
    if (a === '--model') o.model = val().replace(/\.onnx$/, '');
    else if (a === '--threads') o.threads = Number(val());
    else if (a === '--rounds') o.rounds = Number(val());
    else if (a === '--runs') o.runs = Number(val());
    else if (a === '--top') o.top = Number(val());
    else if (a === '--json') o.json = val();
    else {
      console.error('usage: node tools/bench/threads_profile.mjs [--model NAME] [--threads N] [--rounds R] [--runs N] [--top K] [--json FILE]');
      process.exit(2);
    }
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const why = nativeUnavailableReason();
  if (why) {
    console.error(`threads_profile: ${why}`);
    return 1;
  }
  const modelPath = path.join(TESTDATA, 'models', `${o.model}.onnx`);
  const best = { 1: new Map(), [o.threads]: new Map() };
  const totals = { 1: Infinity, [o.threads]: Infinity };
  for (let r = 0; r < o.rounds; r++) {
    for (const t of [1, o.threads]) {
      const layers = perLayer(modelPath, o.runs, t);
      let sum = 0;
      for (const l of layers) {
        const prev = best[t].get(l.index);
        if (!prev || l.ms < prev.ms) best[t].set(l.index, l);
        sum += l.ms;
      }
      totals[t] = Math.min(totals[t], sum);
    }
  }
  const steps = [...best[1].values()].map((a) => {
    const b = best[o.threads].get(a.index);
    return { index: a.index, name: a.name, kind: a.kind, category: a.category, macs: a.macs, ms1: a.ms, msN: b?.ms ?? null };
  }).filter((s) => s.msN != null);
  for (const s of steps) {
    s.scaling = s.ms1 / s.msN;
    s.lost_ms = s.msN - s.ms1 / o.threads;
  }
  const cats = {};
  for (const s of steps) {
    const c = (cats[s.category] ??= { ms1: 0, msN: 0 });
    c.ms1 += s.ms1;
    c.msN += s.msN;
  }
  const f = (v) => v.toFixed(3);
  const L = [];
  L.push(`# ${o.model}: 1 → ${o.threads} threads, per step (native, min over ${o.rounds} rounds of ${o.runs} runs)`);
  L.push('');
  L.push(`sum of steps: ${f(totals[1])} ms → ${f(totals[o.threads])} ms (${(totals[1] / totals[o.threads]).toFixed(2)}×)`);
  L.push('');
  L.push('| kind | 1 thread ms | ' + `${o.threads} threads ms | scaling |`);
  L.push('|---|---:|---:|---:|');
  for (const [k, c] of Object.entries(cats).sort((a, b) => b[1].ms1 - a[1].ms1)) {
    L.push(`| ${k} | ${f(c.ms1)} | ${f(c.msN)} | ${(c.ms1 / c.msN).toFixed(2)}× |`);
  }
  L.push('');
  L.push(`Steps that scale worst (time lost against a perfect split, t${o.threads} − t1/${o.threads}):`);
  L.push('');
  L.push(`| # | step | kind | MMACs | 1 thread ms | ${o.threads} threads ms | scaling | lost ms |`);
  L.push('|---:|---|---|---:|---:|---:|---:|---:|');
  for (const s of [...steps].sort((a, b) => b.lost_ms - a.lost_ms).slice(0, o.top)) {
    L.push(`| ${s.index} | ${s.name} | ${s.kind} | ${(s.macs / 1e6).toFixed(2)} | ${f(s.ms1)} | ${f(s.msN)} | ${s.scaling.toFixed(2)}× | ${f(s.lost_ms)} |`);
  }
  console.log(L.join('\n'));
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ model: o.model, threads: o.threads, totals, categories: cats, steps }, null, 1));
  return 0;
}

main().then((c) => process.exit(c), (e) => {
  console.error(`threads_profile: ${e.message}`);
  process.exit(1);
});
