// Unit tests of web/app/class-stats.js, the computation behind the demo's
// "Excitation by class" view, on small cases worked out by hand. The demo
// modules are plain ES modules without DOM access, so Node imports them as
// they are.
//
//   node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newGateSums, addGates, gateLayout, packGates, blockStats, classStats, topChannels } from '../../web/app/class-stats.js';

const close = (got, want, what, tol = 1e-6) => assert.ok(Math.abs(got - want) <= tol, `${what}: ${got}, expected ${want}`);

/** Sums of a class from its examples (arrays of channel values). */
function sumsOf(name, examples) {
  const s = { name, ...newGateSums(examples[0].length) };
  for (const e of examples) addGates(s, Float32Array.from(e));
  return s;
}

const BLOCK = { name: 'se', channels: 4, offset: 0 };

// 2 classes x 3 examples x 4 channels. Per channel (between, within variance over all 6):
//  ch0: A 0.1 0.2 0.3, B 0.4 0.5 0.6 -> means 0.2 / 0.5, grand 0.35: between 0.15^2 = 0.0225, within 0.02/3
//  ch1: every value 0.5                -> 0, 0
//  ch2: A and B both 0.2 0.4 0.6       -> between 0, within 0.08/3
//  ch3: A 0.9 0.9 0.9, B 0.1 0.1 0.1   -> between 0.4^2 = 0.16, within 0
// Σ between = 0.1825 = 73/400; Σ total = 73/400 + 0.1/3 = 259/1200; specificity = 219/259.
const A = [[0.1, 0.5, 0.2, 0.9], [0.2, 0.5, 0.4, 0.9], [0.3, 0.5, 0.6, 0.9]];
const B = [[0.4, 0.5, 0.2, 0.1], [0.5, 0.5, 0.4, 0.1], [0.6, 0.5, 0.6, 0.1]];

test('hand-computed block: specificity 219/259, per-channel shares 27/35, 0, 0, 1', () => {
  const s = blockStats([sumsOf('A', A), sumsOf('B', B)], BLOCK);
  close(s.between, 73 / 400, 'between');
  close(s.total, 259 / 1200, 'total');
  close(s.specificity, 219 / 259, 'specificity');
  const share = Array.from(s.channelShare);
  [27 / 35, 0, 0, 1].forEach((w, j) => close(share[j], w, `share of channel ${j}`));
  assert.deepEqual(s.classes.map((c) => [c.name, c.count]), [['A', 3], ['B', 3]]);
  [[0.2, 0.5, 0.4, 0.9], [0.5, 0.5, 0.4, 0.1]].forEach((m, k) => m.forEach((w, j) => close(s.classes[k].mean[j], w, `mean ${k}/${j}`)));
  const top = topChannels(s, 2);
  assert.deepEqual(top.map((t) => t.channel), [3, 0]);
  close(top[1].means[0], 0.2, 'A mean of channel 0 in the top list');
  close(top[1].means[1], 0.5, 'B mean of channel 0 in the top list');
});

test('identical classes: specificity 0', () => {
  const s = blockStats([sumsOf('A', A), sumsOf('A again', A)], BLOCK);
  assert.equal(s.between, 0);
  assert.ok(s.total > 0);
  assert.equal(s.specificity, 0);
});

test('constant within each class, different between classes: specificity 1', () => {
  const s = blockStats([
    sumsOf('A', [[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]]),
    sumsOf('B', [[0.9, 0.8, 0.7, 0.6], [0.9, 0.8, 0.7, 0.6], [0.9, 0.8, 0.7, 0.6]]),
  ], BLOCK);
  close(s.specificity, 1, 'specificity', 1e-9);
  for (const v of s.channelShare) close(v, 1, 'channel share', 1e-9);
});

test('nothing varies, or one class only: 0, never NaN', () => {
  const flat = [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]];
  assert.equal(blockStats([sumsOf('A', flat), sumsOf('B', flat)], BLOCK).specificity, 0);
  assert.equal(blockStats([sumsOf('A', A)], BLOCK).specificity, 0);
  assert.equal(blockStats([], BLOCK).specificity, 0);
  // A class without examples does not count.
  const s = blockStats([sumsOf('A', A), sumsOf('B', B), { name: 'C', ...newGateSums(4) }], BLOCK);
  close(s.specificity, 219 / 259, 'specificity with an empty class');
  assert.equal(s.classes.length, 2);
});

test('packed blocks: each block uses its own channels', () => {
  const layout = gateLayout([{ name: 'b0', channels: 2 }, { name: 'b1', channels: 4 }]);
  assert.equal(layout.size, 6);
  assert.deepEqual(layout.blocks.map((b) => b.offset), [0, 2]);
  // b0: identical in both classes; b1: the hand-computed block.
  const ex = (b1) => [{ name: 'b0', channels: 2, values: Float32Array.of(0.3, 0.7) }, { name: 'b1', channels: 4, values: Float32Array.from(b1) }];
  const a = { name: 'A', ...newGateSums(layout.size) };
  const b = { name: 'B', ...newGateSums(layout.size) };
  A.forEach((e) => addGates(a, packGates(ex(e), layout.size)));
  B.forEach((e) => addGates(b, packGates(ex(e), layout.size)));
  const stats = classStats([a, b], layout.blocks);
  assert.deepEqual(stats.map((s) => s.name), ['b0', 'b1']);
  assert.equal(stats[0].specificity, 0);
  close(stats[1].specificity, 219 / 259, 'b1 specificity');
  assert.throws(() => addGates(a, new Float32Array(5)), /5 values, the sums hold 6/);
});
