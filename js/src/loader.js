// Loading: bytes from URLs/paths/buffers, compiling the .wasm (cached) and
// instantiating it with the few imports a -sSTANDALONE_WASM module needs.
import { MnasNetError } from './errors.js';

const IS_NODE =
  typeof process === 'object' && process !== null && typeof process.versions?.node === 'string' &&
  typeof window === 'undefined';

// A function returning a v128 (i32.const 0; i8x16.splat): validates only
// where WebAssembly SIMD is supported.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b, // body
]);

// A function computing f32x4.relaxed_madd (0xfd 0x105) of three splats:
// validates only where relaxed SIMD ships (Chrome 114+, Node 22+).
export const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x0a, 0x13, 0x01, 0x11, 0x00, // code: one body of 17 bytes, no locals
  0x41, 0x00, 0xfd, 0x0f, 0x41, 0x00, 0xfd, 0x0f, 0x41, 0x00, 0xfd, 0x0f, // 3 x i8x16.splat(0)
  0xfd, 0x85, 0x02, 0x0b, // f32x4.relaxed_madd, end
]);

const validates = (bytes) => {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
};
// Each computed once: validate() compiles a module.
let simdSupported, relaxedSupported;
export function hasSimd() {
  return (simdSupported ??= validates(SIMD_PROBE));
}
export function hasRelaxedSimd() {
  return (relaxedSupported ??= hasSimd() && validates(RELAXED_PROBE));
}

/** The build 'auto' picks: the fastest this runtime can compile. */
export function bestVariant() {
  if (hasRelaxedSimd()) return 'relaxed';
  return hasSimd() ? 'simd' : 'scalar';
}

// The URLs are spelled out literally so that bundlers see and emit the assets.
export function wasmUrl(variant) {
  if (variant === 'threads') return new URL('../dist/mnasnet-threads.wasm', import.meta.url);
  if (variant === 'threads-relaxed') return new URL('../dist/mnasnet-threads-relaxed.wasm', import.meta.url);
  if (variant === 'scalar') return new URL('../dist/mnasnet-scalar.wasm', import.meta.url);
  if (variant === 'relaxed') return new URL('../dist/mnasnet-relaxed.wasm', import.meta.url);
  return new URL('../dist/mnasnet.wasm', import.meta.url);
}

export function defaultModelUrl() {
  return new URL('../dist/mnasnet_a1_cifar10.onnx', import.meta.url);
}

const tag = (x) => Object.prototype.toString.call(x);
// Realm-independent checks: buffers may come from another realm (Node's fs,
// iframes, test sandboxes), where `instanceof` fails.
export const isUrl = (x) => tag(x) === '[object URL]' || (x !== null && typeof x === 'object' && typeof x.href === 'string');
export const isArrayBuffer = (x) => tag(x) === '[object ArrayBuffer]' || tag(x) === '[object SharedArrayBuffer]';

// node:fs, never imported statically so that browsers and bundles never see it.
// process.getBuiltinModule (Node >= 20.16) saves the import() round trip.
async function nodeFs() {
  const get = process.getBuiltinModule;
  return typeof get === 'function' ? get('node:fs') : import(/* webpackIgnore: true */ 'node:fs');
}

/**
 * Bytes of a model or .wasm given as buffer, URL, URL string or (Node) path.
 * sync: in Node, read a file synchronously where the runtime allows (the
 * small .wasm: saves a thread-pool round trip, ~1 ms of a cold start).
 */
