// The C ABI of the .wasm as the SDK uses it, written down once: byte offsets
// and sizes of the structs of src/mnas.h in the wasm32 layout (4-byte int,
// float and pointer; int64 and double 8-byte aligned), and the enum values
// the SDK passes or reads. Nothing else in js/ types an offset.
//
// Two checks keep these numbers true. src/wasm/abi.c asserts each of them at
// compile time, so a struct change in C breaks `make wasm` until this file
// follows. And every .wasm exports mnas_wasm_abi(), the same entries computed
// with offsetof, plus the limits of mnas.h (MNAS_MAX_*): the SDK compares the
// table with this file once per compiled module (a .wasm from another release
// is refused by name) and reads the limits from it, never retyping them.

/** mnas_options, mnas_stats, mnas_layer and mnas_se_block: field -> byte offset; size: sizeof. */
export const OPTIONS = Object.freeze({ mean: 0, std: 12, source_size: 24, reference_kernels: 28, threads: 32, layer_by_layer: 36, size: 40 });
export const STATS = Object.freeze({
  params: 0, macs: 8, arena_bytes: 16, weight_bytes: 24, layers: 32, se_blocks: 36, mean: 40, std: 52, source_size: 64,
  output_is_probabilities: 68, input_channels_last: 72, size: 80,
});
export const LAYER = Object.freeze({
  name: 0, kind: 4, category: 8, in_h: 12, in_w: 16, in_c: 20, out_h: 24, out_w: 28, out_c: 32,
  kh: 36, stride: 40, params: 48, macs: 56, time_ms: 64, fused_with: 72, size: 80,
});
export const SE_BLOCK = Object.freeze({ name: 0, channels: 4, height: 8, width: 12, values: 16, size: 20 });
/** mnas_pixel_format and mnas_status. */
export const PIXEL_FORMAT = Object.freeze({ RGBA: 0, RGB: 1 });
export const STATUS = Object.freeze({
  OK: 0, E_ARG: 1, E_FORMAT: 2, E_UNSUPPORTED: 3, E_MODEL: 4, E_NOMEM: 5, E_INPUT: 6, E_LIMIT: 7, E_IO: 8, E_STATE: 9,
});

/** Every entry above under its name in the module's table ("options.std", "status.E_ARG"). */
export const LAYOUT = Object.freeze(
  Object.fromEntries(
    Object.entries({ options: OPTIONS, stats: STATS, layer: LAYER, se_block: SE_BLOCK, pixel_format: PIXEL_FORMAT, status: STATUS })
      .flatMap(([group, fields]) => Object.entries(fields).map(([field, value]) => [`${group}.${field}`, value])),
  ),
);

/** The limits of src/mnas.h the SDK checks before writing into wasm memory: read from the module. */
export const LIMIT_NAMES = Object.freeze(['MNAS_MAX_IMAGE_SIDE', 'MNAS_MAX_SOURCE_SIZE', 'MNAS_MAX_MODEL_BYTES']);

/** The largest struct above: the SDK's scratch block holds any one of them. */
export const MAX_STRUCT_SIZE = Math.max(OPTIONS.size, STATS.size, LAYER.size, SE_BLOCK.size);

/**
 * The table of mnas_wasm_abi() as a Map name -> value, or null when the
 * module has no such export (a .wasm older than this SDK).
 * The table is three 32-bit words {count, names*, values*}; a name starting
 * with '.' continues the group of the name before it.
 */
export function readAbiTable(exports, mem) {
  if (typeof exports.mnas_wasm_abi !== 'function') return null;
  const p = exports.mnas_wasm_abi();
  const { u8, u32 } = mem();
  const [count, names, values] = u32.subarray(p >> 2, (p >> 2) + 3);
  const table = new Map();
  let q = names;
  let group = '';
  for (let i = 0; i < count; i++) {
    let name = '';
    for (; u8[q]; q++) name += String.fromCharCode(u8[q]);
    q++;
    if (name[0] === '.') name = group + name;
    else group = name.slice(0, name.indexOf('.'));
    table.set(name, u32[(values >> 2) + i]);
  }
  return table;
}

/** Differences between LAYOUT and a module's table, one line each ([] when they agree). */
export function compareAbi(table) {
  const out = [];
  for (const [name, value] of Object.entries(LAYOUT)) {
    if (!table.has(name)) out.push(`${name}: missing from the .wasm`);
    else if (table.get(name) !== value) out.push(`${name}: ${table.get(name)} in the .wasm, ${value} in the SDK`);
  }
  for (const name of LIMIT_NAMES) if (!table.has(name)) out.push(`${name}: missing from the .wasm`);
  return out;
}
