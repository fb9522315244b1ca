// Loading: bytes from URLs/paths/buffers, finding the packaged files (the
// .wasm builds and the default model) wherever a bundler or a CDN put them,
// compiling the .wasm (cached) and instantiating it with the few imports a
// -sSTANDALONE_WASM module needs.
import { MnasNetError, describeValue } from './errors.js';
import { BUILTIN_HINT, builtin } from './platform.js';

export const IS_NODE =
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

/** The packaged files (dist/ of the package), by build. */
export const WASM_FILES = Object.freeze({ relaxed: 'mnasnet-relaxed.wasm', simd: 'mnasnet.wasm', scalar: 'mnasnet-scalar.wasm' });
/** The threaded builds (threads.js picks them), by the single-thread build they extend. */
export const THREADS_WASM_FILES = Object.freeze({ relaxed: 'mnasnet-threads-relaxed.wasm', simd: 'mnasnet-threads.wasm' });
export const DEFAULT_MODEL_FILE = 'mnasnet_a1_cifar10.onnx';

// Where this script came from, for a build without import.meta.url (a
// classic script, such as an esbuild --format=iife bundle): its <script src>,
// or a classic worker's own URL. Read now: currentScript is gone later.
const SCRIPT_URL =
  (typeof document === 'object' && document?.currentScript?.src) ||
  (typeof importScripts === 'function' && typeof location === 'object' ? location.href : '');

// Each URL is spelled out as `new URL('literal', import.meta.url)`, the
// pattern with which Vite, webpack 5 and Parcel find a file and emit it
// with the bundle. The bundles in dist/ sit beside the files: prepare-dist
// turns '../dist/' into './' there (an esbuild or Rollup bundle then looks
// for the files beside itself).
function packagedUrl(file) {
  switch (file) {
    case 'mnasnet-relaxed.wasm': return new URL('../dist/mnasnet-relaxed.wasm', import.meta.url);
    case 'mnasnet-scalar.wasm': return new URL('../dist/mnasnet-scalar.wasm', import.meta.url);
    case 'mnasnet-threads.wasm': return new URL('../dist/mnasnet-threads.wasm', import.meta.url);
    case 'mnasnet-threads-relaxed.wasm': return new URL('../dist/mnasnet-threads-relaxed.wasm', import.meta.url);
    case 'mnasnet_a1_cifar10.onnx': return new URL('../dist/mnasnet_a1_cifar10.onnx', import.meta.url);
    default: return new URL('../dist/mnasnet.wasm', import.meta.url);
  }
}

/**
 * URL of a packaged file: in baseUrl (a folder URL, see readBaseUrl) when
 * given, else beside the SDK's module (or the bundle that holds it).
 */
export function assetUrl(file, baseUrl) {
  if (baseUrl) return new URL(file, baseUrl);
  try {
    return packagedUrl(file);
  } catch {
    // import.meta.url is empty in a classic script
  }
  if (SCRIPT_URL) return new URL(file, SCRIPT_URL);
  throw new MnasNetError(
    'E_ARGUMENT',
    `cannot tell where ${file} is (this build of the SDK has no import.meta.url); ` +
      "pass { baseUrl: 'URL of the folder that holds the .wasm files' }",
  );
}

const hasScheme = (href) => /^[a-z][a-z0-9+.-]+:/i.test(href); // 'C:\x' is a Windows path

/** The Node built-in module `name`, or an error saying how to get one. */
export function needBuiltin(name) {
  const m = builtin(name);
  if (!m) throw new MnasNetError('E_STATE', BUILTIN_HINT || `${name} is not available`);
  return m;
}

/**
 * options.baseUrl as a URL ending in '/': the folder that holds the .wasm
 * files (and the default model). A relative URL is resolved against the
 * page; in Node a string without a scheme is a directory path.
 */
