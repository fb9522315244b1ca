// Threads for the SDK: which build and thread count a load gets, and the
// workers behind the threaded build (mnasnet-threads*.wasm).
//
// The threaded module imports one shared WebAssembly.Memory. The model's
// own thread instantiates it first (that instance writes the data segments
// and owns the heap); each worker then instantiates the same compiled
// module on the same memory, is given a stack of its own from the heap,
// and calls mnas_thread_work, which keeps it inside the C pool until the
// model is freed. The C runtime drives the workers with wasm atomics
// (memory.atomic.wait32/notify); the calling thread works too and only
// ever spins, since a browser's main thread may not block.
//
// Workers are Web Workers in browsers (also from inside a Web Worker) and
// worker_threads in Node, started from an inline script so that no extra
// file has to be found or bundled.
import { IS_NODE, THREADS_WASM_FILES, assetUrl, hasRelaxedSimd, hasSimd, needBuiltin } from './loader.js';
import { MnasNetError } from './errors.js';

/** Limits of the threaded module's imported memory, in 64 KiB pages
 * (CMakeLists.txt: MNAS_WASM_INITIAL_MEMORY, MNAS_WASM_THREADS_MAX_MEMORY;
 * tools/wasm/check-imports.mjs checks that they agree). */
export const SHARED_MEMORY = Object.freeze({ initial: 64, maximum: 32768 });

/** Most threads `threads: 'auto'` picks: beyond four the small layers of
 * these networks stop paying for the synchronization. */
export const AUTO_MAX = 4;
export const MAX_THREADS = 64; // MNAS_MAX_THREADS
const WORKER_STACK = 256 * 1024;
const START_TIMEOUT_MS = 30000;

/** options.threads: undefined / 'auto' / 0 → 0 (automatic), else 1..MAX_THREADS. */
export function readThreadsOption(v) {
  if (v === undefined || v === null || v === 'auto' || v === 0) return 0;
  if (!Number.isInteger(v) || v < 1 || v > MAX_THREADS) {
    throw new MnasNetError('E_ARGUMENT', `options.threads: expected 'auto' or an integer 1..${MAX_THREADS}`);
  }
  return v;
}

/** null when this context can run the threaded build, else why not. */
export function threadsUnavailable() {
  if (!IS_NODE && globalThis.crossOriginIsolated !== true) {
    return 'the page is not cross-origin isolated: serve it with Cross-Origin-Opener-Policy: same-origin and ' +
      'Cross-Origin-Embedder-Policy: require-corp (or credentialless)';
  }
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is unavailable here';
  if (!IS_NODE) {
    if (typeof Worker !== 'function') return 'Worker is not available in this context';
    if (typeof Blob !== 'function' || typeof URL.createObjectURL !== 'function') return 'Blob URLs are not available here';
  }
  if (!hasSimd()) return 'this runtime has no WebAssembly SIMD, which the threaded build needs';
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch {
    return 'this runtime cannot create a shared WebAssembly.Memory';
  }
  return null;
}

