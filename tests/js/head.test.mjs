// The embedding (classify/run with { embedding: true }, info.embeddingSize,
// info.fingerprint) and TeachableHead: classes and examples, predictions,
// the JSON round trip and its refusal of another model's head, use from a
// worker thread, and few-shot accuracy on the CIFAR-10 test split with the
// default model's embeddings (examples and test images disjoint).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MnasNet, MnasNetError, TeachableHead } from '../../js/src/index.js';
import { kInternals } from '../../js/src/mnasnet.js';
import { JS, ROOT, TESTDATA, cifarImage, describeIf, missing, wasmMissing, thrown } from './helpers.mjs';

const skip = wasmMissing();
const bin = resolve(TESTDATA, 'data/cifar10_test.bin');
const bigModel = resolve(TESTDATA, 'models/mnasnet_a1.onnx');
const LABELS = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

// ---- a model without a classifier: x (1,3,4,4) -> GlobalAveragePool -> Flatten -> y (1,3)
function varint(n) {
  const out = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
const field = (no, bytes) => [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
const str = (no, s) => field(no, [...Buffer.from(s, 'utf8')]);
const int = (no, v) => [...varint(no << 3), ...varint(v)];
function noClassifierModel() {
  const dims = [1, 3, 4, 4].flatMap((d) => field(1, int(1, d)));
  const xType = field(2, field(1, [...int(1, 1), ...field(2, dims)])); // TypeProto.tensor_type {elem_type FLOAT, shape}
  const graph = [
    ...field(1, [...str(1, 'x'), ...str(2, 'g'), ...str(3, 'gap'), ...str(4, 'GlobalAveragePool')]),
    ...field(1, [...str(1, 'g'), ...str(2, 'y'), ...str(3, 'flatten'), ...str(4, 'Flatten')]),
    ...str(2, 'pool'),
    ...field(11, [...str(1, 'x'), ...xType]),
    ...field(12, str(1, 'y')),
  ];
  return new Uint8Array([...int(1, 8), ...field(8, [...str(1, ''), ...int(2, 13)]), ...field(7, graph)]);
}

describeIf(describe, skip, 'embedding', () => {
  let net;
  beforeAll(async () => {
    net = await MnasNet.load();
  });
  afterAll(() => net?.dispose());
  const img = () => ({ data: new Uint8Array(32 * 32 * 4).map((_, i) => (i * 37) & 255), width: 32, height: 32 });

  test('the default model has a 1280-float embedding; results carry it only when asked', () => {
    expect(net.info.embeddingSize).toBe(1280);
    expect(net.info.fingerprint).toMatch(/^[0-9a-f]{16}-[0-9a-f]+$/);
    expect(net.classify(img()).embedding).toBeUndefined();
    const r = net.classify(img(), { embedding: true, topK: 0 });
    expect(r.embedding).toBeInstanceOf(Float32Array);
    expect(r.embedding).toHaveLength(1280);
    // MnasNet-A1's embedding is a pooled ReLU feature map: >= 0, not all zero.
    expect(Math.min(...r.embedding)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...r.embedding)).toBeGreaterThan(0);
    const t = net.run(new Float32Array(3 * 96 * 96).fill(0.5), { embedding: true });
    expect(t.embedding).toHaveLength(1280);
    expect(Array.from(t.embedding)).not.toEqual(Array.from(r.embedding));
  });

  test('views semantics as for the gates: a view into wasm memory until the next call, else a copy', () => {
    const { memory } = net[kInternals]();
    const copy = net.classify(img(), { embedding: true }).embedding;
    expect(copy.buffer).not.toBe(memory.buffer);
    const view = net.classify(img(), { embedding: true, views: true }).embedding;
    expect(view.buffer).toBe(memory.buffer);
    expect(Array.from(view)).toEqual(Array.from(copy));
    const before = view.slice();
    net.classify({ data: new Uint8Array(32 * 32 * 4).fill(200), width: 32, height: 32 });
    expect(Array.from(view)).not.toEqual(Array.from(before)); // the next run wrote over it
    expect(Array.from(copy)).toEqual(Array.from(before));
  });

  test('the fingerprint is the file\'s: same bytes and any build agree, another model differs', async () => {
    const bytes = readFileSync(resolve(JS, 'dist/mnasnet_a1_cifar10.onnx'));
    const scalar = await MnasNet.load(bytes, { wasm: 'scalar' });
    expect(scalar.info.fingerprint).toBe(net.info.fingerprint);
    scalar.dispose();
    if (!missing(bigModel)) {
      const big = await MnasNet.load(bigModel);
      expect(big.info.embeddingSize).toBe(1280);
      expect(big.info.fingerprint).not.toBe(net.info.fingerprint);
      big.dispose();
    }
  });

  test('a model whose output is not a Gemm/MatMul has none: embeddingSize 0, asking throws E_ARGUMENT', async () => {
    const pool = await MnasNet.load(noClassifierModel());
    expect(pool.info.embeddingSize).toBe(0);
    const e = thrown(() => pool.classify(img(), { embedding: true }));
    expect(e).toBeInstanceOf(MnasNetError);
    expect(e.code).toBe('E_ARGUMENT');
    expect(e.message).toMatch(/no embedding/);
    expect(pool.classify(img()).logits).toHaveLength(3); // the model itself still runs
    expect(thrown(() => new TeachableHead(pool)).code).toBe('E_ARGUMENT');
    pool.dispose();
  });
});

/** A unit vector along axis k (plus a little of axis k+1), 1280-d. */
function axis(k, tilt = 0) {
  const v = new Float32Array(1280);
  v[k] = 1;
  v[k + 1] = tilt;
  return v;
}

describeIf(describe, skip, 'TeachableHead', () => {
  const id = { fingerprint: 'f00d-1', embeddingSize: 1280 };

  test('classes and examples: add, count, rename, remove, clear', () => {
    const h = new TeachableHead(id);
    expect(h.ready).toBe(false);
    h.addClass('mug');
    expect(h.classes).toEqual(['mug']);
    const a = h.addExample('mug', axis(0));
    const b = h.addExample('hand', axis(10)); // creates the class
    const c = h.addExample('hand', Array.from(axis(10, 0.5)));
    expect(h.classes).toEqual(['mug', 'hand']);
    expect(h.counts).toEqual({ mug: 1, hand: 2 });
    expect(h.size).toBe(3);
    expect(h.ready).toBe(true);
    expect(h.exampleIds('hand')).toEqual([b, c]);
    expect(new Set([a, b, c]).size).toBe(3);
    h.renameClass('hand', 'palm');
    expect(h.classes).toEqual(['mug', 'palm']);
    expect(h.predict(axis(10)).label).toBe('palm');
    expect(h.removeExample(c)).toBe(true);
    expect(h.removeExample(c)).toBe(false);
    expect(h.counts).toEqual({ mug: 1, palm: 1 });
    h.removeClass('mug');
    expect(h.classes).toEqual(['palm']);
    expect(h.ready).toBe(false);
    h.clear();
    expect(h.classes).toEqual([]);
    expect(h.size).toBe(0);
  });

  test('nearest class mean on normalized embeddings, with confidences and similarities', () => {
    const h = new TeachableHead(id);
    h.addExample('a', axis(0));
    h.addExample('a', axis(1));
    h.addExample('b', axis(100));
    h.addClass('empty'); // no examples: not predicted
    // Scale does not matter (normalized): 7 * axis(0) is nearest to a's mean (e0 + e1) / 2.
    const p = h.predict(axis(0).map((v) => v * 7));
    expect(p.label).toBe('a');
    expect(p.scores.map((s) => s.label)).toEqual(['a', 'b']);
    expect(p.scores[0].similarity).toBeCloseTo(Math.SQRT1_2, 6); // cos(e0, e0 + e1)
    expect(p.scores[1].similarity).toBeCloseTo(0, 6);
    expect(p.scores[0].confidence + p.scores[1].confidence).toBeCloseTo(1, 6);
    // softmax(16 * [0.7071, 0])
    expect(p.confidence).toBeCloseTo(1 / (1 + Math.exp(-16 * Math.SQRT1_2)), 6);
    // Removing an example moves the mean: a is then e1 only.
    h.removeExample(h.exampleIds('a')[0]);
    expect(h.predict(axis(0)).scores.find((s) => s.label === 'a').similarity).toBeCloseTo(0, 6);
    expect(h.predict(axis(1)).scores[0]).toMatchObject({ label: 'a' });
  });

  test('bad input is refused with a code', () => {
    const h = new TeachableHead(id);
    expect(thrown(() => h.predict(axis(0))).code).toBe('E_STATE');
    expect(thrown(() => h.addExample('a', new Float32Array(10))).code).toBe('E_INPUT');
    expect(thrown(() => h.addExample('a', new Float32Array(1280))).code).toBe('E_INPUT'); // no direction
    expect(thrown(() => h.addExample('', axis(0))).code).toBe('E_ARGUMENT');
    expect(thrown(() => h.addExample('a', { data: new Uint8Array(16), width: 2, height: 2 })).code).toBe('E_ARGUMENT'); // no MnasNet
    h.addClass('a');
    expect(thrown(() => h.addClass(' a ')).code).toBe('E_ARGUMENT');
    expect(thrown(() => h.renameClass('nope', 'b')).code).toBe('E_ARGUMENT');
    expect(thrown(() => h.train()).code).toBe('E_STATE');
    expect(thrown(() => h.predict(axis(0), { method: 'softmax' })).code).toBe('E_STATE');
    expect(thrown(() => new TeachableHead({ fingerprint: 'x' })).code).toBe('E_ARGUMENT');
  });

  test('train() fits a softmax layer where class means fail; any change to the examples drops it', () => {
    // In the plane of axes 0 and 1: 'a' at 0 degrees (5 examples) and 60 (1),
    // 'b' at 90 (3). a's mean points at about 9 degrees, so its 60-degree
    // example is nearer b's mean (30 against 51 degrees); a line at 75
    // degrees separates the classes.
    const at = (deg) => {
      const v = new Float32Array(1280);
      v[0] = Math.cos((deg * Math.PI) / 180);
      v[1] = Math.sin((deg * Math.PI) / 180);
      return v;
    };
    const h = new TeachableHead(id);
    for (let i = 0; i < 5; i++) h.addExample('a', at(0));
    h.addExample('a', at(60));
    for (let i = 0; i < 3; i++) h.addExample('b', at(90));
    expect(h.method).toBe('mean');
    expect(h.predict(at(60)).label).toBe('b');
    const r = h.train({ epochs: 300, learningRate: 0.5 });
    expect(h.method).toBe('softmax');
    expect(r.accuracy).toBe(1);
    expect(h.predict(at(60)).label).toBe('a');
    expect(h.predict(at(85)).label).toBe('b');
    expect(h.predict(at(60), { method: 'mean' }).label).toBe('b');
    h.addExample('b', at(89));
    expect(h.method).toBe('mean');
  });

  test('JSON round trip with the model identity; another model\'s head is refused', async () => {
    const net = await MnasNet.load();
    const h = new TeachableHead(net);
    expect(h.model).toEqual({ fingerprint: net.info.fingerprint, embeddingSize: 1280 });
    const img = (v) => ({ data: new Uint8Array(32 * 32 * 4).fill(v), width: 32, height: 32 });
    // From an image source (the head has the MnasNet) and from an embedding.
    h.addExample('dark', img(20));
    h.addExample('bright', net.classify(img(235), { embedding: true }).embedding);
    h.addExample('bright', img(200));
    h.train({ epochs: 20 });
    const text = JSON.stringify(h);
    const back = TeachableHead.fromJSON(text, net);
    expect(back.classes).toEqual(h.classes);
    expect(back.counts).toEqual(h.counts);
    expect(back.exampleIds('bright')).toEqual(h.exampleIds('bright'));
    expect(back.method).toBe('softmax');
    for (const v of [30, 128, 220]) {
      expect(back.predict(img(v))).toEqual(h.predict(img(v)));
      expect(back.predict(img(v), { method: 'mean' })).toEqual(h.predict(img(v), { method: 'mean' }));
    }
    expect(back.predict(img(25)).label).toBe('dark');
    expect(JSON.stringify(back)).toBe(text);
    // New ids continue after the saved ones.
    expect(back.addExample('dark', img(10))).toBeGreaterThan(Math.max(...h.exampleIds('dark'), ...h.exampleIds('bright')));
    // Without a model: the saved identity, embeddings only.
    const bare = TeachableHead.fromJSON(JSON.parse(text));
    expect(bare.model).toEqual(h.model);
    expect(bare.predict(net.classify(img(25), { embedding: true }).embedding).label).toBe('dark');

    // Another model (or another identity) refuses the head.
    const other = await MnasNet.load(missing(bigModel) ? noClassifierModel() : bigModel);
    const mismatch = [
      () => TeachableHead.fromJSON(text, { fingerprint: 'another', embeddingSize: 1280 }),
      () => TeachableHead.fromJSON(text, { fingerprint: net.info.fingerprint, embeddingSize: 1024 }),
    ];
    if (!missing(bigModel)) mismatch.push(() => TeachableHead.fromJSON(text, other));
    for (const f of mismatch) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(MnasNetError);
      expect(e.code).toBe('E_MODEL_MISMATCH');
      expect(e.message).toContain(net.info.fingerprint);
    }
    other.dispose();
    // Damaged files say what is wrong.
    expect(thrown(() => TeachableHead.fromJSON('{"format":"x"}')).code).toBe('E_ARGUMENT');
    expect(thrown(() => TeachableHead.fromJSON('not json')).code).toBe('E_ARGUMENT');
    const cut = JSON.parse(text);
    cut.classes[0].examples[0].embedding = cut.classes[0].examples[0].embedding.slice(0, 100);
    expect(thrown(() => TeachableHead.fromJSON(cut)).message).toMatch(/floats, expected 1280/);
    net.dispose();
  });

  test('works in a worker thread with the model', async () => {
    const src = `
      import { parentPort } from 'node:worker_threads';
      import { MnasNet, TeachableHead } from ${JSON.stringify(pathToFileURL(resolve(ROOT, 'js/src/index.js')).href)};
      const net = await MnasNet.load();
      const head = new TeachableHead(net);
      const img = (v) => ({ data: new Uint8Array(32 * 32 * 4).fill(v), width: 32, height: 32 });
      head.addExample('dark', img(15));
      head.addExample('bright', img(240));
      parentPort.postMessage({ dark: head.predict(img(30)).label, bright: head.predict(img(225)).label, json: head.toJSON() });
      net.dispose();
    `;
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`));
    const msg = await new Promise((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    expect(msg.dark).toBe('dark');
    expect(msg.bright).toBe('bright');
    expect(TeachableHead.fromJSON(msg.json).counts).toEqual({ dark: 1, bright: 1 });
  });
});

// Records are ordered by class, 1000 each. Examples come from positions
// 0-19 of every class, test images from positions 500-599: disjoint.
const EXAMPLES = 20;
const TEST_FROM = 500;
const TEST_PER_CLASS = 100;

describeIf(describe, skip || missing(bin), 'few-shot CIFAR-10 with the default model', () => {
  let examples; // [class][position] -> embedding
  let tests; // [[class, embedding]]
  beforeAll(async () => {
    const data = readFileSync(bin);
    const net = await MnasNet.load();
    const emb = (i) => {
      const img = cifarImage(data, i);
      return net.classify(img, { topK: 0, embedding: true }).embedding;
    };
    examples = LABELS.map((_, c) => Array.from({ length: EXAMPLES }, (_, j) => emb(c * 1000 + j)));
    tests = [];
    for (let c = 0; c < 10; c++) for (let j = 0; j < TEST_PER_CLASS; j++) tests.push([c, emb(c * 1000 + TEST_FROM + j)]);
    net.dispose();
  });

  /** Accuracy of a head taught positions [from, from + n) of every class. */
  function accuracy(n, from, train) {
    const h = new TeachableHead({ fingerprint: 'cifar', embeddingSize: 1280 });
    for (let c = 0; c < 10; c++) for (let j = from; j < from + n; j++) h.addExample(LABELS[c], examples[c][j]);
    if (train) h.train();
    let ok = 0;
    for (const [c, e] of tests) ok += h.predict(e).label === LABELS[c];
    return ok / tests.length;
  }

  test(`accuracy on ${10 * TEST_PER_CLASS} held-out images for 1/5/10/20 examples per class`, () => {
    expect(tests).toHaveLength(1000);
    const rows = [];
    const curve = {};
    for (const n of [1, 5, 10, 20]) {
      // Every disjoint draw of n examples per class among the first 20.
      const draws = Array.from({ length: EXAMPLES / n }, (_, t) => accuracy(n, t * n, false));
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      const softmax = n >= 5 ? accuracy(n, 0, true) : null;
      curve[n] = { mean, min: Math.min(...draws), draws };
      const pct = (x) => (x * 100).toFixed(1);
      rows.push(`| ${n} | ${pct(mean)}% | ${pct(Math.min(...draws))}-${pct(Math.max(...draws))}% | ${draws.length} | ${softmax === null ? '–' : `${pct(softmax)}%`} |`);
    }
    console.log([
      'few-shot CIFAR-10, default model, 1000 held-out test images (records 500-599 of each class):',
      '| examples per class | nearest class mean (mean of draws) | range over draws | disjoint draws | softmax head (first draw) |',
      '|---|---|---|---|---|',
      ...rows,
    ].join('\n'));
    // 10 examples per class: every draw >= 80%. 1 example: >= 70% on average
    // over the 20 disjoint single examples (one image alone can be a poor pick).
    for (const a of curve[10].draws) expect(a).toBeGreaterThanOrEqual(0.8);
    expect(curve[1].mean).toBeGreaterThanOrEqual(0.7);
    // More examples never make the class means worse on average here.
    expect(curve[5].mean).toBeGreaterThanOrEqual(curve[1].mean);
    expect(curve[20].mean).toBeGreaterThanOrEqual(curve[5].mean - 0.01);
  });
});
