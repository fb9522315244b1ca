// The TensorFlow/Keras and PyTorch export shapes of tests/fixtures/patterns
// (written by tests/unit/test_patterns.c: final Softmax, channels-last input,
// Pad, decomposed hard activations, Rescaling, per-channel affine ops, SE on
// 1x1 maps, pooled-vector reshapes, int8 weights) and the int8 default
// model, run by the SDK and by ONNX Runtime on the same input: the same
// outputs within 1e-4 relative.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { MnasNet } from '../../js/src/index.js';
import { ROOT, TESTDATA, VARIANTS, describeIf, maxRelDiff, missing, readNpy, wasmMissing } from './helpers.mjs';

const require = createRequire(import.meta.url);
let ort = null;
let ortMissing = null;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  ortMissing = `onnxruntime-node cannot be loaded (${e.message})`;
}

const FIXTURES = resolve(ROOT, 'tests/fixtures/patterns');
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx')).sort();

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

async function ortRun(bytes, x, dims) {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, dims) });
  return out[session.outputNames[0]].data;
}

describeIf(describe, wasmMissing() || ortMissing, 'export patterns against ONNX Runtime', () => {
  test('every pattern fixture is there', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
  });

  for (const file of fixtures) {
    test(`${file}: the SDK's output is ONNX Runtime's`, async () => {
      const bytes = readFileSync(resolve(FIXTURES, file));
      const diffs = [];
      for (const wasm of VARIANTS) {
        const net = await MnasNet.load(bytes, { wasm });
        const { height: h, width: w, channels: c } = net.info.inputSize;
        const x = input(h * w * c, file.startsWith('rescale') || file === 'keras_all.onnx');
        // the tensor in the layout the model declares, for both engines
        const dims = net.info.inputLayout === 'NHWC' ? [1, h, w, c] : [1, c, h, w];
        expect(net.info.inputLayout).toBe(file.includes('nhwc') || file === 'keras_all.onnx' ? 'NHWC' : 'NCHW');
        const r = net.run(x, { topK: 3 });
        const want = await ortRun(bytes, x, dims);
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
    const bytes = readFileSync(resolve(ROOT, 'models/mnasnet_a1_cifar10.onnx'));
    const { shape, data } = readNpy(refs);
    const per = shape[1] * shape[2] * shape[3];
    const net = await MnasNet.load(bytes);
    let worst = 0;
    for (let r = 0; r < shape[0]; r++) {
      const x = data.slice(r * per, (r + 1) * per);
      const got = net.run(x).logits;
      const want = await ortRun(bytes, x, [1, shape[1], shape[2], shape[3]]);
      worst = Math.max(worst, maxRelDiff(got, want));
    }
    net.dispose();
    console.log(`int8 default model: ${shape[0]} rows, max relative difference to ONNX Runtime ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});
