// The SDK's view of the C ABI (js/src/abi.js) against what each .wasm was
// built with (mnas_wasm_abi: offsetof/sizeof computed by the compiler), the
// compile-time assertions of src/wasm/abi.c, and the limits of src/mnas.h;
// and the SDK's limit errors quote the module's limits.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LAYOUT, LIMIT_NAMES, compareAbi, readAbiTable } from '../../js/src/abi.js';
import { MnasNet, MnasNetError } from '../../js/src/index.js';
import { getModule, instantiate } from '../../js/src/loader.js';
import { kInternals } from '../../js/src/mnasnet.js';
import { JS, ROOT, VARIANTS, describeIf, leb128, wasmMissing } from './helpers.mjs';

const header = readFileSync(resolve(ROOT, 'src/mnas.h'), 'utf8');
const abiC = readFileSync(resolve(ROOT, 'src/wasm/abi.c'), 'utf8');

/** Value of a MNAS_MAX_* macro of mnas.h: N, ((size_t)N << M) or ((int64_t)N << M). */
function headerLimit(name) {
  const m = new RegExp(`#define\\s+${name}\\s+(.+?)\\s*(/\\*.*)?$`, 'm').exec(header);
  if (!m) throw new Error(`${name} is not in src/mnas.h`);
  const text = m[1].trim();
  let v;
  if ((v = /^\d+$/.exec(text))) return Number(v[0]);
  if ((v = /^\(\((?:size_t|int64_t)\)(\d+)\s*<<\s*(\d+)\)$/.exec(text))) return Number(v[1]) * 2 ** Number(v[2]);
  throw new Error(`${name}: cannot read '${text}'`);
}

/** name -> number of every X("name", expr, N) line in src/wasm/abi.c ('.x' continues the group). */
function staticAsserts() {
  const out = {};
  let group = '';
  for (const [, raw, n] of abiC.matchAll(/^\s*X\("([^"]+)",\s*[^\n]*?,\s*(\d+)\)/gm)) {
    let name = raw;
    if (name[0] === '.') name = group + name;
    else group = name.slice(0, name.indexOf('.'));
    out[name] = Number(n);
  }
  return out;
}

async function tableOf(variant) {
  const { exports, mem } = await instantiate(await getModule(variant));
  return readAbiTable(exports, mem);
}

test('src/wasm/abi.c asserts exactly the numbers of js/src/abi.js', () => {
  const asserted = staticAsserts();
  expect(Object.keys(asserted).length).toBeGreaterThan(40);
  expect(asserted).toEqual(LAYOUT);
});

describeIf(describe, wasmMissing(), 'the module table', () => {
  for (const variant of VARIANTS) {
    test(`${variant}: offsets, sizes and enums equal abi.js; limits equal src/mnas.h`, async () => {
      const table = await tableOf(variant);
      expect(table).not.toBeNull();
      const layout = Object.fromEntries([...table].filter(([name]) => !LIMIT_NAMES.includes(name)));
      expect(layout).toEqual(LAYOUT);
      expect(compareAbi(table)).toEqual([]);
      for (const name of LIMIT_NAMES) expect([name, table.get(name)]).toEqual([name, headerLimit(name)]);
      expect(table.size).toBe(Object.keys(LAYOUT).length + LIMIT_NAMES.length);
    });
  }

  test('compareAbi names a field that moved', async () => {
    const table = await tableOf('scalar');
    table.set('layer.kh', 40);
    table.delete('MNAS_MAX_IMAGE_SIDE');
    expect(compareAbi(table)).toEqual(['layer.kh: 40 in the .wasm, 36 in the SDK', 'MNAS_MAX_IMAGE_SIDE: missing from the .wasm']);
  });
});

// A hand-made module that exports memory and an mnas_wasm_abi returning a
// table (the real one, with `edit` applied): the SDK must refuse it by name
// before it calls anything else.
function fakeModule(table) {
  const leb = leb128;
  const sleb = (n) => {
    const out = [];
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
      out.push(b | 0x80);
    }
  };
  const str = (s) => [...leb(s.length), ...Buffer.from(s)];
  const section = (id, body) => [id, ...leb(body.length), ...body];
  const base = 1024;
  const names = Buffer.from([...table.keys()].map((k) => `${k}\0`).join(''));
  const values = Buffer.from(new Uint32Array([...table.values()]).buffer);
  const header = Buffer.from(new Uint32Array([table.size, base + 12, base + 12 + names.length + (4 - (names.length % 4))]).buffer);
  const data = Buffer.concat([header, names, Buffer.alloc(4 - (names.length % 4)), values]);
  const body = [0x00, 0x41, ...sleb(base), 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 0, 1, 0x7f]), // type () -> i32
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]), // memory, 1 page
    ...section(7, [2, ...str('memory'), 2, 0, ...str('mnas_wasm_abi'), 0, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
    ...section(11, [1, 0, 0x41, ...sleb(base), 0x0b, ...leb(data.length), ...data]),
  ]);
}