async function processors() {
  if (IS_NODE) {
    const os = needBuiltin('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return globalThis.navigator?.hardwareConcurrency || 1;
}

/**
 * The build and thread count for a load: { wasm, threads, asked, reason,
 * warn }. wasm is what getModule() takes; threads the count to ask of the
 * pool; asked the count wanted (explicit or automatic); reason says why
 * threads is fewer; warn whether threads were asked for explicitly, so a
 * shortfall deserves a console warning.
 */
export async function planThreads(requested, wasm, baseUrl) {
  const auto = requested === 0;
  const want = auto ? Math.max(1, Math.min(AUTO_MAX, await processors())) : requested;
  const warn = !auto && requested > 1;
  const single = (reason) => ({ wasm, threads: 1, asked: want, reason, warn });
  if (want === 1) return single(auto ? 'automatic: one processor' : null);
  if (wasm === 'scalar') return single('the scalar build has no threads');
  if (wasm !== undefined && wasm !== null && wasm !== 'auto' && wasm !== 'simd' && wasm !== 'relaxed') {
    // A module of the caller's own: threaded when it imports its memory
    // (decided once it is compiled, by the caller of planThreads).
    return { wasm, threads: want, asked: want, reason: null, warn, custom: true };
  }
  // an explicit build this runtime cannot compile: getModule() says so
  if ((wasm === 'relaxed' && !hasRelaxedSimd()) || (wasm === 'simd' && !hasSimd())) return single(null);
  const why = threadsUnavailable();
  if (why) return single(why);
  const relaxed = wasm === 'relaxed' || ((wasm === undefined || wasm === null || wasm === 'auto') && hasRelaxedSimd());
  return { wasm: assetUrl(THREADS_WASM_FILES[relaxed ? 'relaxed' : 'simd'], baseUrl), threads: want, asked: want, reason: null, warn };
}

/**
 * The plan settled once its module is compiled: { threads, asked, reason,
 * warn, memory } where memory is the shared memory a threaded module imports
 * (undefined for a single-thread one). A module of the caller's own runs
 * threaded when it is a threaded build (it imports its memory).
 */
export function threadsFor(plan, module) {
  const threaded = WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
  let { threads, reason } = plan;
  if (plan.custom) {
    const why = threaded ? threadsUnavailable() : 'the wasm module given is a single-thread build';
    if (why && threaded) throw new MnasNetError('E_ARGUMENT', `options.wasm: a threaded build, but ${why}`);
    if (why) [threads, reason] = [1, why];
  }
  return { threads, asked: plan.asked, reason, warn: plan.warn, memory: threaded ? new WebAssembly.Memory({ ...SHARED_MEMORY, shared: true }) : undefined };
}

// ---------------------------------------------------------------------------
// the workers

// Runs inside each worker (stringified: it may use nothing from outside).
// 'init' instantiates the module on the shared memory without _initialize
// (the model's thread has set up the heap); 'work' moves the instance's
// stack pointer to the worker's own stack and enters the pool, returning
// when the model is freed.
function threadWorker(onMessage, post) {
  let x = null;
  onMessage((m) => {
    if (m.type === 'init') {
      try {
        const wasi = {};
        for (const imp of WebAssembly.Module.imports(m.module)) {
          if (imp.kind === 'function' && imp.module === 'wasi_snapshot_preview1') wasi[imp.name] = () => 52;
        }
        const env = { memory: m.memory, emscripten_notify_memory_growth() {} };
        x = new WebAssembly.Instance(m.module, { env, wasi_snapshot_preview1: wasi }).exports;
        post({ type: 'ready' });
      } catch (e) {
        post({ type: 'error', message: String((e && e.message) || e) });
      }
    } else if (m.type === 'work') {
      x.stackRestore(m.stackTop);
      post({ type: 'exit', status: x.mnas_thread_work(m.model, m.index) });
    }
  });
}

// (the worker's own CommonJS; written without the node: prefix so that the
// browser bundle names no Node module, not even inside a string)
const NODE_BOOT = `const { parentPort } = require('worker_threads');
(${threadWorker})((f) => parentPort.on('message', f), (m) => parentPort.postMessage(m));`;
const WEB_BOOT = `(${threadWorker})((f) => { self.onmessage = (e) => f(e.data); }, (m) => self.postMessage(m));`;
let webBootUrl; // one Blob URL per realm, kept for later workers

async function newWorker() {
  if (IS_NODE) {
    const { Worker } = needBuiltin('node:worker_threads');
    // The worker inherits the process's flags; `--input-type=module` (a script
    // run with `node --input-type=module -e`) would make its CommonJS boot an ES module.
    const execArgv = globalThis.process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type');
    const w = new Worker(NODE_BOOT, { eval: true, execArgv });
    return { post: (m) => w.postMessage(m), on: (f) => w.on('message', f), onError: (f) => w.on('error', f),
      unref: () => w.unref(), terminate: () => w.terminate() };
  }
  webBootUrl ??= URL.createObjectURL(new Blob([WEB_BOOT], { type: 'text/javascript' }));
  const w = new Worker(webBootUrl);
  return { post: (m) => w.postMessage(m), on: (f) => w.addEventListener('message', (e) => f(e.data)),
    onError: (f) => w.addEventListener('error', (e) => { e.preventDefault?.(); f(e); }), unref() {},
    terminate: () => w.terminate() };
}

/** Live worker counts per realm, for the SDK's tests (no worker may outlive its model). */
export const workerStats = { live: 0 };

/**
 * A model's workers. spawn() starts n of them (booting a worker takes tens
 * of milliseconds, so this runs while the module compiles); init() hands
 * them the module and memory to instantiate; ready() waits until each has
 * instantiated or failed; start() hands the ready ones to the model's pool;
 * end() (after mnas_free, which waits until every started worker has left
 * the pool) ends them all, those still starting included.
 */
export class Team {
  #workers = [];
  #stacks = [];
  #failure = null;
  #settled;
  #ended = false;
  #module; // resolves to { module, memory } (init), or null (end before init)
  #setModule;

  /** Starts n workers booting; they instantiate once init() hands them the module. */
  static spawn(n) {
    const team = new Team();
    team.#module = new Promise((resolve) => (team.#setModule = resolve));
    team.#settled = Promise.all(Array.from({ length: n }, () => team.#one()));
    return team;
  }

  init(module, memory) {
    this.#setModule({ module, memory });
  }

  async #one() {
    let w;
    try {
      w = await newWorker();
    } catch (e) {
      this.#failure ??= `cannot start a worker: ${e.message}`;
      return null;
    }
    workerStats.live++;
    const entry = { w, ready: false, ended: false };
    this.#workers.push(entry);
    const target = await this.#module; // null once end() came first
    if (!target || this.#ended) {
      this.#endOne(entry);
      return null;
    }
    const { module, memory } = target;
    const ok = await new Promise((resolve) => {
      entry.cancel = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.#failure ??= `a worker did not start within ${START_TIMEOUT_MS / 1000} s`;
        resolve(false);
      }, START_TIMEOUT_MS);
      w.on((m) => {
        if (m.type === 'ready' || m.type === 'error') {
          clearTimeout(timer);
          if (m.type === 'error') this.#failure ??= `a worker could not instantiate the module: ${m.message}`;
          resolve(m.type === 'ready');
        }
      });
      w.onError((e) => {
        clearTimeout(timer);
        this.#failure ??= `a worker failed: ${e.message || e}`;
        resolve(false);
      });
      w.post({ type: 'init', module, memory });
    });
    if (!ok) {
      this.#endOne(entry);
      return null;
    }
    entry.ready = true;
    w.unref(); // an undisposed model does not keep Node running
    return entry;
  }

  #endOne(entry) {
    if (entry.ended) return;
    entry.ended = true;
    entry.cancel?.();
    workerStats.live--;
    entry.w.terminate();
  }

  /** Waits for every worker; returns how many are ready and why any are not. */
  async ready() {
    const got = (await this.#settled).filter(Boolean);
    return { ready: got.length, reason: this.#failure };
  }

  /** Makes the ready workers the model's pool threads: returns the thread count. */
  start(x, model, malloc) {
    const ready = this.#workers.filter((e) => e.ready && !e.ended);
    if (!ready.length) return 1;
    const st = x.mnas_set_threads(model, ready.length + 1);
    if (st) throw new MnasNetError('E_STATE', `cannot create a pool of ${ready.length + 1} threads (status ${st})`);
    ready.forEach((e, i) => {
      const base = malloc(WORKER_STACK);
      this.#stacks.push(base);
      const stackTop = (base + WORKER_STACK) & ~15;
      e.w.post({ type: 'work', model, index: i + 1, stackTop });
    });
    return ready.length + 1;
  }

  /** After mnas_free: frees the stacks and ends every worker (also those still starting); returns null. */
  end(free) {
    this.#ended = true;
    this.#setModule?.(null);
    for (const p of this.#stacks) free(p);
    this.#stacks = [];
    for (const e of this.#workers) this.#endOne(e);
    return null;
  }
}
