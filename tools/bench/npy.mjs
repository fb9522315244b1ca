// Minimal .npy reader (little-endian float32 / uint8 / int64, C order). Isomorphic.
export function parseNpy(bytes) {
  if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new Error('npy: bad magic');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (fortran) throw new Error('npy: fortran order not supported');
  const off = hstart + hlen;
  const body = Uint8Array.prototype.slice.call(bytes, off).buffer; // aligned copy (Buffer#slice would be a view)
  const Ctor = { '<f4': Float32Array, '|u1': Uint8Array, '<i8': BigInt64Array, '<f8': Float64Array, '<i4': Int32Array }[descr];
  if (!Ctor) throw new Error(`npy: dtype ${descr} not supported`);
  return { shape, dtype: descr, data: new Ctor(body) };
}
