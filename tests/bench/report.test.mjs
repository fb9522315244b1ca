// node --test tests/bench/
// The benchmark report's one-thread table: the ratios it prints are the
// summaries' numbers divided as its headings say, judged against the
// targets for MnasNet-A1 only.
import test from 'node:test';
import assert from 'node:assert/strict';
import { markdown, singleThreadRows } from '../../tools/bench/report.mjs';

const ok = (engine, model, min, cold, first) => ({ engine, model, status: 'ok', ours: engine.startsWith('mnas'), min_ms: min, cold_start_ms: cold, first_inference_ms: first });

test('singleThreadRows: ratios, targets for mnasnet_a1 only, missing peers leave rows out', () => {
  const rows = singleThreadRows([
    ok('mnas-wasm-node', 'mnasnet_a1', 10, 30, 12),
    ok('tfjs-wasm-node', 'mnasnet_a1', 20, 300, 200),
    ok('mnas-wasm-chromium', 'mnasnet_a1', 8, 40, 20),
    { engine: 'tfjs-wasm-chromium', model: 'mnasnet_a1', status: 'error', reason: 'x' },
    ok('mnas-wasm-node', 'mnasnet_b1_0.5', 4, 20, 5),
    ok('tfjs-wasm-node', 'mnasnet_b1_0.5', 5, 200, 100),
  ]);
  const get = (model, env, what) => rows.find((r) => r.model === model && r.env === env && r.what.startsWith(what));
  assert.equal(get('mnasnet_a1', 'node', 'ours ÷').value, 0.5);
  assert.equal(get('mnasnet_a1', 'node', 'ours ÷').met, true);
  assert.equal(get('mnasnet_a1', 'node', 'first').value, 1.2);
  assert.equal(get('mnasnet_a1', 'node', 'first').met, true);
  assert.equal(get('mnasnet_a1', 'node', 'cold').value, 42 / 500);
  assert.equal(get('mnasnet_a1', 'node', 'cold').met, true);
  assert.equal(get('mnasnet_a1', 'chromium', 'first').value, 2.5);
  assert.equal(get('mnasnet_a1', 'chromium', 'first').met, false);
  assert.equal(get('mnasnet_a1', 'chromium', 'ours ÷'), undefined); // the peer failed
  assert.equal(get('mnasnet_b1_0.5', 'node', 'ours ÷').value, 0.8);
  assert.equal(get('mnasnet_b1_0.5', 'node', 'ours ÷').met, null);
  assert.equal(rows.length, 7); // A1: 3 in Node, 1 in Chromium; B1: 3 in Node
});

test('markdown: the one-thread table is printed with its verdicts', () => {
  const md = markdown({
    env: { date: 'd', cpu: 'c', cores: 2, os: 'o', node: 'n', chromium: 'x', versions: {} },
    settings: { rounds: 1, runs: 1, warmup: 1, warmupMs: 0 },
    summaries: [ok('mnas-wasm-node', 'mnasnet_a1', 10, 30, 12), ok('tfjs-wasm-node', 'mnasnet_a1', 20, 300, 200)],
  });
  assert.match(md, /## One thread and the first result/);
  assert.match(md, /\| mnasnet_a1 \| node \| first inference ÷ our min \| 1\.20× \| ≤ 1\.5× \| yes \| 12\.0 vs 10\.00 ms \|/);
});
