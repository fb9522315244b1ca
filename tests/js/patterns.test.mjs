// The TensorFlow/Keras and PyTorch export shapes of tests/fixtures/patterns
// (written by tests/unit/test_patterns.c: final Softmax, channels-last input,
// Pad, decomposed hard activations, Rescaling, per-channel affine ops, SE on
// 1x1 maps, pooled-vector reshapes, int8 weights) and the int8 default
// model, run by the SDK and by ONNX Runtime on the same input: the same
// outputs within 1e-4 relative.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MnasNet } from '../../js/src/index.js';
import { ROOT, TESTDATA, VARIANTS, describeIf, maxRelDiff, missing, readNpy, wasmMissing } from './helpers.mjs';

const FIXTURES = resolve(ROOT, 'tests/fixtures/patterns');
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx')).sort();
const NHWC = new Set(['nhwc_input.onnx', 'rescale_nhwc_keras.onnx', 'keras_all.onnx']);
const ortMissing = existsSync(resolve(ROOT, 'node_modules/onnxruntime-node')) ? null : 'onnxruntime-node is not installed';

// ONNX Runtime runs in a Node process of its own: under Jest's module
// sandbox its native binding rejects the sandbox's typed arrays.
const ORT_SCRIPT = `
const ort = require('onnxruntime-node');
let text = '';
process.stdin.on('data', (d) => (text += d));
process.stdin.on('end', async () => {
  const out = [];
  for (const job of JSON.parse(text)) {
    const session = await ort.InferenceSession.create(job.model);
    const b = Buffer.from(job.input, 'base64');
    const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
    const r = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, job.dims) });
    out.push(Array.from(r[session.outputNames[0]].data));
  }
  process.stdout.write(JSON.stringify(out));
});`;

/** ONNX Runtime's outputs for [{model (path), input (Float32Array), dims}]. */
function ortRun(jobs) {
  const input = JSON.stringify(
    jobs.map((j) => ({ model: j.model, dims: j.dims, input: Buffer.from(j.input.buffer, j.input.byteOffset, j.input.byteLength).toString('base64') })),
  );
  const text = execFileSync(process.execPath, ['-e', ORT_SCRIPT], { input, cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(text).map((a) => Float32Array.from(a));
}

// Deterministic input: raw 0..255 pixels for the models that rescale them, else about -2..2.
function input(n, raw) {
  const x = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = (s >>> 8) / 16777216;
    x[i] = raw ? 255 * u : 4 * (u - 0.5);
  }
  return x;
}

describeIf(describe, wasmMissing() || ortMissing, 'export patterns against ONNX Runtime', () => {
  test('every pattern fixture is there', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
  });

  // every fixture through ONNX Runtime once: its input size from the SDK's view of the model
  const jobs = [];
  const ort = {};
  beforeAll(async () => {
    for (const file of fixtures) {
      const net = await MnasNet.load(readFileSync(resolve(FIXTURES, file)), { wasm: 'scalar' });
      const { height: h, width: w, channels: c } = net.info.inputSize;
      const nhwc = net.info.inputLayout === 'NHWC';
      net.dispose();
      const x = input(h * w * c, file.startsWith('rescale') || file === 'keras_all.onnx');
      jobs.push({ file, model: resolve(FIXTURES, file), input: x, dims: nhwc ? [1, h, w, c] : [1, c, h, w] });
    }
    ortRun(jobs).forEach((o, i) => (ort[jobs[i].file] = o));
  });

  for (const file of fixtures) {
    test(`${file}: the SDK's output is ONNX Runtime's`, async () => {
      const bytes = readFileSync(resolve(FIXTURES, file));
      const job = jobs.find((j) => j.file === file);
      const want = ort[file];
      const diffs = [];
      for (const wasm of VARIANTS) {
        const net = await MnasNet.load(bytes, { wasm });
        expect(net.info.inputLayout).toBe(NHWC.has(file) ? 'NHWC' : 'NCHW');
        // run() takes the tensor in the layout the model declares, as ONNX Runtime does
        const r = net.run(job.input, { topK: 3 });
        expect(r.logits.length).toBe(want.length);
        const d = maxRelDiff(r.logits, want);
        diffs.push(`${wasm} ${d.toExponential(1)}`);
        expect(d).toBeLessThanOrEqual(1e-4);
        if (file.startsWith('softmax')) {
          expect(net.info.output).toBe('probabilities');
          // top reports the model's probabilities, not a softmax of them
          for (const p of r.top) expect(p.probability).toBe(r.logits[p.index]);
        } else {
          expect(net.info.output).toBe('logits');
        }
        net.dispose();
      }
      console.log(`${file}: max relative difference to ONNX Runtime ${diffs.join(', ')}`);
    });
  }

  const refs = resolve(TESTDATA, 'models/refs/mnasnet_a1_cifar10/input.npy');
  (missing(refs) ? test.skip : test)('the int8 default model: the same logits as ONNX Runtime on the reference rows', async () => {
    const model = resolve(ROOT, 'models/mnasnet_a1_cifar10.onnx');
    const { shape, data } = readNpy(refs);
    const per = shape[1] * shape[2] * shape[3];
    const rows = Array.from({ length: shape[0] }, (_, r) => data.slice(r * per, (r + 1) * per));
    const want = ortRun(rows.map((x) => ({ model, input: x, dims: [1, shape[1], shape[2], shape[3]] })));
    const net = await MnasNet.load(readFileSync(model));
    let worst = 0;
    rows.forEach((x, r) => (worst = Math.max(worst, maxRelDiff(net.run(x).logits, want[r]))));
    net.dispose();
    console.log(`int8 default model: ${shape[0]} rows, max relative difference to ONNX Runtime ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});
