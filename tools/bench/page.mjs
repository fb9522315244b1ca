// Browser side of one measurement. Served by server.mjs; run.mjs calls
// window.runBench(spec) through Playwright in a fresh browser profile.
// Paths are absolute URL paths on the local bench server:
//   /node_modules/...  (repo root node_modules)   /repo/...  (repo root)
//   /testdata/...      (MNAS_TESTDATA)             /tmp/...   (harness tmp dir)
import { installWasmHooks, measure } from './measure.mjs';

installWasmHooks();

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`failed to load ${src}`));
    document.head.appendChild(s);
  });
}

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

window.runBench = async (spec) => {
  const ctx = {
    mnasEntry: spec.mnasEntry,
    threads: spec.threads ?? 1,
    wasm: spec.wasm,
    importOrtWeb: () => import('/node_modules/onnxruntime-web/dist/ort.wasm.bundle.min.mjs'),
    ortWasmPaths: '/node_modules/onnxruntime-web/dist/',
    importMnas: () => import(`/repo/${spec.mnasEntry}`),
    async loadTfjs() {
      await loadScript('/node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js');
      await loadScript('/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js');
      return { tf: window.tf, wasm: window.tf.wasm };
    },
    tfjsWasmPath: '/node_modules/@tensorflow/tfjs-backend-wasm/dist/',
  };
  let res;
  try {
    // Inputs and model bytes are fetched before the clock starts.
    const [modelBytes, input, ref] = await Promise.all([
      fetchBytes(spec.modelUrl), fetchBytes(spec.inputUrl), spec.refUrl ? fetchBytes(spec.refUrl) : null]);
    const { adapters } = await import('./engines.mjs');
    res = await measure(adapters[spec.adapter], ctx, {
      engine: spec.engine, model: spec.model, modelBytes,
      input: new Float32Array(input.buffer), inputShape: spec.inputShape,
      reference: ref ? new Float32Array(ref.buffer) : null,
      runs: spec.runs, warmup: spec.warmup, warmupMs: spec.warmupMs, tol: spec.tol,
    });
  } catch (e) {
    res = { engine: spec.engine, model: spec.model, status: 'error', reason: String(e?.stack ?? e).split('\n').slice(0, 4).join(' | ') };
  }
  res.js_heap_bytes = performance.memory?.usedJSHeapSize ?? null;
  res.cross_origin_isolated = self.crossOriginIsolated;
  res.runtime = navigator.userAgent;
  document.getElementById('log').textContent = JSON.stringify(res, null, 1);
  return res;
};
document.getElementById('log').textContent = 'ready';
window.benchReady = true;
