// One version everywhere: MNAS_VERSION (src/mnas.h) = js/package.json = VERSION
// export = what the built .wasm reports. Plus package.json invariants.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MnasNet, VERSION } from '../../js/src/index.js';
import { BACKEND, JS, ROOT, VARIANTS, wasmMissing } from './helpers.mjs';

const header = readFileSync(resolve(ROOT, 'src/mnas.h'), 'utf8');
const cVersion = /#define\s+MNAS_VERSION\s+"([^"]+)"/.exec(header)[1];
const pkg = JSON.parse(readFileSync(resolve(JS, 'package.json'), 'utf8'));

test('package.json version and VERSION equal MNAS_VERSION in src/mnas.h', () => {
  expect(pkg.version).toBe(cVersion);
  expect(VERSION).toBe(cVersion);
});

test('package.json: name, ESM, exports, types, files, no runtime dependencies', () => {
  expect(pkg.name).toBe('mnasnet-wasm');
  expect(pkg.type).toBe('module');
  expect(pkg.exports['.'].types).toBe('./index.d.ts');
  expect(pkg.types).toBe('./index.d.ts');
  expect(pkg.files).toEqual(expect.arrayContaining(['dist/mnasnet.wasm', 'dist/mnasnet-relaxed.wasm', 'dist/mnasnet-scalar.wasm']));
  expect(pkg.dependencies).toBeUndefined();
  expect(pkg.peerDependencies).toBeUndefined();
});

(wasmMissing() ? test.skip : test)('the .wasm reports the same version', async () => {
  for (const wasm of VARIANTS) {
    const net = await MnasNet.load(undefined, { wasm });
    expect(net.info.version).toBe(cVersion);
    net.dispose();
  }
});

(wasmMissing() ? test.skip : test)('the package entry is the bundle of src/, current and with the same exports', async () => {
  const entry = resolve(JS, pkg.exports['.'].default);
  expect(pkg.main).toBe(pkg.exports['.'].default);
  const src = await import('../../js/src/index.js');
  const bundle = await import(entry);
  expect(Object.keys(bundle).sort()).toEqual(Object.keys(src).sort());
  expect(bundle.VERSION).toBe(VERSION);
  // built from the sources as they are now (make wasm re-bundles)
  const { statSync, readdirSync } = await import('node:fs');
  const newest = Math.max(...readdirSync(resolve(JS, 'src')).map((f) => statSync(resolve(JS, 'src', f)).mtimeMs));
  expect(statSync(entry).mtimeMs).toBeGreaterThanOrEqual(newest);
  const net = await bundle.MnasNet.load();
  expect(net.info.backend).toBe(BACKEND[VARIANTS[0]]); // auto: the fastest build this Node compiles
  net.dispose();
});
