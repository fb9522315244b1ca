// node tools/wasm/check-imports.mjs FILE.wasm
// Prints the imports of a standalone mnasnet .wasm and fails when one falls
// outside what the SDK loader provides: env.emscripten_notify_memory_growth
// and WASI (wasi_snapshot_preview1.*). Anything else (env.__syscall_*,
// env.emscripten_*, ...) means Emscripten JS glue would be needed.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// mnasnet-relaxed.wasm: Node 20 compiles relaxed SIMD only behind this flag
// (on by default from Node 22, where setting it changes nothing).
setFlagsFromString('--experimental-wasm-relaxed-simd');

const file = process.argv[2];
const mod = new WebAssembly.Module(readFileSync(file));
const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`);
const allowed = (name) =>
  name === 'env.emscripten_notify_memory_growth' || name.startsWith('wasi_snapshot_preview1.');
console.log(`${file}: imports: ${imports.join(' ') || '(none)'}`);
const bad = imports.filter((n) => !allowed(n));
if (bad.length) {
  console.error(`unexpected imports: ${bad.join(' ')}`);
  process.exit(1);
}
const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
for (const need of ['memory', 'malloc', 'free', '_initialize']) {
  if (!exports.includes(need)) {
    console.error(`missing export: ${need}`);
    process.exit(1);
  }
}