export async function readBytes(src, what, sync = false) {
  if (isArrayBuffer(src)) return new Uint8Array(src);
  if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  const url = isUrl(src);
  if (!url && typeof src !== 'string') {
    throw new MnasNetError('E_ARGUMENT', `${what}: expected a URL, a path or bytes, got ${tag(src)}`);
  }
  const href = url ? src.href : src;
  // Two or more letters before ':' is a URL scheme; 'C:\x' is a Windows path.
  const hasScheme = /^[a-z][a-z0-9+.-]+:/i.test(href);
  try {
    if (IS_NODE && (!hasScheme || href.startsWith('file:'))) {
      const file = hasScheme ? new URL(href) : href;
      const buf = sync && typeof process.getBuiltinModule === 'function'
        ? process.getBuiltinModule('node:fs').readFileSync(file)
        : await (await nodeFs()).promises.readFile(file);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const res = await fetch(href);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new MnasNetError('E_IO', `${what}: cannot read ${href}: ${e.message}`);
  }
}

// Compiled modules, per .wasm URL: compiling is the slow part of a cold start;
// instantiating a compiled module for each model is cheap.
const compiled = new Map();

async function compileFrom(src) {
  if (!IS_NODE && typeof WebAssembly.compileStreaming === 'function') {
    const url = src;
    const res = await fetch(url);
    if (!res.ok) throw new MnasNetError('E_IO', `cannot fetch ${url.href}: HTTP ${res.status}`);
    // compileStreaming needs the application/wasm MIME type; fall back when a server omits it.
    if ((res.headers.get('content-type') || '').startsWith('application/wasm')) {
      return WebAssembly.compileStreaming(res);
    }
    return WebAssembly.compile(await res.arrayBuffer());
  }
  try {
    const bytes = await readBytes(src, 'wasm', true);
    // Node: compiling synchronously saves a task round trip; browsers keep the
    // async API, which does not block the page.
    return IS_NODE ? new WebAssembly.Module(bytes) : await WebAssembly.compile(bytes);
  } catch (e) {
    if (e instanceof MnasNetError) throw e;
    throw new MnasNetError('E_ARGUMENT', `wasm: ${e.message}`);
  }
}

/** WebAssembly.Module for wasm: 'relaxed' | 'simd' | 'scalar' | undefined (auto) | URL | URL string | (Node) path. */
export function getModule(wasm) {
  let src;
  if (wasm === undefined || wasm === null || wasm === 'auto') src = wasmUrl(bestVariant());
  else if (wasm === 'relaxed' || wasm === 'simd' || wasm === 'scalar') {
    if (wasm === 'simd' && !hasSimd()) {
      return Promise.reject(new MnasNetError('E_ARGUMENT', 'this runtime has no WebAssembly SIMD; use wasm: "scalar"'));
    }
    if (wasm === 'relaxed' && !hasRelaxedSimd()) {
      return Promise.reject(
        new MnasNetError('E_ARGUMENT', `this runtime has no WebAssembly relaxed SIMD; use wasm: "${hasSimd() ? 'simd' : 'scalar'}"`),
      );
    }
    src = wasmUrl(wasm);
  } else if (isUrl(wasm)) src = new URL(wasm.href);
  else if (typeof wasm === 'string' && wasm) {
    const base = typeof location === 'object' && location ? location.href : undefined;
    src = IS_NODE && !/^[a-z][a-z0-9+.-]+:/i.test(wasm) ? wasm : new URL(wasm, base);
  } else {
    return Promise.reject(new MnasNetError('E_ARGUMENT', "options.wasm: expected 'relaxed', 'simd', 'scalar' or a URL"));
  }
  const key = typeof src === 'string' ? src : src.href;
  let p = compiled.get(key);
  if (!p) {
    p = compileFrom(src);
    compiled.set(key, p);
    p.catch(() => compiled.delete(key)); // a failed compile may succeed later
  }
  return p;
}

const ENOSYS = 52;

/**
 * Instantiate a compiled module. Returns {exports, mem()} where mem() gives
 * typed-array views of the current linear memory (refreshed after growth).
 * memory: the shared memory a threaded build imports (threads.js).
 */
export async function instantiate(module, memory) {
  let exports;
  let views;
  const mem = () => {
    const buf = exports.memory.buffer;
    if (!views || views.buffer !== buf) {
      views = {
        buffer: buf,
        u8: new Uint8Array(buf),
        i32: new Int32Array(buf),
        u32: new Uint32Array(buf),
        f32: new Float32Array(buf),
        dv: new DataView(buf),
      };
    }
    return views;
  };
  const wasi = {
    // The C core times layers (profiling) with clock_gettime.
    clock_time_get(id, _precision, out) {
      const ms = id === 0 ? Date.now() : performance.now();
      mem().dv.setBigUint64(out, BigInt(Math.round(ms * 1e6)), true);
      return 0;
    },
    proc_exit(code) {
      throw new MnasNetError('E_STATE', `the wasm module exited (status ${code})`);
    },
    environ_sizes_get(count, size) {
      mem().dv.setUint32(count, 0, true);
      mem().dv.setUint32(size, 0, true);
      return 0;
    },
    environ_get: () => 0,
  };
  const imports = { env: { emscripten_notify_memory_growth: () => (views = undefined) }, wasi_snapshot_preview1: {} };
  if (memory) imports.env.memory = memory;
  // stdio and anything else WASI the module may name: unsupported (the engine
  // reports errors through mnas_error, not stdio).
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function' || imp.module !== 'wasi_snapshot_preview1') continue;
    imports.wasi_snapshot_preview1[imp.name] = wasi[imp.name] || (() => ENOSYS);
  }
  // Synchronous in Node, as compiling above.
  const instance = IS_NODE ? new WebAssembly.Instance(module, imports) : await WebAssembly.instantiate(module, imports);
  exports = memory ? { ...instance.exports, memory } : instance.exports;
  if (exports._initialize) exports._initialize();
  return { exports, mem };
}
