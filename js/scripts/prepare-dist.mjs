// node js/scripts/prepare-dist.mjs — fills js/dist/ for `npm pack` (runs as `prepack`).
// Progress goes to stderr: `npm pack --json` prints its JSON on stdout after prepack.
//
// - js/dist/mnasnet.wasm, mnasnet-relaxed.wasm, mnasnet-scalar.wasm and the threaded
//   mnasnet-threads.wasm, mnasnet-threads-relaxed.wasm: built there by `make wasm`; must exist.
// - js/dist/mnasnet.js: src/ bundled into the one module the package exports.
// - js/dist/mnasnet_a1_cifar10.onnx, the default model: copied from
//   models/mnasnet_a1_cifar10.onnx at the repo root (packed: fp16, labels,
//   preprocessing metadata); when that is absent (a bare checkout), it is
//   packed here (fp16 weights + labels + preprocessing metadata) from
//   $MNAS_TESTDATA/models/mnasnet_a1_cifar10.onnx with the wasm's own mnas_pack.
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getModule, instantiate } from '../src/loader.js';

const jsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(jsDir, '..');
const dist = resolve(jsDir, 'dist');
const MODEL = 'mnasnet_a1_cifar10.onnx';
const LABELS = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const exists = (p) => stat(p).then(() => true, () => false);

for (const f of ['mnasnet.wasm', 'mnasnet-relaxed.wasm', 'mnasnet-scalar.wasm', 'mnasnet-threads.wasm', 'mnasnet-threads-relaxed.wasm']) {
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
  external: ['node:fs', 'node:os', 'node:worker_threads'], // loaded only in Node, at run time
  logLevel: 'error',
});
console.error('prepare-dist: bundled src/ -> dist/mnasnet.js');

const shipped = resolve(root, 'models', MODEL);
if (await exists(shipped)) {
  await copyFile(shipped, resolve(dist, MODEL));
  console.error(`prepare-dist: copied ${shipped}`);
} else {
  const testdata = resolve(root, process.env.MNAS_TESTDATA || '../shared');
  const src = resolve(testdata, 'models/mnasnet_a1_cifar10.onnx');
  if (!(await exists(src))) {
    console.error(`prepare-dist: neither ${shipped} nor ${src} exists; cannot provide the default model`);
    process.exit(1);
  }
  const onnx = await readFile(src);
  const { exports: x, mem } = await instantiate(await getModule('scalar'));
  // mnas_pack_options (wasm32): labels_json*, mean*, std*, int source_size, int fp16.
  const labels = new TextEncoder().encode(JSON.stringify(LABELS) + '\0');
  const bytes = 20 + 12 + 12 + 8 + 256 + labels.length;
  const base = x.malloc(bytes);
  const input = x.malloc(onnx.length);
  const [opt, mean, std, outs, err, lab] = [base, base + 20, base + 32, base + 44, base + 52, base + 308];
  const v = mem();
  v.u8.fill(0, base, base + bytes);
  v.u8.set(labels, lab);
  v.f32.set([0.485, 0.456, 0.406], mean >> 2);
  v.f32.set([0.229, 0.224, 0.225], std >> 2);
  v.u32.set([lab, mean, std, 32, 1], opt >> 2);
  v.u8.set(onnx, input);
  const st = x.mnas_pack(input, onnx.length, opt, outs, outs + 4, err, 256);
  const w = mem();
  if (st) {
    const msg = new TextDecoder().decode(w.u8.subarray(err, w.u8.indexOf(0, err)));
    console.error(`prepare-dist: mnas_pack failed (${st}): ${msg}`);
    process.exit(1);
  }
  const [out, len] = [w.u32[outs >> 2], w.u32[(outs >> 2) + 1]];
  await writeFile(resolve(dist, MODEL), w.u8.slice(out, out + len));
  console.error(`prepare-dist: packed ${src} -> dist/${MODEL} (${len} bytes)`);
}
