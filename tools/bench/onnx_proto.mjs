// Minimal ONNX protobuf reader (isomorphic: Node and browsers, no dependencies).
//
// Decodes just what an inference graph needs: ModelProto -> opset_import, graph;
// GraphProto -> node, initializer, input, output; NodeProto -> inputs, outputs,
// name, op_type, domain, attributes; TensorProto -> dims, data_type, raw_data,
// float_data, int64_data, int32_data, double_data; ValueInfoProto -> name and
// static shape. Unknown fields are skipped by wire type, so newer files parse.
//
// Tensors come back as { name, dims: number[], dataType, data } where data is a
// Float32Array (FLOAT, DOUBLE, FLOAT16 are widened/narrowed to float32) or a
// BigInt64Array / Int32Array for integer types.

export const DataType = Object.freeze({
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7,
  STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13,
});

const AttrType = Object.freeze({
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5,
  FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
});

const textDecoder = new TextDecoder();

class Reader {
  constructor(bytes, start = 0, end = bytes.length) {
    this.buf = bytes;
    this.pos = start;
    this.end = end;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  eof() { return this.pos >= this.end; }
  // Unsigned varint as a JS number; exact up to 2^53, which covers lengths, tags
  // and non-negative ints. Negative int64 values (10-byte varints) go through
  // varintBig().
  varint() {
    let result = 0, mul = 1, b;
    do {
      if (this.pos >= this.end) throw new Error('onnx: truncated varint');
      b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return result;
  }
  varintBig() {
    let result = 0n, shift = 0n, b;
    do {
      if (this.pos >= this.end) throw new Error('onnx: truncated varint');
      b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    return BigInt.asIntN(64, result);
  }
  int64() { return Number(this.varintBig()); }
  fixed32Float() { const v = this.view.getFloat32(this.pos, true); this.pos += 4; return v; }
  fixed64Double() { const v = this.view.getFloat64(this.pos, true); this.pos += 8; return v; }
  bytes() {
    const len = this.varint();
    if (this.pos + len > this.end) throw new Error('onnx: truncated length-delimited field');
    const s = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  string() { return textDecoder.decode(this.bytes()); }
  sub() { const b = this.bytes(); return new Reader(b); }
  skip(wire) {
    switch (wire) {
      case 0: this.varint(); break;
      case 1: this.pos += 8; break;
      case 2: { const len = this.varint(); this.pos += len; break; }
      case 5: this.pos += 4; break;
      default: throw new Error(`onnx: unsupported wire type ${wire}`);
    }
  }
  *fields() {
    while (this.pos < this.end) {
      const tag = this.varint();
      yield [Math.floor(tag / 8), tag & 7];
    }
  }
}

// Repeated scalar fields may be packed (wire 2) or not; handle both.
function readRepeated(r, wire, readOne, out) {
  if (wire === 2) {
    const s = r.sub();
    while (!s.eof()) out.push(readOne(s));
  } else {
    out.push(readOne(r));
  }
}

function halfToFloat(h) {
  const s = (h & 0x8000) ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function parseTensor(r) {
  const t = { name: '', dims: [], dataType: 0, raw: null, floatData: [], int64Data: [], int32Data: [], doubleData: [], external: false };
  for (const [field, wire] of r.fields()) {
    switch (field) {
      case 1: readRepeated(r, wire, (x) => x.int64(), t.dims); break;
      case 2: t.dataType = r.varint(); break;
      case 4: readRepeated(r, wire, (x) => x.fixed32Float(), t.floatData); break;
      case 5: readRepeated(r, wire, (x) => x.int64(), t.int32Data); break;
      case 7: readRepeated(r, wire, (x) => x.varintBig(), t.int64Data); break;
      case 8: t.name = r.string(); break;
      case 9: t.raw = r.bytes(); break;
      case 10: readRepeated(r, wire, (x) => x.fixed64Double(), t.doubleData); break;
      case 13: r.skip(wire); t.external = true; break;
      case 14: { const loc = r.varint(); if (loc === 1) t.external = true; break; }
      default: r.skip(wire);
    }
  }
  if (t.external) throw new Error(`onnx: tensor '${t.name}' uses external data, not supported`);
  const count = t.dims.reduce((a, b) => a * b, 1);
  let data;
  const raw = t.raw;
  // Copy raw bytes into an aligned buffer before viewing them as typed arrays.
  const rawCopy = () => { const c = new Uint8Array(raw.length); c.set(raw); return c.buffer; };
  switch (t.dataType) {
    case DataType.FLOAT:
      data = raw ? new Float32Array(rawCopy()) : Float32Array.from(t.floatData);
      break;
    case DataType.DOUBLE:
      data = Float32Array.from(raw ? new Float64Array(rawCopy()) : t.doubleData);
      break;
    case DataType.FLOAT16: {
      const h = raw ? new Uint16Array(rawCopy()) : Uint16Array.from(t.int32Data);
      data = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) data[i] = halfToFloat(h[i]);
      break;
    }
    case DataType.INT64:
      data = raw ? new BigInt64Array(rawCopy()) : BigInt64Array.from(t.int64Data);
      break;
    case DataType.INT32: case DataType.INT16: case DataType.INT8: case DataType.UINT8:
    case DataType.UINT16: case DataType.BOOL: {
      if (raw) {
        const ab = rawCopy();
        const Ctor = { [DataType.INT32]: Int32Array, [DataType.INT16]: Int16Array, [DataType.INT8]: Int8Array,
          [DataType.UINT8]: Uint8Array, [DataType.UINT16]: Uint16Array, [DataType.BOOL]: Uint8Array }[t.dataType];
        data = Int32Array.from(new Ctor(ab));
      } else data = Int32Array.from(t.int32Data);
      break;
    }
    default:
      throw new Error(`onnx: tensor '${t.name}' has unsupported data type ${t.dataType}`);
  }
  if (data.length !== count) throw new Error(`onnx: tensor '${t.name}' has ${data.length} values, dims say ${count}`);
  return { name: t.name, dims: t.dims, dataType: t.dataType, data };
}

function parseAttribute(r) {
  const a = { name: '', type: 0, f: undefined, i: undefined, s: undefined, t: undefined, floats: [], ints: [], strings: [] };
  for (const [field, wire] of r.fields()) {
    switch (field) {
      case 1: a.name = r.string(); break;
      case 2: a.f = r.fixed32Float(); break;
      case 3: a.i = r.int64(); break;
      case 4: a.s = r.string(); break;
      case 5: a.t = parseTensor(r.sub()); break;
      case 7: readRepeated(r, wire, (x) => x.fixed32Float(), a.floats); break;
      case 8: readRepeated(r, wire, (x) => x.int64(), a.ints); break;
      case 9: a.strings.push(r.string()); break;
      case 20: a.type = r.varint(); break;
      default: r.skip(wire); // subgraphs (6, 11) are not needed for CNNs
    }
  }
  let value;
  switch (a.type) {
    case AttrType.FLOAT: value = a.f; break;
    case AttrType.INT: value = a.i; break;
    case AttrType.STRING: value = a.s; break;
    case AttrType.TENSOR: value = a.t; break;
    case AttrType.FLOATS: value = a.floats; break;
    case AttrType.INTS: value = a.ints; break;
    case AttrType.STRINGS: value = a.strings; break;
    default: // old files without the type field: infer from what was set
      value = a.t ?? a.s ?? a.i ?? a.f ?? (a.ints.length ? a.ints : a.floats.length ? a.floats : a.strings);
  }
  return [a.name, value];
}

function parseNode(r) {
  const n = { name: '', opType: '', domain: '', inputs: [], outputs: [], attrs: {} };
  for (const [field, wire] of r.fields()) {
    switch (field) {
      case 1: n.inputs.push(r.string()); break;
      case 2: n.outputs.push(r.string()); break;
      case 3: n.name = r.string(); break;
      case 4: n.opType = r.string(); break;
      case 5: { const [k, v] = parseAttribute(r.sub()); n.attrs[k] = v; break; }
      case 7: n.domain = r.string(); break;
      default: r.skip(wire);
    }
  }
  return n;
}

function parseValueInfo(r) {
  const v = { name: '', elemType: 0, shape: null };
  for (const [field, wire] of r.fields()) {
    if (field === 1) v.name = r.string();
    else if (field === 2) { // TypeProto
      const tr = r.sub();
      for (const [tf, tw] of tr.fields()) {
        if (tf !== 1) { tr.skip(tw); continue; } // tensor_type
        const tt = tr.sub();
        for (const [f2, w2] of tt.fields()) {
          if (f2 === 1) v.elemType = tt.varint();
          else if (f2 === 2) { // TensorShapeProto
            v.shape = [];
            const sr = tt.sub();
            for (const [f3, w3] of sr.fields()) {
              if (f3 !== 1) { sr.skip(w3); continue; }
              const dr = sr.sub();
              let dim = null;
              for (const [f4, w4] of dr.fields()) {
                if (f4 === 1) dim = dr.int64();
                else if (f4 === 2) dim = dr.string();
                else dr.skip(w4);
              }
              v.shape.push(dim);
            }
          } else tt.skip(w2);
        }
      }
    } else r.skip(wire);
  }
  return v;
}

function parseGraph(r) {
  const g = { name: '', nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  for (const [field, wire] of r.fields()) {
    switch (field) {
      case 1: g.nodes.push(parseNode(r.sub())); break;
      case 2: g.name = r.string(); break;
      case 5: { const t = parseTensor(r.sub()); g.initializers.set(t.name, t); break; }
      case 11: g.inputs.push(parseValueInfo(r.sub())); break;
      case 12: g.outputs.push(parseValueInfo(r.sub())); break;
      default: r.skip(wire);
    }
  }
  // In old IR versions initializers are also listed as graph inputs.
  g.inputs = g.inputs.filter((v) => !g.initializers.has(v.name));
  return g;
}

/** Parse ONNX model bytes (Uint8Array). Returns { irVersion, producer, opsets, graph }. */
export function parseOnnx(bytes) {
  if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
  const r = new Reader(bytes);
  const m = { irVersion: 0, producer: '', opsets: {}, graph: null };
  for (const [field, wire] of r.fields()) {
    switch (field) {
      case 1: m.irVersion = r.int64(); break;
      case 2: m.producer = r.string(); break;
      case 7: m.graph = parseGraph(r.sub()); break;
      case 8: {
        const s = r.sub();
        let domain = '', version = 0;
        for (const [f, w] of s.fields()) {
          if (f === 1) domain = s.string();
          else if (f === 2) version = s.int64();
          else s.skip(w);
        }
        m.opsets[domain] = version;
        break;
      }
      default: r.skip(wire);
    }
  }
  if (!m.graph) throw new Error('onnx: model has no graph');
  return m;
}
