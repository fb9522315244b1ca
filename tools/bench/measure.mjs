// The measurement protocol shared by every JS engine, in Node child processes
// and in Chromium pages alike (isomorphic: no Node imports).
//
//   cold start   = adapter.init()  (import the engine module, compile and
//                                    instantiate its wasm, backend set-up)
//                + engine.load()   (parse the model bytes, create the session)
//                  The model file is read into memory before the clock starts,
//                  for every engine, so disk/network I/O is not counted.
//   first inference: the first run() after load, timed on its own.
//   check        : its logits against the reference (onnxruntime-node) logits;
//                  max|a-b| / max(1e-12, max|ref|) must be <= tol, otherwise the
//                  timing is aborted (status 'error').
//   warm-up runs (a count and a minimum duration), then timed runs (each run() includes feeding the Float32Array
//   input and reading the logits back into JS).

/** Wrap WebAssembly entry points to see which memories and modules an engine
 *  creates. Must be called before the engine is imported. Idempotent. */
export function installWasmHooks(g = globalThis) {
  if (g.__benchWasm) return g.__benchWasm;
  const WA = g.WebAssembly;
  const state = { memories: new Set(), modules: [] };
  g.__benchWasm = state;
  if (!WA) return state;
  const noteInstance = (inst) => {
    try {
      for (const v of Object.values(inst.exports)) if (v instanceof WA.Memory) state.memories.add(v);
    } catch { /* ignore */ }
  };
  const noteBytes = (src, how) => {
    try {
      if (src && typeof src.byteLength === 'number') state.modules.push({ how, bytes: src.byteLength });
    } catch { /* ignore */ }
  };
  const OrigMemory = WA.Memory;
  function Memory(desc) {
    const m = Reflect.construct(OrigMemory, [desc], new.target || Memory);
    state.memories.add(m);
    return m;
  }
  Memory.prototype = OrigMemory.prototype;
  Object.setPrototypeOf(Memory, OrigMemory);
  try { WA.Memory = Memory; } catch { /* read-only in some hosts */ }

  // Synchronous compiles (the SDK's in Node) as well as the async ones below.
  const OrigModule = WA.Module;
  function Module(bytes) {
    noteBytes(bytes, 'Module');
    return Reflect.construct(OrigModule, [bytes], new.target || Module);
  }
  Module.prototype = OrigModule.prototype;
  Object.setPrototypeOf(Module, OrigModule); // Module.imports/exports/customSections
  try { WA.Module = Module; } catch { /* ignore */ }

  const OrigInstance = WA.Instance;
  function Instance(mod, imports) {
    const inst = Reflect.construct(OrigInstance, [mod, imports], new.target || Instance);
    noteInstance(inst);
    return inst;
  }
  Instance.prototype = OrigInstance.prototype;
  Object.setPrototypeOf(Instance, OrigInstance);
  try { WA.Instance = Instance; } catch { /* ignore */ }

  const origInstantiate = WA.instantiate.bind(WA);
  WA.instantiate = async (src, imports) => {
    if (!(src instanceof WA.Module)) noteBytes(src, 'instantiate');
    const r = await origInstantiate(src, imports);
    noteInstance(r instanceof OrigInstance ? r : r.instance);
    return r;
  };
  const origCompile = WA.compile.bind(WA);
  WA.compile = async (src) => { noteBytes(src, 'compile'); return origCompile(src); };
  if (WA.instantiateStreaming) {
    const origIS = WA.instantiateStreaming.bind(WA);
    WA.instantiateStreaming = async (resp, imports) => {
      const r0 = await resp;
      const len = Number(r0?.headers?.get?.('content-length'));
      if (len) state.modules.push({ how: 'instantiateStreaming', bytes: len, url: r0.url });
      const r = await origIS(r0, imports);
      noteInstance(r.instance);
      return r;
    };
  }
  if (WA.compileStreaming) {
    const origCS = WA.compileStreaming.bind(WA);
    WA.compileStreaming = async (resp) => {
      const r0 = await resp;
      const len = Number(r0?.headers?.get?.('content-length'));
      if (len) state.modules.push({ how: 'compileStreaming', bytes: len, url: r0.url });
      return origCS(r0);
    };
  }
  return state;
}

