#!/usr/bin/env node
// Runs a standalone WASI program built by emcc (-sSTANDALONE_WASM), such as
// build-wasm/bench_kernels_wasm.wasm, under Node's WASI: the way to time
// code as V8 runs it without the SDK around it. Arguments after the .wasm
// are the program's; it sees no files and no environment.
//
//   node tools/bench/wasi_run.mjs build-wasm/bench_kernels_wasm.wasm [0.2]
import fs from 'node:fs';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node tools/bench/wasi_run.mjs PROGRAM.wasm [ARGS...]');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: [file, ...args], returnOnExit: true });
const module = await WebAssembly.compile(fs.readFileSync(file));
// emcc's standalone output also imports a memory-growth notice, for JS views
// that this runner does not keep.
const imports = { ...wasi.getImportObject(), env: { emscripten_notify_memory_growth() {} } };
const instance = await WebAssembly.instantiate(module, imports);
process.exitCode = wasi.start(instance);
