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

test('package.json: name, ESM, exports, types, files, no runtime dependencies, jpeg-js an optional peer', () => {
  expect(pkg.name).toBe('mnasnet-wasm');
  expect(pkg.type).toBe('module');
  expect(pkg.exports['.'].types).toBe('./index.d.ts');
  expect(pkg.types).toBe('./index.d.ts');
  // Node: an ES module and a CommonJS build (require() without require(esm)), each typed
  expect(pkg.exports['.'].node).toEqual({
    import: { types: './index.d.ts', default: './dist/mnasnet.node.js' },
    require: { types: './dist/mnasnet.d.cts', default: './dist/mnasnet.cjs' },
  });
  expect(pkg.main).toBe('./dist/mnasnet.cjs');
  expect(pkg.engines.node).toBe('>=18');
  for (const f of Object.values(pkg.exports['.'].node).map((c) => c.default)) expect(pkg.files).toContain(f.slice(2));
  expect(pkg.files).toEqual(expect.arrayContaining(['dist/mnasnet.wasm', 'dist/mnasnet-relaxed.wasm', 'dist/mnasnet-scalar.wasm']));
  expect(pkg.dependencies).toBeUndefined();
  // one optional peer: jpeg-js decodes JPEG files in Node, and nothing breaks without it
  expect(pkg.peerDependencies).toEqual({ 'jpeg-js': expect.any(String) });
  expect(pkg.peerDependenciesMeta).toEqual({ 'jpeg-js': { optional: true } });
  // the root's devDependency, with which the tests decode, is a version the peer range allows
  const dev = JSON.parse(readFileSync(resolve(JS, '../node_modules/jpeg-js/package.json'), 'utf8')).version;
  expect(dev).toMatch(/^0\.4\.(\d+)$/);
  expect(Number(dev.split('.')[2])).toBeGreaterThanOrEqual(4);
});

(wasmMissing() ? test.skip : test)('the .wasm reports the same version', async () => {
  for (const wasm of VARIANTS) {
    const net = await MnasNet.load(undefined, { wasm });
    expect(net.info.version).toBe(cVersion);
    net.dispose();
  }
});

(wasmMissing() ? test.skip : test)('the package entries are bundles of src/, current and with the same exports', async () => {
  const { statSync, readdirSync, readFileSync: read } = await import('node:fs');
  const { createRequire } = await import('node:module');
  const src = await import('../../js/src/index.js');
  const newest = Math.max(...readdirSync(resolve(JS, 'src')).map((f) => statSync(resolve(JS, 'src', f)).mtimeMs));
  const entries = { default: pkg.exports['.'].default, node: pkg.exports['.'].node.import.default, cjs: pkg.main };
  for (const [name, file] of Object.entries(entries)) {
    const entry = resolve(JS, file);
    // built from the sources as they are now (make wasm re-bundles)
    expect([name, statSync(entry).mtimeMs >= newest]).toEqual([name, true]);
    const bundle = name === 'cjs' ? createRequire(import.meta.url)(entry) : await import(entry);
    expect(Object.keys(bundle).sort()).toEqual(Object.keys(src).sort());
    expect(bundle.VERSION).toBe(VERSION);
    const net = await bundle.MnasNet.load();
    expect([name, net.info.backend]).toEqual([name, BACKEND[VARIANTS[0]]]); // auto: the fastest build this Node compiles
    net.dispose();
  }
  // the browser build names no Node module; the Node builds find the files beside themselves
  expect(read(resolve(JS, entries.default), 'utf8')).not.toMatch(/\b(import|require)\s*\(?\s*['"]node:/);
  for (const file of Object.values(entries)) expect(read(resolve(JS, file), 'utf8')).not.toMatch(/\.\.\/dist\//);
});
