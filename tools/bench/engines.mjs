// Engine adapters, isomorphic (Node child processes and Chromium pages).
//
// An adapter is { init(ctx) -> { version, details, load(bytes, meta) -> session } }
// with session = { run(Float32Array NCHW) -> Float32Array logits, dispose() }.
// The environment supplies ctx (see node_child.mjs and page.mjs): how to import
// each engine's module there. Everything engine-specific stays in this file, so
// the Node and the Chromium numbers come from the very same code.

import { buildTfjsModel } from './onnx_to_tfjs.mjs';
import { Unavailable } from './measure.mjs';

// onnxruntime-web and -node share the session API: one input, one output.
function ortSession(ort, s, inputShape) {
  const inName = s.inputNames[0], outName = s.outputNames[0];
  return {
    async run(x) {
      const r = await s.run({ [inName]: new ort.Tensor('float32', x, inputShape) });
      return r[outName].data;
    },
    dispose: () => s.release(),
  };
}

const ortWeb = {
  async init(ctx) {
    const mod = await ctx.importOrtWeb();
    const ort = mod.default?.InferenceSession ? mod.default : mod;
    const threads = ctx.threads ?? 1;
    // onnxruntime-web starts its threads as workers from a fetched URL: a
    // browser with cross-origin isolation (the bench server sends COOP/COEP).
    if (threads > 1 && !globalThis.crossOriginIsolated) {
      throw new Unavailable('onnxruntime-web runs threads only in a cross-origin isolated browser page');
    }
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    if (ctx.ortWasmPaths) ort.env.wasm.wasmPaths = ctx.ortWasmPaths;
    return {
      version: ort.env.versions?.web ?? null,
      details: { threads },
      async load(bytes, meta) {
        const s = await ort.InferenceSession.create(bytes, {
          executionProviders: ['wasm'],
          graphOptimizationLevel: 'all',
        });
        return ortSession(ort, s, meta.inputShape);
      },
    };
  },
};

const tfjsWasm = {
  async init(ctx) {
    const threads = ctx.threads ?? 1;
    if (threads > 1 && !globalThis.crossOriginIsolated) {
      throw new Unavailable('TF.js-wasm runs threads only in a cross-origin isolated browser page');
    }
    // TF.js-wasm's threaded build sizes its worker pool when it loads, as
    // hardwareConcurrency / 2 (1..4): one worker on a 2-core machine, where
    // setThreadsCount(2) then still runs one thread. For the 2-thread row the
    // page reports enough processors for the pool to hold the threads asked.
    if (threads > 1 && globalThis.Navigator && (navigator.hardwareConcurrency || 1) < 2 * threads) {
      Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => 2 * threads, configurable: true });
    }
    const { tf, wasm } = await ctx.loadTfjs();
    // One thread: make the backend pick the single-threaded SIMD binary;
    // more: the threaded SIMD binary with that many workers.
    if (threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (ctx.tfjsWasmPath) wasm.setWasmPaths(ctx.tfjsWasmPath);
    if (typeof wasm.setThreadsCount === 'function') wasm.setThreadsCount(threads);
    const ok = await tf.setBackend('wasm');
    await tf.ready();
    if (!ok || tf.getBackend() !== 'wasm') throw new Error('tfjs: wasm backend did not initialise');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const used = typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : 1;
    if (used !== threads) throw new Unavailable(`TF.js-wasm runs ${used} thread(s) here, not ${threads}`);
    return {
      version: tf.version_core ?? tf.version?.['tfjs-core'] ?? null,
      details: { simd, threads },
      async load(bytes) {
        const m = buildTfjsModel(tf, bytes);
        return { run: (x) => m.run(x), dispose: () => m.dispose() };
      },
    };
  },
};

const mnasWasm = {
  optional: true, // init failures (SDK not built yet) are 'unavailable', not errors
  async init(ctx) {
    let mod;
    try {
      mod = await ctx.importMnas();
    } catch (e) {
      throw new Unavailable(`cannot import the SDK (${ctx.mnasEntry}): ${String(e?.message ?? e).split('\n')[0]}`);
    }
    const MnasNet = mod.MnasNet ?? mod.default?.MnasNet ?? mod.default;
    if (!MnasNet || typeof MnasNet.load !== 'function') {
      throw new Unavailable(`${ctx.mnasEntry} does not export MnasNet.load`);
    }
    let last = null;
    const threads = ctx.threads ?? 1;
    return {
      version: mod.version ?? mod.VERSION ?? MnasNet.version ?? null,
      // The build the SDK picked for this runtime (relaxed SIMD, SIMD or
      // scalar), read when the result is reported: building net.info is not
      // part of a load.
      details: {
        get backend() {
          return last?.info.backend ?? null;
        },
        threads,
      },
      async load(bytes) {
        // ctx.wasm: a .wasm of the caller's choice (tools/bench/first_run.mjs compares builds)
        const net = await MnasNet.load(bytes, ctx.wasm ? { threads, wasm: ctx.wasm } : { threads });
        const got = net.info?.threads ?? 1;
        if (got !== threads) {
          const why = net.info.threadsReason;
          net.dispose();
          throw new Unavailable(`mnasnet-wasm runs ${got} thread(s) here, not ${threads}: ${why}`);
        }
        last = net;
        return {
          async run(x) {
            const r = await net.run(x, { layout: 'NCHW' });
            return r?.logits ?? r;
          },
          dispose: () => net.dispose?.(),
        };
      },
    };
  },
};

const ortNode = {
  async init(ctx) {
    const mod = await ctx.importOrtNode();
    const ort = mod.default?.InferenceSession ? mod.default : mod;
    const threads = ctx.threads ?? 1;
    return {
      version: ort.env?.versions?.node ?? null,
      details: { threads },
      async load(bytes, meta) {
        const s = await ort.InferenceSession.create(bytes, {
          executionProviders: ['cpu'],
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
        });
        return ortSession(ort, s, meta.inputShape);
      },
    };
  },
};

export const adapters = {
  'ort-web': ortWeb,
  'tfjs-wasm': tfjsWasm,
  'mnas-wasm': mnasWasm,
  'ort-node': ortNode,
};
