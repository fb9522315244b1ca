// net.info.layers names each layer after its weights (the initializer's name
// without ".weight"), an SE block after its two 1x1 layers, and a layer
// without weights after its ONNX node: checked on the shipped default model.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MnasNet } from '../../js/src/index.js';
import { TESTDATA, VARIANTS, describeIf, missing, readNpy, wasmMissing } from './helpers.mjs';

describeIf(describe, wasmMissing(), 'layer names', () => {
  let net;
  beforeAll(async () => {
    net = await MnasNet.load();
  });
  afterAll(() => net && net.dispose());

  test('the default model names its layers after the modules that made them', () => {
    const layers = net.info.layers;
    const at = (i) => {
      const l = layers[i < 0 ? layers.length + i : i];
      return [l.name, l.kind];
    };
    expect(layers).toHaveLength(59);
    expect([0, 1, 2, 9, 10, 11, 12, -3, -2, -1].map(at)).toEqual([
      ['conv_stem', 'conv'],
      ['blocks.0.0.conv_dw', 'dwconv'],
      ['blocks.0.0.conv_pw', 'conv1x1'],
      ['blocks.2.0.conv_pw', 'conv1x1'],
      ['blocks.2.0.conv_dw', 'dwconv'],
      ['blocks.2.0.se', 'se'],
      ['blocks.2.0.conv_pwl', 'conv1x1'],
      ['conv_head', 'conv1x1'],
      ['node_mean_8', 'gap'],
      ['classifier', 'fc'],
    ]);
    // the SE layers carry the names the SE blocks report
    expect(layers.filter((l) => l.kind === 'se').map((l) => l.name)).toEqual(net.info.seBlocks.map((b) => b.name));
    // every layer with weights has a module name, none an ONNX node id
    expect(layers.filter((l) => l.params > 0 && !/^(conv_stem|conv_head|classifier|blocks\.\d+\.\d+\.(conv_pw|conv_dw|conv_pwl|se))$/.test(l.name)).map((l) => l.name)).toEqual([]);
  });
});

// Fused blocks: info marks the layers that run together, layerByLayer runs
// every layer on its own, and the results are the same bit for bit, on
// MnasNet-A1 at 224x224 (whose large blocks fuse) in every build.
describeIf(describe, wasmMissing() || missing(resolve(TESTDATA, 'models/mnasnet_a1.onnx')), 'fused blocks', () => {
  const bytes = () => readFileSync(resolve(TESTDATA, 'models/mnasnet_a1.onnx'));
  const input = readNpy(resolve(TESTDATA, 'models/refs/mnasnet_a1/input.npy'));

  test.each(VARIANTS)('%s: fused and layer by layer give the same bits', async (wasm) => {
    const fused = await MnasNet.load(bytes(), { wasm, threads: 1 });
    const plain = await MnasNet.load(bytes(), { wasm, threads: 1, layerByLayer: true });
    try {
      const fl = fused.info.layers;
      // blocks.1.0: expansion, depthwise and projection as one block, timed on its first layer
      const head = fl.findIndex((l) => l.name === 'blocks.1.0.conv_pw');
      expect(fl.slice(head, head + 3).map((l) => [l.name, l.fusedWith])).toEqual([
        ['blocks.1.0.conv_pw', head], ['blocks.1.0.conv_dw', head], ['blocks.1.0.conv_pwl', head],
      ]);
      // 7x7 blocks stay layer by layer, and so does everything with the option
      expect(fl.find((l) => l.name === 'blocks.5.2.conv_pw').fusedWith).toBe(-1);
      expect(plain.info.layers.every((l) => l.fusedWith === -1)).toBe(true);
      expect(fused.info.arenaBytes).toBeLessThan(plain.info.arenaBytes / 2);
      const per = input.data.length / input.shape[0];
      for (let r = 0; r < input.shape[0]; r++) {
        const x = input.data.subarray(r * per, (r + 1) * per);
        const a = fused.run(x, { layout: 'NCHW' }), b = plain.run(x, { layout: 'NCHW' });
        expect(Buffer.from(a.logits.buffer, a.logits.byteOffset, a.logits.byteLength))
          .toEqual(Buffer.from(b.logits.buffer, b.logits.byteOffset, b.logits.byteLength));
        expect(a.excitations.map((s) => Array.from(s.values))).toEqual(b.excitations.map((s) => Array.from(s.values)));
      }
    } finally {
      fused.dispose();
      plain.dispose();
    }
  });

  test('layerByLayer must be a boolean', async () => {
    await expect(MnasNet.load(bytes(), { layerByLayer: 1 })).rejects.toThrow(/options.layerByLayer: expected true or false, got number 1/);
  });
});
