// node tools/wasm/check-imports.mjs FILE.wasm
// Prints the imports of a standalone mnasnet .wasm and fails when one falls
// outside what the SDK loader provides: env.emscripten_notify_memory_growth
// and WASI (wasi_snapshot_preview1.*), plus, for the threaded builds
// (mnasnet-threads*.wasm), env.memory: a shared memory whose limits must be
// those js/src/threads.js creates it with. Anything else (env.__syscall_*,
// env.emscripten_*, ...) means Emscripten JS glue would be needed.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { SHARED_MEMORY } from '../../js/src/threads.js';
import { Reader, sections } from './wasm-reader.mjs';

// mnasnet-relaxed.wasm: Node 20 compiles relaxed SIMD only behind this flag
// (on by default from Node 22, where setting it changes nothing).
setFlagsFromString('--experimental-wasm-relaxed-simd');

const file = process.argv[2];
const bytes = readFileSync(file);
const threaded = basename(file).startsWith('mnasnet-threads');
const mod = new WebAssembly.Module(bytes);
const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`);
const allowed = (name) =>
  name === 'env.emscripten_notify_memory_growth' || name.startsWith('wasi_snapshot_preview1.') ||
  (threaded && name === 'env.memory');
console.log(`${file}: imports: ${imports.join(' ') || '(none)'}`);
const bad = imports.filter((n) => !allowed(n));
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};
if (bad.length) fail(`unexpected imports: ${bad.join(' ')}`);
const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
const needed = ['malloc', 'free', '_initialize', ...(threaded ? ['mnas_thread_work', 'mnas_set_threads', 'mnas_threads', 'stackRestore'] : ['memory'])];
for (const need of needed) if (!exports.includes(need)) fail(`missing export: ${need}`);

// The memory import's limits, read from the import section (the JS API
// does not show them): flags 0x03 = shared with a maximum.
function memoryImport(b) {
  for (const { id, pos, end } of sections(b)) {
    if (id !== 2) continue;
    const r = new Reader(b, pos, end);
    for (let n = r.u32(); n > 0; n--) {
      const where = `${r.name()}.${r.name()}`;
      const kind = r.byte();
      if (kind === 0) r.u32(); // function: type index
      else if (kind === 1) { r.skip(1); const f = r.u32(); r.u32(); if (f & 1) r.u32(); } // table
      else if (kind === 3) r.skip(2); // global
      else if (kind === 2) {
        const flags = r.u32();
        const initial = r.u32();
        const maximum = flags & 1 ? r.u32() : undefined;
        return { where, shared: (flags & 2) !== 0, initial, maximum };
      }
    }
    return null;
  }
  return null;
}
const m = memoryImport(bytes);
if (threaded) {
  if (!m || !m.shared) fail('the threaded build must import a shared memory');
  if (m.initial !== SHARED_MEMORY.initial || m.maximum !== SHARED_MEMORY.maximum) {
    fail(`memory import is ${m.initial}..${m.maximum} pages; js/src/threads.js creates ${SHARED_MEMORY.initial}..${SHARED_MEMORY.maximum}`);
  }
  console.log(`${file}: shared memory ${m.initial}..${m.maximum} pages, as js/src/threads.js creates it`);
} else if (m) {
  fail('a single-thread build must not import its memory');
}
