// node js/scripts/prepare-dist.mjs — fills js/dist/ for `npm pack` (runs as `prepack`).
// Progress goes to stderr: `npm pack --json` prints its JSON on stdout after prepack.
//
// - js/dist/mnasnet.wasm, mnasnet-relaxed.wasm, mnasnet-scalar.wasm: built there by `make wasm`; must exist.
// - js/dist/mnasnet.js: src/ bundled into the one module the package exports.
// - js/dist/mnasnet_a1_cifar10.onnx, the default model: copied from
//   models/mnasnet_a1_cifar10.onnx at the repo root (packed: fp16, labels,
//   preprocessing metadata).
import { copyFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const jsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(jsDir, '..');
const dist = resolve(jsDir, 'dist');
const MODEL = 'mnasnet_a1_cifar10.onnx';
const exists = (p) => stat(p).then(() => true, () => false);

for (const f of ['mnasnet.wasm', 'mnasnet-relaxed.wasm', 'mnasnet-scalar.wasm']) {
  if (!(await exists(resolve(dist, f)))) {
    console.error(`prepare-dist: ${resolve(dist, f)} is missing; run \`make wasm\` first`);
    process.exit(1);
  }
}

// dist/mnasnet.js, the package entry: the modules of src/ as one ES module,
// so an import reads and compiles one file instead of four (in Node each
// module costs about half a millisecond of a cold start). src/ stays the
// source the tests run; the package test runs the bundle.
const esbuild = await import('esbuild').catch(() => null);
if (!esbuild) {
  console.error('prepare-dist: esbuild is missing; run `npm ci` at the repository root');
  process.exit(1);
}
await esbuild.build({
  entryPoints: [resolve(jsDir, 'src/index.js')],
  outfile: resolve(dist, 'mnasnet.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  external: ['node:fs'], // loaded only in Node, at run time
  logLevel: 'error',
});
console.error('prepare-dist: bundled src/ -> dist/mnasnet.js');

const shipped = resolve(root, 'models', MODEL);
if (await exists(shipped)) {
  await copyFile(shipped, resolve(dist, MODEL));
  console.error(`prepare-dist: copied ${shipped}`);
} else {
  // The package ships the packed model of models/ (fp16 weights, labels and
  // preprocessing metadata; models/README.md says how it was made).
  console.error(`prepare-dist: ${shipped} is missing; restore it (git checkout models/) or make it as models/README.md says`);
  process.exit(1);
}
