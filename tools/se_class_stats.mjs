#!/usr/bin/env node
// Class-specificity of every SE block of a model over CIFAR-10 test images:
// the numbers behind the demo's "Excitation by class" view, measured on real
// labels and many images instead of the demo's few samples, to check whether
// the model shows the pattern the SENet paper reports (early blocks gate the
// same way for every class, late ones per class). Uses the SDK (js/src) and
// web/app/class-stats.js, so it computes exactly what the demo shows.
//
//   node tools/se_class_stats.mjs [--per-class N] [--model FILE.onnx] [--by label|top1] [--json]
//
// CIFAR-10 test records (1 label byte + 1024 R + 1024 G + 1024 B, 32x32) are
// read from $MNAS_TESTDATA/data/cifar10_test.bin (default ../shared); the file
// is ordered by class, so the first N records of each class are taken by
// scanning labels. --by label groups by the true class (default), --by top1
// by the model's prediction.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MnasNet } from '../js/src/index.js';
import { newGateSums, addGates, gateLayout, packGates, classStats } from '../web/app/class-stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RECORD = 3073;

function parseArgs(argv) {
  const o = { perClass: 100, model: null, by: 'label', json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--per-class') o.perClass = Number(argv[++i]);
    else if (a === '--model') o.model = argv[++i];
    else if (a === '--by') o.by = argv[++i];
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.perClass > 0)) throw new Error('--per-class needs a positive number');
  if (o.by !== 'label' && o.by !== 'top1') throw new Error('--by is label or top1');
  return o;
}

function rgbaOf(bin, i) {
  const base = i * RECORD + 1;
  const data = new Uint8ClampedArray(32 * 32 * 4);
  for (let p = 0; p < 1024; p++) {
    data[p * 4] = bin[base + p];
    data[p * 4 + 1] = bin[base + 1024 + p];
    data[p * 4 + 2] = bin[base + 2048 + p];
    data[p * 4 + 3] = 255;
  }
  return { data, width: 32, height: 32 };
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const testdata = path.resolve(ROOT, process.env.MNAS_TESTDATA || '../shared');
  const bin = fs.readFileSync(path.join(testdata, 'data', 'cifar10_test.bin'));
  const records = bin.length / RECORD;
  const net = opt.model ? await MnasNet.load(fs.readFileSync(opt.model)) : await MnasNet.load();
  const labels = net.info.labels || [];
  const picked = new Map(); // label -> record indices
  for (let i = 0; i < records; i++) {
    const l = bin[i * RECORD];
    const list = picked.get(l) || picked.set(l, []).get(l);
    if (list.length < opt.perClass) list.push(i);
  }
  let layout = null;
  const sums = new Map(); // class name -> running sums
  let n = 0, agree = 0;
  const t0 = performance.now();
  for (const [label, list] of [...picked].sort((a, b) => a[0] - b[0])) {
    for (const i of list) {
      const r = net.classify(rgbaOf(bin, i), { topK: 1 });
      if (!layout) layout = gateLayout(r.excitations);
      const cls = opt.by === 'label' ? label : r.top[0].index;
      const name = labels[cls] ?? String(cls);
      if (!sums.has(name)) sums.set(name, { name, ...newGateSums(layout.size) });
      addGates(sums.get(name), packGates(r.excitations, layout.size));
      n++;
      if (r.top[0].index === label) agree++;
    }
  }
  const ms = performance.now() - t0;
  const stats = classStats([...sums.values()], layout.blocks);
  if (opt.json) {
    console.log(JSON.stringify(stats.map((s) => ({ name: s.name, channels: s.channelShare.length, specificity: s.specificity })), null, 1));
  } else {
    console.log(`model: ${opt.model || 'default (mnasnet_a1_cifar10)'}; ${n} CIFAR-10 test images, ${opt.perClass} per class, grouped by ${opt.by}; ` +
      `top-1 = label on ${agree}/${n}; ${(ms / n).toFixed(1)} ms/image`);
    console.log('| SE block | channels | class-specificity |');
    console.log('|---|---:|---:|');
    for (const s of stats) console.log(`| ${s.name} | ${s.channelShare.length} | ${s.specificity.toFixed(3)} |`);
  }
  net.dispose();
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
