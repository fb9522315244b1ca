// node --test tests/bench/
// Checks the ONNX reader + TF.js graph rebuild against the PyTorch reference
// logits of every model in $MNAS_TESTDATA/models/refs (skips if absent).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TESTDATA } from '../../tools/bench/config.mjs';
import { parseOnnx } from '../../tools/bench/onnx_proto.mjs';
import { buildTfjsModel } from '../../tools/bench/onnx_to_tfjs.mjs';
import { parseNpy } from '../../tools/bench/npy.mjs';

const refsDir = path.join(TESTDATA, 'models', 'refs');
const have = fs.existsSync(path.join(refsDir, 'manifest.json'));
const manifest = have ? JSON.parse(fs.readFileSync(path.join(refsDir, 'manifest.json'), 'utf8')).models : {};

let tf;
async function tfjs() {
  if (tf) return tf;
  const core = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-wasm');
  tf = core.default?.tensor ? core.default : core;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  assert.ok(await tf.setBackend('wasm'));
  await tf.ready();
  return tf;
}

test('onnx reader parses graph structure', { skip: !have && `no ${refsDir}` }, () => {
  const m = parseOnnx(fs.readFileSync(path.join(TESTDATA, 'models', 'mnasnet_b1_0.5.onnx')));
  assert.equal(m.graph.inputs.length, 1);
  assert.deepEqual(m.graph.inputs[0].shape, [1, 3, 224, 224]);
  assert.equal(m.graph.outputs[0].name, 'logits');
  const conv = m.graph.nodes.find((n) => n.opType === 'Conv');
  assert.deepEqual(conv.attrs.strides, [2, 2]);
  const w = m.graph.initializers.get(conv.inputs[1]);
  assert.equal(w.data.length, w.dims.reduce((a, b) => a * b, 1));
});

for (const [name, info] of Object.entries(manifest)) {
  test(`tfjs rebuild of ${name} matches PyTorch`, async () => {
    const t = await tfjs();
    const x = parseNpy(fs.readFileSync(path.join(refsDir, name, 'input.npy')));
    const y = parseNpy(fs.readFileSync(path.join(refsDir, name, 'logits.npy')));
    const m = buildTfjsModel(t, new Uint8Array(fs.readFileSync(path.join(TESTDATA, 'models', info.onnx))));
    const per = x.shape.slice(1).reduce((a, b) => a * b, 1), nc = y.shape[1];
    try {
      for (let row = 0; row < Math.min(2, x.shape[0]); row++) {
        const out = m.run(x.data.subarray(row * per, (row + 1) * per));
        const ref = y.data.subarray(row * nc, (row + 1) * nc);
        let d = 0, mx = 0;
        for (let i = 0; i < nc; i++) { d = Math.max(d, Math.abs(out[i] - ref[i])); mx = Math.max(mx, Math.abs(ref[i])); }
        assert.ok(d <= 1e-4 * Math.max(1, mx), `${name} row ${row}: max diff ${d} (max |ref| ${mx})`);
      }
    } finally { m.dispose(); }
  });
}