export function wasmMemoryBytes(state) {
  let total = 0;
  for (const m of state.memories) {
    try { total += m.buffer.byteLength; } catch { /* detached */ }
  }
  return total;
}

export function maxRelDiff(out, ref) {
  if (!out || out.length !== ref.length) return Infinity;
  let d = 0, m = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(out[i] - ref[i]);
    if (!(e <= d)) d = e; // NaN propagates as Infinity-like failure
    const a = Math.abs(ref[i]);
    if (a > m) m = a;
  }
  return Number.isNaN(d) ? Infinity : d / Math.max(m, 1e-12);
}

export class Unavailable extends Error {}

/**
 * Run the protocol for one engine on one model.
 * spec: { engine, model, modelBytes, input, inputShape, reference, runs, warmup, warmupMs, tol }
 * Returns a plain JSON-able object; never throws (status 'ok' | 'unavailable' | 'error').
 */
export async function measure(adapter, ctx, spec) {
  const now = () => performance.now();
  const res = { engine: spec.engine, model: spec.model, status: 'ok' };
  const hooks = installWasmHooks();
  let eng = null, sess = null;
  try {
    const t0 = now();
    try {
      eng = await adapter.init(ctx);
    } catch (e) {
      if (e instanceof Unavailable || e?.name === 'Unavailable' || adapter.optional) {
        return { ...res, status: 'unavailable', reason: String(e?.message ?? e) };
      }
      throw e;
    }
    const t1 = now();
    sess = await eng.load(spec.modelBytes, { inputShape: spec.inputShape, model: spec.model });
    const t2 = now();
    let out = await sess.run(spec.input);
    const t3 = now();
    res.version = eng.version ?? null;
    res.details = eng.details ? { ...eng.details } : null; // a snapshot: getters read now, before dispose
    res.init_ms = t1 - t0;
    res.load_ms = t2 - t1;
    res.cold_start_ms = t2 - t0;
    res.first_inference_ms = t3 - t2;
    if (spec.reference) {
      res.max_rel_diff = maxRelDiff(out, spec.reference);
      if (!(res.max_rel_diff <= spec.tol)) {
        res.status = 'error';
        res.reason = `logits disagree with onnxruntime-node: max|diff|/max|ref| = ${res.max_rel_diff.toExponential(3)} > ${spec.tol} — timing aborted`;
        return res;
      }
    }
    // Warm-up: at least `warmup` runs and at least `warmupMs` of running, so
    // that V8's background tier-up (Liftoff -> TurboFan) of large wasm modules
    // has finished before timing (onnxruntime-web needs ~1.5 s on 2 cores).
    const tw = now();
    let w = 0;
    while (w < spec.warmup || (spec.warmupMs > 0 && now() - tw < spec.warmupMs && w < 10000)) {
      out = await sess.run(spec.input);
      w++;
    }
    res.warmup_runs = w;
    res.warmup_total_ms = now() - tw;
    const times = [];
    for (let i = 0; i < spec.runs; i++) {
      const a = now();
      out = await sess.run(spec.input);
      times.push(now() - a);
    }
    res.times_ms = times;
    res.wasm_memory_bytes = wasmMemoryBytes(hooks) || null;
    res.wasm_modules = hooks.modules;
    // Recheck the last run so a stateful bug cannot hide behind the first check.
    if (spec.reference) {
      const d = maxRelDiff(out, spec.reference);
      if (!(d <= spec.tol)) {
        res.status = 'error';
        res.reason = `logits of the last timed run disagree with onnxruntime-node (${d.toExponential(3)})`;
      }
    }
    return res;
  } catch (e) {
    return { ...res, status: 'error', reason: String(e?.stack ?? e).split('\n').slice(0, 4).join(' | ') };
  } finally {
    try { await sess?.dispose?.(); } catch { /* ignore */ }
  }
}
