// node js/scripts/prepare-dist.mjs — fills js/dist/ for `npm pack` (runs as `prepack`).
// Progress goes to stderr: `npm pack --json` prints its JSON on stdout after prepack.
//
// - js/dist/mnasnet.wasm, mnasnet-relaxed.wasm, mnasnet-scalar.wasm and the threaded
//   mnasnet-threads.wasm, mnasnet-threads-relaxed.wasm: built there by `make wasm`; must exist.
// - the SDK (src/) bundled three times, one module each, so that an import
//   reads and compiles one file instead of eight (in Node each module costs
//   about half a millisecond of a cold start):
//     dist/mnasnet.js       ES module for browsers, workers and bundlers (the
//                           package's default export): no `node:` import at all;
//                           in Node 20.16+/22.3+ it still reads files through
//                           process.getBuiltinModule
//     dist/mnasnet.node.js  ES module for Node (export condition "node")
//     dist/mnasnet.cjs      CommonJS for require() on every Node of `engines`,
//                           with no need for require(esm); dist/mnasnet.d.cts types it
//   The Node builds have src/platform-node.js in place of src/platform.js.
//   In all three the packaged files are `new URL('./file', import.meta.url)`:
//   beside the bundle (src/ says '../dist/file').
// - js/dist/mnasnet_a1_cifar10.onnx, the default model: copied from
//   models/mnasnet_a1_cifar10.onnx at the repo root (packed: fp16, labels,
//   preprocessing metadata).
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const jsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(jsDir, '..');
const dist = resolve(jsDir, 'dist');
const MODEL = 'mnasnet_a1_cifar10.onnx';
const exists = (p) => stat(p).then(() => true, () => false);

// Tests run `npm pack` (so this script) while other tests read dist/: a file
// is replaced by a rename, never rewritten in place, and only when it changes.
async function publish(path, contents) {
  const bytes = Buffer.from(contents);
  const old = await readFile(path).catch(() => null);
  if (old && old.equals(bytes)) return;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}
async function bundle(options) {
  const { outputFiles } = await esbuild.build({ ...options, write: false });
  for (const f of outputFiles) await publish(f.path, f.contents);
}

for (const f of ['mnasnet.wasm', 'mnasnet-relaxed.wasm', 'mnasnet-scalar.wasm', 'mnasnet-threads.wasm', 'mnasnet-threads-relaxed.wasm']) {
  if (!(await exists(resolve(dist, f)))) {
    console.error(`prepare-dist: ${resolve(dist, f)} is missing; run \`make wasm\` first`);
    process.exit(1);
  }
}

const esbuild = await import('esbuild').catch(() => null);
if (!esbuild) {
  console.error('prepare-dist: esbuild is missing; run `npm ci` at the repository root');
  process.exit(1);
}

// src/loader.js names the packaged files '../dist/<file>'; a bundle sits in dist/.
const ASSET_PATH = /new URL\('\.\.\/dist\/([\w.-]+)', import\.meta\.url\)/g;
const ASSETS = 6; // the five .wasm builds and the default model
const loaderPath = resolve(jsDir, 'src/loader.js');
const assetsBesideBundle = {
  name: 'assets-beside-bundle',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]loader\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const n = [...text.matchAll(ASSET_PATH)].length;
      if (n !== ASSETS) throw new Error(`${loaderPath}: ${n} packaged-file URLs, expected ${ASSETS}`);
      return { contents: text.replace(ASSET_PATH, "new URL('./$1', import.meta.url)"), loader: 'js' };
    });
  },
};
const nodePlatform = {
  name: 'node-platform',
  setup(build) {
    build.onResolve({ filter: /^\.\/platform\.js$/ }, () => ({ path: resolve(jsDir, 'src/platform-node.js') }));
  },
};

const common = { entryPoints: [resolve(jsDir, 'src/index.js')], bundle: true, logLevel: 'error', legalComments: 'none' };
await bundle({ ...common, outfile: resolve(dist, 'mnasnet.js'), format: 'esm', platform: 'neutral', plugins: [assetsBesideBundle] });
await bundle({
  ...common, outfile: resolve(dist, 'mnasnet.node.js'), format: 'esm', platform: 'node', target: 'node18',
  plugins: [assetsBesideBundle, nodePlatform],
});
await bundle({
  ...common, outfile: resolve(dist, 'mnasnet.cjs'), format: 'cjs', platform: 'node', target: 'node18',
  plugins: [assetsBesideBundle, nodePlatform],
  // import.meta.url in CommonJS: this file's URL
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// The declarations once more for require(): a .d.cts is read as CommonJS.
await publish(resolve(dist, 'mnasnet.d.cts'), await readFile(resolve(jsDir, 'index.d.ts')));

// The browser build must not name a Node module: bundlers would try to resolve it.
const browser = await readFile(resolve(dist, 'mnasnet.js'), 'utf8');
const nodeImport = /\b(?:import|require)\s*\(?\s*['"]node:/.exec(browser);
if (nodeImport) {
  console.error(`prepare-dist: dist/mnasnet.js imports a Node module (${nodeImport[0]})`);
  process.exit(1);
}
console.error('prepare-dist: bundled src/ -> dist/mnasnet.js, dist/mnasnet.node.js, dist/mnasnet.cjs (+ dist/mnasnet.d.cts)');

const shipped = resolve(root, 'models', MODEL);
if (await exists(shipped)) {
  await publish(resolve(dist, MODEL), await readFile(shipped));
  console.error(`prepare-dist: copied ${shipped}`);
} else {
  // The package ships the packed model of models/ (fp16 weights, labels and
  // preprocessing metadata; models/README.md says how it was made).
  console.error(`prepare-dist: ${shipped} is missing; restore it (git checkout models/) or make it as models/README.md says`);
  process.exit(1);
}