export function readBaseUrl(v) {
  if (v === undefined || v === null) return undefined;
  let href;
  if (isUrl(v)) href = v.href;
  else if (typeof v === 'string' && v) href = v;
  else {
    throw new MnasNetError(
      'E_ARGUMENT',
      `options.baseUrl: expected the URL (in Node also the path) of the folder that holds the .wasm files, got ${describeValue(v)}`,
    );
  }
  if (IS_NODE && !hasScheme(href)) {
    href = needBuiltin('node:url').pathToFileURL(needBuiltin('node:path').resolve(href)).href;
  } else if (!hasScheme(href)) {
    const base = typeof document === 'object' && document ? document.baseURI : typeof location === 'object' ? location.href : undefined;
    try {
      href = new URL(href, base).href;
    } catch {
      throw new MnasNetError('E_ARGUMENT', `options.baseUrl: '${href}' is not a URL`);
    }
  }
  return new URL(href.endsWith('/') ? href : `${href}/`);
}

/** URL of the default model (the CIFAR-10 MnasNet-A1 of the package). */
export function defaultModelUrl(baseUrl) {
  return assetUrl(DEFAULT_MODEL_FILE, baseUrl);
}

const tag = (x) => Object.prototype.toString.call(x);
// Realm-independent checks: buffers may come from another realm (Node's fs,
// iframes, test sandboxes), where `instanceof` fails.
export const isUrl = (x) => tag(x) === '[object URL]' || (x !== null && typeof x === 'object' && typeof x.href === 'string');
export const isArrayBuffer = (x) => tag(x) === '[object ArrayBuffer]' || tag(x) === '[object SharedArrayBuffer]';

/**
 * Bytes of a model or .wasm given as buffer, URL, URL string or (Node) path.
 * sync: in Node, read a file synchronously (the small .wasm: saves a
 * thread-pool round trip, ~1 ms of a cold start).
 */
export async function readBytes(src, what, sync = false) {
  if (isArrayBuffer(src)) return new Uint8Array(src);
  if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  const url = isUrl(src);
  if (!url && typeof src !== 'string') {
    throw new MnasNetError('E_ARGUMENT', `${what}: expected a URL, a path or bytes, got ${describeValue(src)}`);
  }
  const href = url ? src.href : src;
  const file = IS_NODE && (!hasScheme(href) || href.startsWith('file:'));
  const fs = file && needBuiltin('node:fs');
  try {
    if (file) {
      const path = hasScheme(href) ? new URL(href) : href;
      const buf = sync ? fs.readFileSync(path) : await fs.promises.readFile(path);
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

const BUILDS = "'auto', 'relaxed', 'simd' or 'scalar'";

/**
 * WebAssembly.Module for wasm: 'auto' | undefined (the fastest build this
 * runtime compiles) | 'relaxed' | 'simd' | 'scalar' | URL | URL string |
 * (Node) path. The builds are looked up in baseUrl when given.
 */
export function getModule(wasm, baseUrl) {
  let src;
  if (wasm === undefined || wasm === null || wasm === 'auto') src = assetUrl(WASM_FILES[bestVariant()], baseUrl);
  else if (wasm === 'relaxed' || wasm === 'simd' || wasm === 'scalar') {
    if (wasm === 'simd' && !hasSimd()) {
      return Promise.reject(new MnasNetError('E_ARGUMENT', 'this runtime has no WebAssembly SIMD; use wasm: "scalar"'));
    }
    if (wasm === 'relaxed' && !hasRelaxedSimd()) {
      return Promise.reject(
        new MnasNetError('E_ARGUMENT', `this runtime has no WebAssembly relaxed SIMD; use wasm: "${hasSimd() ? 'simd' : 'scalar'}"`),
      );
    }
    src = assetUrl(WASM_FILES[wasm], baseUrl);
  } else if (isUrl(wasm)) src = new URL(wasm.href);
  else if (typeof wasm === 'string' && /[./:\\]/.test(wasm)) {
    // a URL or a path: it has a dot, a slash or a colon; a bare word is a misspelt build
    const base = typeof location === 'object' && location ? location.href : undefined;
    src = IS_NODE && !hasScheme(wasm) ? wasm : new URL(wasm, base);
  } else if (typeof wasm === 'string') {
    return Promise.reject(
      new MnasNetError('E_ARGUMENT', `options.wasm: '${wasm}' is not a build; expected ${BUILDS}, or the URL of a .wasm file`),
    );
  } else {
    return Promise.reject(
      new MnasNetError('E_ARGUMENT', `options.wasm: expected ${BUILDS} or the URL of a .wasm file, got ${describeValue(wasm)}`),
    );
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