describeIf(describe, wasmMissing(), 'a .wasm that does not match the SDK', () => {
  let tmp;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'mnasnet-abi-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('a moved field is refused with E_STATE naming it', async () => {
    const table = await tableOf('scalar');
    table.set('options.std', 16);
    const file = join(tmp, 'moved.wasm');
    writeFileSync(file, fakeModule(table));
    const e = await MnasNet.load(readFileSync(resolve(JS, 'dist/mnasnet_a1_cifar10.onnx')), { wasm: file }).catch((x) => x);
    expect(e).toBeInstanceOf(MnasNetError);
    expect(e.code).toBe('E_STATE');
    expect(e.message).toBe(
      "wasm: the module's structs differ from this SDK's (options.std: 16 in the .wasm, 12 in the SDK); " +
        'use the .wasm files of the same mnasnet-wasm release as this SDK',
    );
  });

  test('the unchanged table loads as far as the first engine call (so the check above is what refused)', async () => {
    const file = join(tmp, 'same.wasm');
    writeFileSync(file, fakeModule(await tableOf('scalar')));
    const e = await MnasNet.load(readFileSync(resolve(JS, 'dist/mnasnet_a1_cifar10.onnx')), { wasm: file }).catch((x) => x);
    expect(e).toBeInstanceOf(TypeError); // x.malloc is not a function: past the ABI check
    expect(e.message).toMatch(/malloc/);
  });
});

describeIf(describe, wasmMissing(), 'limit errors quote the C limits', () => {
  const side = headerLimit('MNAS_MAX_IMAGE_SIDE');
  const source = headerLimit('MNAS_MAX_SOURCE_SIZE');
  const modelBytes = headerLimit('MNAS_MAX_MODEL_BYTES');
  let bytes;
  beforeAll(() => {
    bytes = new Uint8Array(readFileSync(resolve(JS, 'dist/mnasnet_a1_cifar10.onnx')));
  });

  for (const wasm of VARIANTS) {
    test(`${wasm}: image side, source size and model size`, async () => {
      const net = await MnasNet.load(bytes, { wasm });
      try {
        expect(net[kInternals]().limits).toEqual({
          MNAS_MAX_IMAGE_SIDE: side, MNAS_MAX_SOURCE_SIZE: source, MNAS_MAX_MODEL_BYTES: modelBytes,
        });
        // at the limit: accepted by the SDK and the engine
        expect(net.classify({ data: new Uint8Array(side * 3).fill(90), width: side, height: 1 }).top).toHaveLength(5);
        let e;
        try {
          net.classify({ data: new Uint8Array((side + 1) * 3), width: 1, height: side + 1 });
        } catch (x) {
          e = x;
        }
        expect([e.code, e.message]).toEqual([
          'E_LIMIT', `classify: image size 1x${side + 1}; the limit is ${side} pixels a side (MNAS_MAX_IMAGE_SIDE)`,
        ]);
      } finally {
        net.dispose();
      }

      const atLimit = await MnasNet.load(bytes, { wasm, sourceSize: source });
      expect(atLimit.info.preprocessing.sourceSize).toBe(32); // the model's metadata wins over the option
      atLimit.dispose();
      let e = await MnasNet.load(bytes, { wasm, sourceSize: source + 1 }).catch((x) => x);
      expect([e.code, e.message]).toEqual([
        'E_LIMIT', `options.sourceSize: ${source + 1}; the limit is ${source} (MNAS_MAX_SOURCE_SIZE)`,
      ]);

      e = await MnasNet.load(new Uint8Array(modelBytes + 1), { wasm }).catch((x) => x);
      expect([e.code, e.message]).toEqual([
        'E_LIMIT', `model: ${modelBytes + 1} bytes; the limit is ${modelBytes} bytes (MNAS_MAX_MODEL_BYTES)`,
      ]);
    });
  }
});
