// net.info.layers names each layer after its weights (the initializer's name
// without ".weight"), an SE block after its two 1x1 layers, and a layer
// without weights after its ONNX node: checked on the shipped default model.
import { MnasNet } from '../../js/src/index.js';
import { describeIf, wasmMissing } from './helpers.mjs';

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
