// One measurement in a fresh Node process (so every round measures a cold start).
// Usage (internal, spawned by run.mjs): node node_child.mjs SPEC.json
// Prints one line "@@BENCH_RESULT@@ {json}" on stdout.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { installWasmHooks, measure } from './measure.mjs';

const MARK = '@@BENCH_RESULT@@';
const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
installWasmHooks();
const baseRss = process.memoryUsage().rss;

function readF32(p) {
  const b = fs.readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const ctx = {
  mnasEntry: spec.mnasEntry,
  threads: spec.threads ?? 1,
  importOrtWeb: () => import('onnxruntime-web/wasm'),
  importOrtNode: () => import('onnxruntime-node'),
  importMnas: () => import(pathToFileURL(path.resolve(spec.repoRoot, spec.mnasEntry)).href),
  async loadTfjs() {
    const core = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const tf = core.default?.tensor ? core.default : core;
    const w = wasm.default?.setWasmPaths ? wasm.default : wasm;
    return { tf, wasm: w };
  },
};

let result;
try {
  const { adapters } = await import('./engines.mjs');
  const adapter = adapters[spec.adapter];
  if (!adapter) throw new Error(`unknown adapter ${spec.adapter}`);
  const modelBytes = new Uint8Array(fs.readFileSync(spec.modelPath));
  result = await measure(adapter, ctx, {
    engine: spec.engine,
    model: spec.model,
    modelBytes,
    input: readF32(spec.inputPath),
    inputShape: spec.inputShape,
    reference: spec.refPath ? readF32(spec.refPath) : null,
    runs: spec.runs,
    warmup: spec.warmup,
    warmupMs: spec.warmupMs,
    tol: spec.tol,
  });
} catch (e) {
  result = { engine: spec.engine, model: spec.model, status: 'error', reason: String(e?.stack ?? e).split('\n').slice(0, 4).join(' | ') };
}
const ru = process.resourceUsage();
result.peak_rss_bytes = ru.maxRSS * 1024;
result.base_rss_bytes = baseRss;
result.runtime = `node ${process.version}`;
process.stdout.write(`\n${MARK} ${JSON.stringify(result)}\n`, () => process.exit(0));
