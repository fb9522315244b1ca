// Aggregation of per-round results and the markdown report.
import { ENGINES, oursFor } from './config.mjs';

export function quantile(sorted, q) {
  if (!sorted.length) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
export const median = (xs) => quantile([...xs].sort((a, b) => a - b), 0.5);
const vals = (rs, k) => rs.map((r) => r[k]).filter((v) => typeof v === 'number' && Number.isFinite(v));

/** rounds: results of one engine on one model, one per round. */
export function summarize(engine, model, rounds, binary) {
  const s = { engine, model, env: ENGINES[engine].env, ours: ENGINES[engine].ours, rounds: rounds.length, binary };
  const bad = rounds.find((r) => r.status === 'error') ?? rounds.find((r) => r.status !== 'ok');
  if (bad) {
    s.status = bad.status;
    s.reason = bad.reason;
    return s;
  }
  s.status = 'ok';
  const pooled = rounds.flatMap((r) => r.times_ms ?? []);
  if (pooled.length) {
    const sorted = [...pooled].sort((a, b) => a - b);
    s.runs = sorted.length;
    s.min_ms = sorted[0];
    s.median_ms = quantile(sorted, 0.5);
    s.p90_ms = quantile(sorted, 0.9);
    s.mean_ms = pooled.reduce((a, b) => a + b, 0) / pooled.length;
    s.round_medians_ms = rounds.map((r) => median(r.times_ms ?? []));
  } else { // native CLI that printed only summary numbers
    s.min_ms = Math.min(...vals(rounds, 'min_ms'));
    s.median_ms = median(vals(rounds, 'median_ms'));
    s.pooled_from_round_summaries = true;
  }
  for (const k of ['cold_start_ms', 'init_ms', 'load_ms', 'first_inference_ms']) {
    const v = vals(rounds, k);
    s[k] = v.length ? median(v) : null;
  }
  const rss = vals(rounds, 'peak_rss_bytes');
  s.peak_rss_bytes = rss.length ? Math.max(...rss) : null;
  const wm = vals(rounds, 'wasm_memory_bytes');
  s.wasm_memory_bytes = wm.length ? Math.max(...wm) : null;
  const heap = vals(rounds, 'js_heap_bytes');
  s.js_heap_bytes = heap.length ? Math.max(...heap) : null;
  const d = vals(rounds, 'max_rel_diff');
  s.max_rel_diff = d.length ? Math.max(...d) : null;
  s.version = rounds.find((r) => r.version)?.version ?? null;
  s.backend = rounds.find((r) => r.details?.backend)?.details.backend ?? null;
  // Wasm bytes the engine actually compiled (seen by the WebAssembly hooks),
  // preferred over the static file list (js/dist may hold several variants).
  const loaded = rounds.map((r) => (r.wasm_modules ?? []).reduce((a, m) => a + (m.bytes || 0), 0)).filter((v) => v > 0);
  if (loaded.length) s.binary = { ...binary, loaded_wasm_bytes: Math.max(...loaded) };
  return s;
}

/** Adds ratio_min / ratio_median = peer latency / our latency (same model, same environment). */
export function addRatios(summaries) {
  for (const s of summaries) {
    if (s.ours || s.status !== 'ok') continue;
    const vs = oursFor(s.engine);
    const ours = summaries.find((o) => o.model === s.model && o.engine === vs);
    s.vs = vs;
    if (ours && ours.status === 'ok') {
      s.ratio_min = s.min_ms / ours.min_ms;
      s.ratio_median = s.median_ms / ours.median_ms;
    } else {
      s.ratio_min = s.ratio_median = null;
      s.ratio_note = ours ? `${ours.engine} ${ours.status}` : `${vs} not run`;
    }
  }
  return summaries;
}

// The issue's targets for threads (2 threads on a 2-core machine): our
// scaling from 1 to 2 threads, and our 2-thread latency against the peers'.
const SCALING_TARGET = { node: 1.6, chromium: 1.6, native: 1.7 };
const SCALING_TARGET_SMALL = 1.4; // the CIFAR-10 model (96x96, small layers)
const PEER_TARGET = { 'ort-web-chromium-2t': 0.6, 'tfjs-wasm-chromium-2t': 0.6, 'ort-node-2t': 1.0 };

/** Rows of the threads table: per model and environment, scaling and 2t ratios. */
export function threadRows(summaries) {
  const rows = [];
  const ok = (s) => s && s.status === 'ok';
  for (const model of [...new Set(summaries.map((s) => s.model))]) {
    for (const env of ['node', 'chromium', 'native']) {
      const one = summaries.find((s) => s.model === model && s.ours && s.env === env && (ENGINES[s.engine].threads ?? 1) === 1);
      const two = summaries.find((s) => s.model === model && s.ours && s.env === env && ENGINES[s.engine].threads === 2);
      if (!one && !two) continue;
      const target = model === 'mnasnet_a1_cifar10' ? SCALING_TARGET_SMALL : SCALING_TARGET[env];
      const scaling = ok(one) && ok(two) ? one.min_ms / two.min_ms : null;
      rows.push({ model, env, what: `ours 1 → 2 threads (${one?.engine ?? '—'} / ${two?.engine ?? '—'})`,
        value: scaling, target: `≥ ${target}×`, met: scaling == null ? null : scaling >= target,
        note: ok(one) && ok(two) ? `${one.min_ms.toFixed(2)} → ${two.min_ms.toFixed(2)} ms` : `${one?.status ?? 'not run'} / ${two?.status ?? 'not run'}` });
      for (const peer of summaries.filter((s) => s.model === model && !s.ours && s.env === env && ENGINES[s.engine].threads === 2)) {
        const t = PEER_TARGET[peer.engine];
        const ratio = ok(two) && ok(peer) ? two.min_ms / peer.min_ms : null;
        rows.push({ model, env, what: `ours 2t ÷ ${peer.engine}`, value: ratio, target: t != null ? `≤ ${t}×` : '—',
          met: ratio == null || t == null ? null : ratio <= t,
          note: ok(two) && ok(peer) ? `${two.min_ms.toFixed(2)} vs ${peer.min_ms.toFixed(2)} ms` : `${peer.status}${peer.reason ? `: ${String(peer.reason).slice(0, 120)}` : ''}` });
      }
    }
  }
  return rows;
}

// Targets of the single-thread work for MnasNet-A1 224 (the other models are
// reported without a target): latency against TF.js-wasm's, the first
// inference against the steady state, cold start + first inference against
// TF.js-wasm's.
const SINGLE_TARGET = { vsTfjs: 0.65, firstVsSteady: 1.5, coldFirstVsTfjs: 1 / 8 };

/** One-thread rows per model and environment: ours against TF.js-wasm, and our first result. */
export function singleThreadRows(summaries) {
  const rows = [];
  const ok = (s) => s && s.status === 'ok';
  for (const model of [...new Set(summaries.map((s) => s.model))]) {
    const targeted = model === 'mnasnet_a1';
    for (const env of ['node', 'chromium']) {
      const ours = summaries.find((s) => s.model === model && s.engine === `mnas-wasm-${env}`);
      const tfjs = summaries.find((s) => s.model === model && s.engine === `tfjs-wasm-${env}`);
      if (!ok(ours)) continue;
      const add = (what, value, target, note, below = true) =>
        rows.push({ model, env, what, value, target: targeted ? `${below ? '≤' : '≥'} ${+target.toFixed(3)}×` : '—',
          met: value == null || !targeted ? null : below ? value <= target : value >= target, note });
      if (ok(tfjs)) {
        add('ours ÷ TF.js-wasm, min latency', ours.min_ms / tfjs.min_ms, SINGLE_TARGET.vsTfjs,
          `${ours.min_ms.toFixed(2)} vs ${tfjs.min_ms.toFixed(2)} ms`);
      }
      if (ours.first_inference_ms != null) {
        add('first inference ÷ our min', ours.first_inference_ms / ours.min_ms, SINGLE_TARGET.firstVsSteady,
          `${ours.first_inference_ms.toFixed(1)} vs ${ours.min_ms.toFixed(2)} ms`);
      }
      const cf = (s) => (s.cold_start_ms != null && s.first_inference_ms != null ? s.cold_start_ms + s.first_inference_ms : null);
      if (ok(tfjs) && cf(ours) != null && cf(tfjs) != null) {
        add('cold start + first inference ÷ TF.js-wasm\'s', cf(ours) / cf(tfjs), SINGLE_TARGET.coldFirstVsTfjs,
          `${cf(ours).toFixed(0)} vs ${cf(tfjs).toFixed(0)} ms`);
      }
    }
  }
  return rows;
}

const f1 = (v) => (v == null ? '—' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fx = (v) => (v == null ? '—' : `${v.toFixed(2)}×`);
const cell = (t) => t.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
const mb = (b) => (b == null ? '—' : `${(b / 1048576).toFixed(1)} MiB`);

/** A section of rows measured against targets (singleThreadRows, threadRows); nothing when there are none. */
function targetTable(L, heading, rows, intro) {
  if (!rows.length) return;
  L.push(heading, '', intro, '');
  L.push('| model | env | measure | value | target | met | latencies |');
  L.push('|---|---|---|---:|---:|---|---|');
  for (const r of rows) {
    L.push(`| ${r.model} | ${r.env} | ${r.what} | ${fx(r.value)} | ${r.target} | ${r.met == null ? '—' : r.met ? 'yes' : '**no**'} | ${cell(r.note)} |`);
  }
  L.push('');
}

export function markdown({ env, settings, summaries, notes }) {
  const L = [];
  L.push('# mnasnet-wasm benchmark');
  L.push('');
  L.push(`- date: ${env.date}`);
  L.push(`- CPU: ${env.cpu} (${env.cores} logical cores), ${env.os}`);
  L.push(`- Node ${env.node}; Chromium: ${env.chromium ?? 'n/a'}; playwright-core ${env.versions['playwright-core'] ?? '—'}`);
  L.push(`- peers: onnxruntime-web ${env.versions['onnxruntime-web'] ?? '—'}, onnxruntime-node ${env.versions['onnxruntime-node'] ?? '—'}, @tensorflow/tfjs-core ${env.versions['@tensorflow/tfjs-core'] ?? '—'} + tfjs-backend-wasm ${env.versions['@tensorflow/tfjs-backend-wasm'] ?? '—'}`);
  L.push(`- settings: ${settings.rounds} round(s) × ${settings.runs} timed runs after a warm-up of ≥${settings.warmup} runs and ≥${settings.warmupMs} ms, one thread everywhere except the -2t rows (two threads, ours and the peers'), batch 1, fp32; engines interleaved within each round; each round in a fresh process / fresh browser profile`);
  L.push('');
  L.push('Latency = one `run()` from a Float32Array NCHW input to the logits back in JS (native: as timed by the CLI). min / median over all timed runs of all rounds. ' +
    '**×ours** = peer latency ÷ our latency in the same environment at the same thread count (Node wasm ↔ `mnas-wasm-node`, Chromium ↔ `mnas-wasm-chromium`, native ↔ `mnas-native`; the -2t rows ↔ our -2t row): above 1 means we are faster. ' +
    'Cold start = import + wasm compile/instantiate + model load + session creation (model bytes already in memory), median over rounds; first inference is timed separately. ' +
    'Binary = the .wasm bytes the engine compiled (native: shared library / executable bytes). Peak RSS = the Node process (ru_maxrss) / the Chromium renderer (VmHWM) / the CLI process. Wasm mem = linear memory size at the end.');
  L.push('');
  const models = [...new Set(summaries.map((s) => s.model))];
  for (const model of models) {
    L.push(`## ${model}`);
    L.push('');
    L.push('| engine | min ms | median ms | ×ours min | ×ours median | cold start ms | first inf. ms | binary | peak RSS | wasm mem | status |');
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of summaries.filter((x) => x.model === model)) {
      const name = s.ours ? `**${s.engine}**` : s.engine;
      if (s.status !== 'ok') {
        L.push(`| ${name} | — | — | — | — | — | — | — | — | — | ${s.status}: ${cell(String(s.reason ?? '').slice(0, 200))} |`);
        continue;
      }
      const rmin = s.ours ? '(ours)' : s.ratio_min != null ? fx(s.ratio_min) : 'n/a';
      const rmed = s.ours ? '(ours)' : s.ratio_median != null ? fx(s.ratio_median) : 'n/a';
      const status = s.pooled_from_round_summaries ? 'ok (CLI summary)' : `ok (${s.runs} runs${s.backend ? `, ${s.backend}` : ''})`;
      L.push(`| ${name} | ${f1(s.min_ms)} | ${f1(s.median_ms)} | ${rmin} | ${rmed} | ${f1(s.cold_start_ms)} | ${f1(s.first_inference_ms)} | ${mb(s.binary?.loaded_wasm_bytes ?? s.binary?.binary_bytes)} | ${mb(s.peak_rss_bytes)} | ${mb(s.wasm_memory_bytes)} | ${status} |`);
    }
    L.push('');
  }
  targetTable(L, '## One thread and the first result', singleThreadRows(summaries),
    'This engine against TF.js-wasm at one thread, and its first inference against its steady state (min latency; cold start and first inference: medians over rounds). Targets for MnasNet-A1 224 from the single-thread issue.');
  targetTable(L, '## Threads', threadRows(summaries),
    'Minimum latencies of this run. Scaling = our 1-thread ÷ our 2-thread latency; ours 2t ÷ peer = our 2-thread latency ÷ the peer\'s (below 1: we are faster). Targets from the threads issue (2 threads on this 2-core machine).');
  if (notes?.length) {
    L.push('## Notes');
    L.push('');
    for (const n of notes) L.push(`- ${n}`);
    L.push('');
  }
  return L.join('\n');
}
