// Excitation by class: how much of the squeeze-and-excitation gating of each
// block depends on the class of the input. The SENet paper's analysis of the
// role of excitation found that early SE blocks gate channels the same way
// whatever the class, and late ones differently per class; this module turns
// the gates seen for a set of classes into numbers that show that pattern
// (or its absence) for the loaded model.
//
// Gates are kept as running sums per class (count, per-channel sum and sum of
// squares over the packed gates of every SE block), so a class's statistics
// cost the same memory whatever its number of examples. For one block:
//   between-class variance of a channel = Σ_c n_c (m_c − m)² / N
//   within-class variance of a channel  = Σ_c (Σx² − n_c m_c²) / N
//   total = between + within (the channel's variance over all N examples)
//   class-specificity = Σ_channels between / Σ_channels total
// 0 when the classes' mean gates are identical (or nothing varies at all),
// 1 when every example of a class has the same gates and classes differ.
// Pure functions over typed arrays: used by the inference worker (sums), the
// page (the view), tools/se_class_stats.mjs and the unit tests.

/** Running sums of one class over packed gate vectors of `size` values. */
export function newGateSums(size) {
  return { count: 0, sum: new Float64Array(size), sumSq: new Float64Array(size) };
}

/** Adds one example's packed gates (Float32Array of the sums' size) to the sums. */
export function addGates(sums, values) {
  if (values.length !== sums.sum.length) throw new Error(`gate vector of ${values.length} values, the sums hold ${sums.sum.length}`);
  const { sum, sumSq } = sums;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    sum[i] += x;
    sumSq[i] += x * x;
  }
  sums.count++;
  return sums;
}

/**
 * Packed layout of a result's excitations: [{name, channels, offset}] and the
 * total number of values, so every example packs its gates the same way.
 */
export function gateLayout(excitations) {
  const blocks = [];
  let off = 0;
  for (const e of excitations) {
    blocks.push({ name: e.name, channels: e.channels, offset: off });
    off += e.channels;
  }
  return { blocks, size: off };
}

/** The excitations of one SDK result packed into one Float32Array (see gateLayout). */
export function packGates(excitations, size) {
  const out = new Float32Array(size);
  let off = 0;
  for (const e of excitations) {
    out.set(e.values.subarray ? e.values.subarray(0, e.channels) : e.values.slice(0, e.channels), off);
    off += e.channels;
  }
  return out;
}

/**
 * Statistics of one block over the classes that have examples.
 * classes: [{name, count, sum, sumSq}] (packed sums); block: {name, channels, offset}.
 * Returns {name, specificity, between, total, channelShare: Float64Array,
 * classes: [{name, count, mean: Float32Array}]}.
 */
export function blockStats(classes, block) {
  const used = classes.filter((c) => c.count > 0);
  const { channels, offset } = block;
  const N = used.reduce((s, c) => s + c.count, 0);
  const channelShare = new Float64Array(channels);
  const means = used.map((c) => {
    const m = new Float32Array(channels);
    for (let j = 0; j < channels; j++) m[j] = c.sum[offset + j] / c.count;
    return m;
  });
  let between = 0, total = 0;
  for (let j = 0; j < channels; j++) {
    let s = 0;
    for (const c of used) s += c.sum[offset + j];
    const m = N ? s / N : 0;
    let b = 0, w = 0;
    for (const c of used) {
      const mc = c.sum[offset + j] / c.count;
      b += c.count * (mc - m) * (mc - m);
      // Σx² − n·m_c² can fall a hair below 0 in floating point.
      w += Math.max(0, c.sumSq[offset + j] - c.count * mc * mc);
    }
    b = N ? b / N : 0;
    w = N ? w / N : 0;
    channelShare[j] = b + w > 0 ? b / (b + w) : 0;
    between += b;
    total += b + w;
  }
  return {
    name: block.name,
    specificity: total > 0 ? between / total : 0,
    between,
    total,
    channelShare,
    classes: used.map((c, k) => ({ name: c.name, count: c.count, mean: means[k] })),
  };
}

/** blockStats of every block. */
export function classStats(classes, blocks) {
  return blocks.map((b) => blockStats(classes, b));
}

/** The k channels of a block's stats that separate the classes most: [{channel, share, means: number[]}]. */
export function topChannels(stats, k = 20) {
  const order = Array.from(stats.channelShare.keys()).sort((a, b) => stats.channelShare[b] - stats.channelShare[a] || a - b);
  return order.slice(0, k).map((j) => ({ channel: j, share: stats.channelShare[j], means: stats.classes.map((c) => c.mean[j]) }));
}
