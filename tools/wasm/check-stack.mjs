// node tools/wasm/check-stack.mjs FILE.wasm STACK_BYTES MODELS_DIR
// Measures how deep a single-threaded mnasnet .wasm goes into its stack and
// fails when that is more than a quarter of the stack it was linked with.
//
// Why: the stack is part of the linear memory every page pays for (its
// size counts in "wasm memory after load"), so it is linked small; and a
// wasm stack that overflows does not trap, it writes over the static data
// below it. This check is what keeps the size honest as the engine grows.
//
// How: the stack top is the initial value of the module's first global
// (__stack_pointer, read from the global section); the stack below it is
// painted with a byte pattern after instantiation, then the module runs
// what the SDK runs (warm-up; every model in MODELS_DIR loaded and run as
// NHWC, NCHW and an RGBA image), and the deepest byte no longer painted
// marks the high-water point.
import fs from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { OPTIONS } from '../../js/src/abi.js';
import { instantiate } from '../../js/src/loader.js';
import { Reader, sections } from './wasm-reader.mjs';

// mnasnet-relaxed.wasm: Node 20 compiles relaxed SIMD only behind this flag.
setFlagsFromString('--experimental-wasm-relaxed-simd');

const [file, stackArg, modelsDir] = process.argv.slice(2);
const fail = (msg) => {
  console.error(`check-stack: ${msg}`);
  process.exit(1);
};
if (!file || !stackArg || !modelsDir) fail('usage: check-stack.mjs FILE.wasm STACK_BYTES MODELS_DIR');
const stackBytes = Number(stackArg);
if (!(stackBytes > 0)) fail(`STACK_BYTES: expected a positive number, got '${stackArg}'`);

// The initial value of the first global defined by the module: emscripten
// makes it __stack_pointer, a mutable i32 initialised with i32.const.
function stackTop(b) {
  for (const { id, pos, end } of sections(b)) {
    if (id !== 6) continue;
    const r = new Reader(b, pos, end);
    if (r.u32() === 0) return null;
    const type = r.byte(), mutable = r.byte(), op = r.byte();
    return type === 0x7f && mutable === 1 && op === 0x41 ? r.s32() : null;
  }
  return null;
}

const bytes = fs.readFileSync(file);
const top = stackTop(bytes);
if (top == null) fail(`${file}: no mutable i32 global with a constant start (the stack pointer) found`);
if (top < stackBytes) fail(`${file}: stack top ${top} is below the stack size ${stackBytes}`);
const { exports: x } = await instantiate(new WebAssembly.Module(bytes));
const u8 = () => new Uint8Array(x.memory.buffer);
const PAINT = 0xa5;
const bottom = top - stackBytes;
// Above the stack pointer of this moment (the top, between calls) nothing lives.
u8().fill(PAINT, bottom, top);

const check = (st, what) => {
  if (st !== 0) fail(`${what}: status ${st}`);
};
check(x.mnas_warm_up(), 'mnas_warm_up');
// The model handle, the input shape (3 ints) and zeroed mnas_options.
const scratch = x.malloc(16 + OPTIONS.size);
const shape = scratch + 4, opt = scratch + 16;
u8().fill(0, scratch, opt + OPTIONS.size);
check(x.mnas_create(scratch), 'mnas_create');
const model = new Uint32Array(x.memory.buffer)[scratch >> 2];
const models = fs.readdirSync(modelsDir).filter((f) => f.endsWith('.onnx')).sort();
if (!models.length) fail(`${modelsDir}: no .onnx models`);
for (const name of models) {
  const onnx = fs.readFileSync(path.join(modelsDir, name));
  const p = x.malloc(onnx.byteLength);
  u8().set(onnx, p);
  check(x.mnas_load_owned(model, p, onnx.byteLength, opt), `${name}: mnas_load_owned`);
  check(x.mnas_input_shape(model, shape, shape + 4, shape + 8), `${name}: mnas_input_shape`);
  const [h, w, c] = new Int32Array(x.memory.buffer, shape, 3);
  const n = h * w * c;
  const input = x.malloc(n * 4);
  const f = new Float32Array(x.memory.buffer, input, n);
  for (let i = 0; i < n; i++) f[i] = Math.sin(i * 0.37);
  check(x.mnas_run(model, input, n), `${name}: mnas_run`);
  check(x.mnas_run_nchw(model, input, n), `${name}: mnas_run_nchw`);
  const rgba = x.malloc(w * h * 4);
  u8().fill(128, rgba, rgba + w * h * 4);
  check(x.mnas_run_image(model, rgba, w, h, 0, 0), `${name}: mnas_run_image`);
  x.free(input);
  x.free(rgba);
}
x.mnas_free(model);
x.free(scratch);

const mem = u8();
let low = bottom;
while (low < top && mem[low] === PAINT) low++;
const used = top - low;
const limit = stackBytes / 4;
console.log(`${path.basename(file)}: deepest stack use ${used} bytes of ${stackBytes} (limit ${limit}), ` +
  `over warm-up and ${models.length} models`);
if (low === bottom) fail('the whole stack was written: it may have overflowed');
if (used > limit) fail(`stack use ${used} bytes is over a quarter of the ${stackBytes}-byte stack: link a larger one (MNAS_WASM_STACK)`);
