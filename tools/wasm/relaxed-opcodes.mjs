// node tools/wasm/relaxed-opcodes.mjs FILE.wasm
//
// Renumbers relaxed-SIMD instructions from the proposal's prototype encoding
// to the standard one, in place. clang < 16 (Debian's emscripten uses clang
// 14) emits f32x4.relaxed_madd as 0xfd 0xaf, an opcode the standard never
// assigned; engines that ship relaxed SIMD accept only 0xfd 0x105. Both
// LEB128 encodings are two bytes long, so the rewrite keeps every offset.
//
// Every function body is decoded instruction by instruction (a byte search
// could hit the same bytes inside a v128.const or a shuffle's lanes), and
// each must end exactly at its declared size. Any other prototype relaxed
// opcode, or an instruction this decoder does not know, is an error naming
// the function and byte offset. A module built by a newer clang has nothing
// to renumber and is left untouched.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Reader, sections } from './wasm-reader.mjs';

const PROTO_F32X4_MADD = 0xaf;
const STD_F32X4_MADD = 0x105;
// Unassigned in the standard SIMD opcode space; the prototype used some of
// them for relaxed instructions (fms, laneselect, min/max, ...).
const SIMD_GAPS = new Set([0x9a, 0xa2, 0xa5, 0xa6, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee]);

// Immediates of the 0xfd-prefixed (SIMD) instruction op; returns op.
function simdImmediates(r, op) {
  if (op <= 0x0b || op === 0x5c || op === 0x5d) r.memarg(); // loads, store, load_zero
  else if (op === 0x0c || op === 0x0d) r.skip(16); // v128.const, i8x16.shuffle
  else if (op >= 0x15 && op <= 0x22) r.skip(1); // extract/replace lane
  else if (op >= 0x54 && op <= 0x5b) {
    r.memarg(); // load/store lane
    r.skip(1);
  } else if (op > 0xff && !(op >= 0x100 && op <= 0x113)) {
    throw new Error(`unknown SIMD opcode 0x${op.toString(16)}`);
  }
}

// Immediates of the 0xfc-prefixed instruction op.
function miscImmediates(r, op) {
  if (op <= 7) return; // saturating truncations
  if (op === 8) { r.u32(); r.skip(1); } // memory.init
  else if (op === 9 || op === 13 || (op >= 15 && op <= 17)) r.u32();
  else if (op === 10) r.skip(2); // memory.copy
  else if (op === 11) r.skip(1); // memory.fill
  else if (op === 12 || op === 14) { r.u32(); r.u32(); }
  else throw new Error(`unknown 0xfc opcode ${op}`);
}

// Immediates of the 0xfe-prefixed (threads: atomics) instruction op.
function atomicImmediates(r, op) {
  if (op === 0x03) r.skip(1); // atomic.fence
  else if (op <= 0x02 || (op >= 0x10 && op <= 0x4e)) r.memarg(); // notify, waits, loads, stores, rmw, cmpxchg
  else throw new Error(`unknown 0xfe opcode ${op}`);
}

function blockType(r) {
  const b = r.b[r.pos];
  if (b === 0x40 || (b >= 0x6f && b <= 0x7f)) r.skip(1);
  else r.sleb(5);
}

// Decodes one function body in [r.pos, r.end); calls onMadd(offset of the
// SIMD opcode's LEB) for each prototype f32x4.relaxed_madd.
function decodeBody(r, onMadd) {
  for (let n = r.u32(); n > 0; n--) { // local declarations
    r.u32();
    r.skip(1);
  }
  let last = -1;
  while (r.pos < r.end) {
    const op = r.byte();
    last = op;
    if (op === 0x02 || op === 0x03 || op === 0x04) blockType(r);
    else if (op === 0x0c || op === 0x0d || op === 0x10 || (op >= 0x20 && op <= 0x26) || op === 0xd2) r.u32();
    else if (op === 0x0e) {
      for (let n = r.u32(); n >= 0; n--) r.u32(); // targets and the default
    } else if (op === 0x11) { r.u32(); r.u32(); }
    else if (op === 0x1c) {
      for (let n = r.u32(); n > 0; n--) r.skip(1);
    } else if (op >= 0x28 && op <= 0x3e) r.memarg();
    else if (op === 0x3f || op === 0x40 || op === 0xd0) r.skip(1);
    else if (op === 0x41) r.sleb(5);
    else if (op === 0x42) r.sleb(10);
    else if (op === 0x43) r.skip(4);
    else if (op === 0x44) r.skip(8);
    else if (op === 0xfc) miscImmediates(r, r.u32());
    else if (op === 0xfe) atomicImmediates(r, r.u32());
    else if (op === 0xfd) {
      const at = r.pos;
      const sop = r.u32();
      if (sop === PROTO_F32X4_MADD) onMadd(at);
      else if (SIMD_GAPS.has(sop)) {
        throw new Error(`prototype relaxed-SIMD opcode 0xfd 0x${sop.toString(16)} at byte ${at} has no renumbering here`);
      }
      simdImmediates(r, sop);
    } else if (!(op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b ||
                 (op >= 0x45 && op <= 0xc4) || op === 0xd1)) {
      throw new Error(`unknown opcode 0x${op.toString(16)} at byte ${r.pos - 1}`);
    }
  }
  if (r.pos !== r.end || last !== 0x0b) throw new Error(`body does not end with 'end' at byte ${r.end}`);
}

/**
 * Renumbers prototype relaxed-SIMD multiply-adds in a wasm binary.
 * Returns { bytes (a copy when anything changed), renumbered (count) }.
 */
export function renumberRelaxed(input) {
  const bytes = new Uint8Array(input);
  const sites = [];
  for (const { id, pos, end } of sections(bytes)) {
    if (id !== 10) continue;
    const sec = new Reader(bytes, pos, end);
    const count = sec.u32();
    for (let f = 0; f < count; f++) {
      const len = sec.u32();
      if (sec.pos + len > end) throw new Error(`function body ${f} at byte ${sec.pos} runs past the code section`);
      const body = new Reader(bytes, sec.pos, sec.pos + len);
      try {
        decodeBody(body, (at) => sites.push(at));
      } catch (e) {
        throw new Error(`code section, function body ${f}: ${e.message}`);
      }
      sec.pos += len;
    }
    if (sec.pos !== end) throw new Error(`code section ends at byte ${sec.pos}, declared ${end}`);
  }
  if (!sites.length) return { bytes, renumbered: 0 };
  const out = bytes.slice();
  for (const at of sites) {
    out[at] = 0x80 | (STD_F32X4_MADD & 0x7f);
    out[at + 1] = STD_F32X4_MADD >> 7;
  }
  return { bytes: out, renumbered: sites.length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node tools/wasm/relaxed-opcodes.mjs FILE.wasm');
    process.exit(2);
  }
  try {
    const { bytes, renumbered } = renumberRelaxed(readFileSync(file));
    if (renumbered) {
      writeFileSync(`${file}.tmp`, bytes);
      renameSync(`${file}.tmp`, file);
    }
    console.log(`relaxed-opcodes: ${file}: ${renumbered} f32x4.relaxed_madd renumbered to 0xfd 0x105`);
  } catch (e) {
    console.error(`relaxed-opcodes: ${file}: ${e.message}`);
    process.exit(1);
  }
}
