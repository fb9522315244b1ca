// Paths and engine table of the benchmark harness (Node side only).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(BENCH_DIR, '../..');

// Our JS SDK entry, relative to the repo root: the single place to change if
// the SDK moves. The first existing candidate wins (the bundle the package
// exports, as users import it); env MNAS_JS_ENTRY overrides.
export const MNAS_JS_ENTRY_CANDIDATES = ['js/dist/mnasnet.js', 'js/src/index.js'];
export const MNAS_JS_ENTRY = process.env.MNAS_JS_ENTRY
  || MNAS_JS_ENTRY_CANDIDATES.find((p) => fs.existsSync(path.join(REPO_ROOT, p)))
  || MNAS_JS_ENTRY_CANDIDATES[0];
// Our native CLI (`mnas bench MODEL --runs N --warmup W --json`). Env MNAS_BIN overrides.
export const MNAS_NATIVE_BIN = process.env.MNAS_BIN || 'build/mnas';
// Reference models/data (see ../shared/README.md).
export const TESTDATA = path.resolve(REPO_ROOT, process.env.MNAS_TESTDATA || '../shared');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const DEFAULT_MODELS = ['mnasnet_a1', 'mnasnet_b1_0.5', 'mnasnet_a1_cifar10'];
export const QUICK_MODEL = 'mnasnet_a1_cifar10';

// env: where an engine runs; threads: its intra-op threads (default 1).
// Every peer is compared with our engine in the same environment at the same
// thread count (oursFor), so the -2t rows put each engine's two threads side
// by side and our 1t/2t pair gives our scaling. onnxruntime-web and TF.js-wasm
// run threads only in a cross-origin isolated browser page (the bench server
// sends COOP/COEP); TF.js-wasm sizes its pool from hardwareConcurrency / 2,
// so its adapter reports enough processors for two threads on this 2-core
// machine, and checks that the pool really has them.
export const ENGINES = {
  'ort-web-node':       { adapter: 'ort-web',   env: 'node',     ours: false, label: 'onnxruntime-web (wasm, Node)' },
  'tfjs-wasm-node':     { adapter: 'tfjs-wasm', env: 'node',     ours: false, label: 'TF.js tfjs-backend-wasm (Node)' },
  'mnas-wasm-node':     { adapter: 'mnas-wasm', env: 'node',     ours: true,  label: 'mnasnet-wasm SDK (Node)' },
  'ort-web-chromium':   { adapter: 'ort-web',   env: 'chromium', ours: false, label: 'onnxruntime-web (wasm, Chromium)' },
  'tfjs-wasm-chromium': { adapter: 'tfjs-wasm', env: 'chromium', ours: false, label: 'TF.js tfjs-backend-wasm (Chromium)' },
  'mnas-wasm-chromium': { adapter: 'mnas-wasm', env: 'chromium', ours: true,  label: 'mnasnet-wasm SDK (Chromium)' },
  'ort-node':           { adapter: 'ort-node',  env: 'native',   ours: false, label: 'onnxruntime-node (native CPU EP)' },
  'mnas-native':        { adapter: null,        env: 'native',   ours: true,  label: 'mnas CLI (native C)' },
  'mnas-wasm-node-2t':     { adapter: 'mnas-wasm', env: 'node',     ours: true,  threads: 2, label: 'mnasnet-wasm SDK (Node), 2 threads' },
  'mnas-wasm-chromium-2t': { adapter: 'mnas-wasm', env: 'chromium', ours: true,  threads: 2, label: 'mnasnet-wasm SDK (Chromium, cross-origin isolated), 2 threads' },
  'mnas-native-2t':        { adapter: null,        env: 'native',   ours: true,  threads: 2, label: 'mnas CLI (native C), 2 threads' },
  'ort-web-chromium-2t':   { adapter: 'ort-web',   env: 'chromium', ours: false, threads: 2, label: 'onnxruntime-web (wasm, Chromium), 2 threads' },
  'tfjs-wasm-chromium-2t': { adapter: 'tfjs-wasm', env: 'chromium', ours: false, threads: 2, label: 'TF.js tfjs-backend-wasm (threaded SIMD, Chromium), 2 threads' },
  'ort-node-2t':           { adapter: 'ort-node',  env: 'native',   ours: false, threads: 2, label: 'onnxruntime-node (native CPU EP), 2 threads' },
};
export const OURS_FOR_ENV = { node: 'mnas-wasm-node', chromium: 'mnas-wasm-chromium', native: 'mnas-native' };

