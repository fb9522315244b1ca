// The SDK reproduces PyTorch's reference logits and SE gates for every model
// in $MNAS_TESTDATA/models, with the relaxed-SIMD, SIMD and scalar .wasm.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MnasNet } from '../../js/src/index.js';
import { BACKEND, TESTDATA, VARIANTS, describeIf, maxAbsDiff, maxRelDiff, missing, readNpy, wasmMissing } from './helpers.mjs';

const LOGIT_TOL = 1e-4; // × max(1, max|reference row|)
const GATE_TOL = 1e-5; // absolute; gates are in [0, 1]

// The one tensor where float32 noise exceeds the gate bar, as in
// tests/model/test_models.c (gate_tolerance): row 1 of mnasnet_a1 drives its last
// SE block with pre-sigmoid values up to 59; the reference is 1.29e-5 from a
// float64 evaluation there and summation order alone moves it by ~2e-5.
const gateTolerance = (model, row, block) => (model === 'mnasnet_a1' && row === 1 && block === 7 ? 3e-5 : GATE_TOL);

const manifestPath = resolve(TESTDATA, 'models/refs/manifest.json');
const skip = wasmMissing() || missing(manifestPath);
const manifest = skip ? { models: {} } : JSON.parse(readFileSync(manifestPath, 'utf8'));

describeIf(describe, skip, 'reference outputs', () => {
  test('manifest lists models', () => expect(Object.keys(manifest.models).length).toBeGreaterThan(0));

  for (const [name, m] of Object.entries(manifest.models)) {
    const refDir = resolve(TESTDATA, 'models', m.refs);
    for (const wasm of VARIANTS) {
      describe(`${name} (${wasm})`, () => {
        let net;
        let input;
        let logits;
        beforeAll(async () => {
          net = await MnasNet.load(resolve(TESTDATA, 'models', m.onnx), { wasm });
          input = readNpy(resolve(refDir, 'input.npy'));
          logits = readNpy(resolve(refDir, 'logits.npy'));
        });
        afterAll(() => net && net.dispose());

        test('info matches the model', () => {
          const [, c, h, w] = m.input;
          expect(net.info.inputSize).toEqual({ height: h, width: w, channels: c });
          expect(net.info.labels).toHaveLength(logits.shape[1]);
          expect(net.info.seBlocks.map((b) => b.name)).toEqual(m.se_blocks);
          expect(net.info.backend).toBe(BACKEND[wasm]);
          expect(net.info.layers.length).toBeGreaterThan(10);
          expect(net.info.params).toBeGreaterThan(1e6);
          expect(net.info.macs).toBeGreaterThan(net.info.params);
        });

        test('logits and SE gates per input row', () => {
          const [rows, classes] = logits.shape;
          const size = input.data.length / rows;
          const gates = m.se_blocks.map((_, i) => readNpy(resolve(refDir, `se${String(i).padStart(2, '0')}.npy`)));
          const failures = [];
          for (let r = 0; r < rows; r++) {
            const out = net.run(input.data.subarray(r * size, (r + 1) * size));
            const ref = logits.data.subarray(r * classes, (r + 1) * classes);
            const d = maxRelDiff(out.logits, ref);
            if (!(d <= LOGIT_TOL)) failures.push(`row ${r}: logits differ by ${d.toExponential(2)} (relative)`);
            expect(out.excitations).toHaveLength(gates.length);
            gates.forEach((g, i) => {
              const ch = g.shape[1];
              const dg = maxAbsDiff(out.excitations[i].values, g.data.subarray(r * ch, (r + 1) * ch));
              const tol = gateTolerance(name, r, i);
              if (!(dg <= tol)) {
                let n = 0;
                for (let c = 0; c < ch; c++) if (Math.abs(out.excitations[i].values[c] - g.data[r * ch + c]) > tol) n++;
                failures.push(`row ${r}: SE ${i} (${m.se_blocks[i]}) differs by ${dg.toExponential(2)} on ${n}/${ch} channels`);
              }
            });
          }
          expect(failures).toEqual([]);
        });

        test('NHWC layout gives the same result as NCHW', () => {
          const { height: h, width: w, channels: c } = net.info.inputSize;
          const row = input.data.subarray(0, c * h * w);
          const nhwc = new Float32Array(row.length);
          for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) nhwc[p * c + ch] = row[ch * h * w + p];
          const a = net.run(row);
          const b = net.run(nhwc, { layout: 'NHWC' });
          expect(b.logits).toEqual(a.logits);
          expect(b.top).toEqual(a.top);
        });
      });
    }
  }
});

test('reference data present or skipped with a reason', () => {
  if (skip) console.warn(`reference outputs skipped: ${skip}`);
  expect(existsSync(manifestPath) || Boolean(skip)).toBe(true);
});
