// The WebAssembly binary format as the tools of tools/wasm/ read it: a
// cursor over LEB128 integers, names and bytes, and the module's sections.
// One reader so that the build's opcode rewrite (relaxed-opcodes.mjs) and
// the tests' checks (check-imports.mjs, check-stack.mjs) decode alike.

export class Reader {
  constructor(bytes, pos, end) {
    this.b = bytes;
    this.pos = pos;
    this.end = end;
  }
  byte() {
    if (this.pos >= this.end) throw new Error(`unexpected end at byte ${this.pos}`);
    return this.b[this.pos++];
  }
  // An unsigned or (signed) a two's-complement LEB128 of at most 5 bytes.
  leb(signed = false) {
    let v = 0, shift = 0, x;
    do {
      x = this.byte();
      v += (x & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 35) throw new Error(`LEB128 too long at byte ${this.pos}`);
    } while (x & 0x80);
    return signed && x & 0x40 ? v - 2 ** shift : v;
  }
  u32() {
    return this.leb(false);
  }
  s32() {
    return this.leb(true);
  }
  // Skips a signed LEB128 of at most maxBytes bytes.
  sleb(maxBytes) {
    for (let i = 0; i < maxBytes; i++) if (!(this.byte() & 0x80)) return;
    throw new Error(`signed LEB128 too long at byte ${this.pos}`);
  }
  skip(n) {
    if (this.pos + n > this.end) throw new Error(`unexpected end at byte ${this.pos}`);
    this.pos += n;
  }
  name() {
    const n = this.u32();
    this.skip(n);
    return new TextDecoder().decode(this.b.subarray(this.pos - n, this.pos));
  }
  memarg() {
    this.u32();
    this.u32();
  }
}

// The module's sections in order: { id, pos, end } with [pos, end) the
// payload. Throws on a bad header or a section that runs past the end.
export function* sections(input) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const head = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || head.some((b, i) => bytes[i] !== b)) throw new Error('not a WebAssembly binary (bad magic or version)');
  const r = new Reader(bytes, 8, bytes.length);
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) throw new Error(`section ${id} at byte ${r.pos} runs past the end of the file`);
    yield { id, pos: r.pos, end };
    r.pos = end;
  }
}