/** Our engine a row is compared with: the same environment and thread count. */
export function oursFor(engine) {
  const e = ENGINES[engine];
  const t = e.threads ?? 1;
  return Object.keys(ENGINES).find((k) => ENGINES[k].ours && ENGINES[k].env === e.env && (ENGINES[k].threads ?? 1) === t)
    ?? OURS_FOR_ENV[e.env];
}

/** Our native CLI rows (timed by `mnas bench`, not by an adapter). */
export const isNativeOurs = (engine) => ENGINES[engine].ours && ENGINES[engine].env === 'native';

export function nm(...p) { return path.join(REPO_ROOT, 'node_modules', ...p); }

// Bytes of the engine's code a user ships/loads: the .wasm (or native library)
// plus the JS glue the harness imports.
export function binaryFiles(engine) {
  const ortWeb = [nm('onnxruntime-web/dist/ort-wasm-simd-threaded.wasm'), nm('onnxruntime-web/dist/ort.wasm.bundle.min.mjs')];
  const tfjs = [nm('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'),
    nm('@tensorflow/tfjs-core/dist/tf-core.min.js'), nm('@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js')];
  switch (engine) {
    case 'ort-web-node': case 'ort-web-chromium': case 'ort-web-chromium-2t': return ortWeb;
    case 'tfjs-wasm-node': case 'tfjs-wasm-chromium': return tfjs;
    case 'tfjs-wasm-chromium-2t': return [nm('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm'), ...tfjs.slice(1)];
    case 'ort-node': case 'ort-node-2t': {
      const dir = nm('onnxruntime-node/bin/napi-v6', process.platform, process.arch);
      const alt = fs.existsSync(dir) ? dir : findDir(nm('onnxruntime-node/bin'), 'onnxruntime_binding.node');
      return alt ? fs.readdirSync(alt).filter((f) => /\.(so(\.\d+)*|node|dylib|dll)$/.test(f)).map((f) => path.join(alt, f)) : [];
    }
    case 'mnas-wasm-node': case 'mnas-wasm-chromium': case 'mnas-wasm-node-2t': case 'mnas-wasm-chromium-2t': {
      const dir = path.dirname(path.join(REPO_ROOT, MNAS_JS_ENTRY));
      return walk(dir).filter((f) => f.endsWith('.wasm'));
    }
    case 'mnas-native': case 'mnas-native-2t': return [path.resolve(REPO_ROOT, MNAS_NATIVE_BIN)];
    default: return [];
  }
}

export function binarySize(engine) {
  const files = binaryFiles(engine).filter((f) => fs.existsSync(f));
  const wasm = files.filter((f) => /\.wasm$|\.so|\.node$|\/mnas$/.test(f)).reduce((a, f) => a + fs.statSync(f).size, 0);
  const total = files.reduce((a, f) => a + fs.statSync(f).size, 0);
  return { binary_bytes: wasm || null, total_bytes: total || null, files: files.map((f) => path.relative(REPO_ROOT, f)) };
}

function walk(dir, depth = 0) {
  if (!fs.existsSync(dir) || depth > 4) return [];
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, depth + 1));
    else out.push(p);
  }
  return out;
}

function findDir(root, file) {
  for (const f of walk(root)) if (path.basename(f) === file) return path.dirname(f);
  return null;
}
