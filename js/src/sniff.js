// What a buffer holds, so that errors say what to do: the signatures of the
// files people pass by mistake (an image as the model, a model as the image,
// a README, a Git LFS pointer) and a walk over the outermost fields of an
// ONNX ModelProto, which tells a truncated file by the length its fields
// promise. Only the top level is walked (a handful of fields, no copying):
// everything inside is the C reader's job.

const SIGNATURES = [
  [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'png', 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'jpeg', 'a JPEG image'],
  [[0x47, 0x49, 0x46, 0x38], 'gif', 'a GIF image'],
  [[0x52, 0x49, 0x46, 0x46, -1, -1, -1, -1, 0x57, 0x45, 0x42, 0x50], 'webp', 'a WebP image'],
  [[0x42, 0x4d], 'bmp', 'a BMP image'],
  [[0x50, 0x4b, 0x03, 0x04], 'zip', 'a ZIP archive (a PyTorch .pt/.pth checkpoint is one: export the model to ONNX)'],
  [[0x1f, 0x8b], 'gzip', 'a gzip file (decompress it first)'],
  [[0x00, 0x61, 0x73, 0x6d], 'wasm', 'a WebAssembly module'],
  [[0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'npy', 'a NumPy .npy file'],
  [[0x25, 0x50, 0x44, 0x46], 'pdf', 'a PDF document'],
];

/** {type, what} of the file signature `bytes` start with, or null. */
export function fileSignature(bytes) {
  for (const [magic, type, what] of SIGNATURES) {
    if (bytes.length >= magic.length && magic.every((b, i) => b < 0 || bytes[i] === b)) return { type, what };
  }
  return null;
}

/** The first line of `bytes` when their start is UTF-8 text (no control bytes but tab, CR, LF), else null. */
export function textStart(bytes) {
  const n = Math.min(bytes.length, 512);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b >= 0x20 && b < 0x7f) continue;
    if (b === 0x09 || b === 0x0a || b === 0x0d) continue;
    // a UTF-8 sequence: lead byte, then 1-3 continuation bytes (may run past n)
    const more = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (more < 0) return null;
    for (let k = 1; k <= more; k++) {
      if (i + k < bytes.length && (bytes[i + k] & 0xc0) !== 0x80) return null;
    }
    i += more;
  }
  let end = 0;
  while (end < n && bytes[end] !== 0x0a && bytes[end] !== 0x0d) end++;
  const line = new TextDecoder().decode(bytes.subarray(0, Math.min(end, 60))).trim();
  return line.length < end ? `${line}…` : line;
}

// ModelProto's fields and their wire types (0 varint, 2 length-delimited).
const MODEL_FIELDS = {
  1: ['ir_version', 0], 2: ['producer_name', 2], 3: ['producer_version', 2], 4: ['domain', 2], 5: ['model_version', 0],
  6: ['doc_string', 2], 7: ['graph', 2], 8: ['opset_import', 2], 14: ['metadata_props', 2], 20: ['training_info', 2],
  25: ['functions', 2],
};
const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'start-group', 'end-group', '32-bit'];

function varint(bytes, pos) {
  let v = 0;
  for (let shift = 0; shift < 64; shift += 7) {
    if (pos >= bytes.length) return null;
    const b = bytes[pos++];
    v += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return [v, pos];
  }
  return null;
}

/**
 * Walk the outermost protobuf fields. Returns null when they fit the bytes
 * exactly, else {byte, problem, truncated?: {have, need}}. A truncation is
 * reported only when every field before it is a ModelProto field of the
 * right type (random bytes that promise a long field are not "truncated").
 */
export function walkModel(bytes) {
  let pos = 0;
  let plausible = true;
  while (pos < bytes.length) {
    const start = pos;
    const key = varint(bytes, pos);
    if (!key) return { byte: start, problem: 'the file ends inside a field key' };
    const [k, after] = key;
    const field = Math.floor(k / 8);
    const wire = k % 8;
    if (field === 0) return { byte: start, problem: 'invalid field number 0' };
    if (wire === 3 || wire === 4 || wire > 5) {
      return { byte: start, problem: `field ${field} uses wire type ${wire} (${WIRE_NAMES[wire] || 'invalid'})` };
    }
    const known = MODEL_FIELDS[field];
    const name = known ? ` (${known[0]})` : '';
    pos = after;
    let need;
    if (wire === 0) {
      const v = varint(bytes, pos);
      if (!v) return { byte: start, problem: `field ${field}${name} ends inside its value` };
      pos = v[1];
    } else if (wire === 1 || wire === 5) {
      need = pos + (wire === 1 ? 8 : 4);
    } else {
      const len = varint(bytes, pos);
      if (!len) return { byte: start, problem: `field ${field}${name} ends inside its length` };
      need = len[1] + len[0];
      pos = len[1];
    }
    plausible &&= Boolean(known) && known[1] === wire;
    if (need !== undefined) {
      if (need > bytes.length) {
        const problem = `field ${field}${name} at byte ${start} needs ${need - pos} bytes, ${bytes.length - pos} are left`;
        return plausible ? { byte: start, problem, truncated: { have: bytes.length, need } } : { byte: start, problem };
      }
      pos = need;
    }
  }
  return null;
}

/**
 * Why `bytes` cannot be an ONNX model, as a sentence, or null when their
 * outer structure is sound (the C reader then checks the rest).
 */
export function modelProblem(bytes) {
  const walk = walkModel(bytes);
  if (!walk) return null;
  const sig = fileSignature(bytes);
  if (sig) return `not an ONNX model: this is ${sig.what}`;
  const text = textStart(bytes);
  if (text !== null) {
    if (text.startsWith('version https://git-lfs')) {
      return 'not an ONNX model: this is a Git LFS pointer file; fetch the real file (git lfs pull)';
    }
    return `not an ONNX model: this is text ("${text}")`;
  }
  if (walk.truncated) {
    const { have, need } = walk.truncated;
    return `truncated ONNX file: ${have} of at least ${need} bytes (${walk.problem}); download or copy it again`;
  }
  return `not an ONNX model (byte ${walk.byte}: ${walk.problem})`;
}
