// classify() on CIFAR-10 test images (RGBA and RGB bytes, preprocessing in C)
// agrees with PyTorch's predictions: 500 images, 50 per class.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MnasNet } from '../../js/src/index.js';
import { ROOT, TESTDATA, VARIANTS, cifarImage, describeIf, missing, readNpy, wasmMissing } from './helpers.mjs';

const bin = resolve(TESTDATA, 'data/cifar10_test.bin');
const predPath = resolve(TESTDATA, 'models/refs/mnasnet_a1_cifar10/test_pred.npy');
const model = resolve(TESTDATA, 'models/mnasnet_a1_cifar10.onnx');
const skip = wasmMissing() || missing(bin, predPath, model);
// Preprocessing of the shipped default model (its mnas.* metadata).
const PREP = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], sourceSize: 32 };
// Records are ordered by class, 1000 each: the first 50 of every class.
const PICK = Array.from({ length: 500 }, (_, i) => Math.floor(i / 50) * 1000 + (i % 50));

describeIf(describe, skip, 'CIFAR-10 classify', () => {
  let data;
  let pred;
  beforeAll(() => {
    data = readFileSync(bin);
    pred = readNpy(predPath).data;
  });

  for (const wasm of VARIANTS) {
    test(`fp32 model, RGBA bytes, ${wasm}: all 500 predictions equal PyTorch's`, async () => {
      const net = await MnasNet.load(model, { wasm, ...PREP });
      expect(net.info.preprocessing.sourceSize).toBe(32);
      const differ = [];
      const perClass = new Array(10).fill(0);
      for (const i of PICK) {
        const img = cifarImage(data, i);
        const r = net.classify(img, { topK: 3 });
        perClass[img.label]++;
        if (r.top[0].index !== pred[i]) differ.push(`image ${i}: ${r.top[0].index} vs PyTorch ${pred[i]}`);
      }
      net.dispose();
      expect(perClass).toEqual(new Array(10).fill(50));
      expect(differ).toEqual([]);
    });
  }

  test('RGB bytes and RGBA bytes give identical results', async () => {
    const net = await MnasNet.load(model, PREP);
    for (const i of PICK.slice(0, 50)) {
      const a = net.classify(cifarImage(data, i));
      const b = net.classify(cifarImage(data, i, true));
      expect(b.logits).toEqual(a.logits);
    }
    net.dispose();
  });

  test('the default (packed, int8 weights) model classifies like PyTorch and has labels', async () => {
    const net = await MnasNet.load();
    expect(net.info.labels[3]).toBe('cat');
    expect(net.info.preprocessing.sourceSize).toBe(32);
    let agree = 0;
    for (const i of PICK) agree += net.classify(cifarImage(data, i)).top[0].index === pred[i];
    net.dispose();
    // int8 weights flip 79 of 10,000 predictions (accuracy 86.44% against 86.60% in fp32: tests/model/test_cifar.c),
    // 2 of these 500.
    expect(agree).toBeGreaterThanOrEqual(498);
  });

  test('a larger, non-square RGBA frame is centre-cropped and resized in C', async () => {
    const net = await MnasNet.load(model, PREP);
    const img = cifarImage(data, PICK[0]);
    // 32x32 nearest-upscaled 4x into the centre of a 200x128 frame: centre crop = 128x128 (4x of the image).
    const W = 200;
    const H = 128;
    const frame = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sx = Math.min(31, Math.max(0, Math.floor((x - 36) / 4)));
        const sy = Math.floor(y / 4);
        frame.set(img.data.subarray((sy * 32 + sx) * 4, (sy * 32 + sx) * 4 + 4), (y * W + x) * 4);
      }
    }
    const r = net.classify({ data: frame, width: W, height: H });
    expect(r.top[0].index).toBe(net.classify(img).top[0].index);
    net.dispose();
  });
});

test('CIFAR-10 data present or skipped with a reason', () => {
  if (skip) console.warn(`CIFAR-10 classify skipped: ${skip}`);
  expect(ROOT).toBeTruthy();
});
