// TeachableHead: new classes taught from a few examples, on top of a loaded
// model's embedding (the classifier's input, net.info.embeddingSize floats).
// A head is plain JavaScript over Float32Arrays (no DOM, no wasm of its
// own), so it works wherever the model does, a Web Worker included.
//
// Prediction is by nearest class mean on L2-normalized embeddings: ready as
// soon as a class has one example, and adding or removing one only updates a
// running sum. train() optionally fits a softmax layer, started from the
// class means, which does better once there are more examples per class.
import { MnasNetError } from './errors.js';

const FORMAT = 'mnasnet-wasm/teachable-head';
const FORMAT_VERSION = 1;
const MAX_NAME = 100; // characters in a class name
const DEFAULT_SCALE = 16; // confidence = softmax(scale * cosine similarity)

function argError(message) {
  return new MnasNetError('E_ARGUMENT', message);
}

function checkName(name, what = 'class name') {
  if (typeof name !== 'string' || !name.trim()) throw argError(`${what}: expected a non-empty string`);
  const n = name.trim();
  if (n.length > MAX_NAME) throw argError(`${what}: longer than ${MAX_NAME} characters`);
  return n;
}

/** Whether x is an embedding (numbers) rather than an image source. */
function isVector(x) {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/** x as an L2-normalized Float32Array of n floats. */
function normalized(x, n, what) {
  if (x.length !== n) throw new MnasNetError('E_INPUT', `${what}: ${x.length} values; the model's embedding has ${n}`);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const v = Number(x[i]);
    if (!Number.isFinite(v)) throw new MnasNetError('E_INPUT', `${what}: value ${i} is ${x[i]}`);
    ss += v * v;
  }
  if (!(ss > 0)) throw new MnasNetError('E_INPUT', `${what}: an all-zero embedding has no direction`);
  const inv = 1 / Math.sqrt(ss);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = x[i] * inv;
  return out;
}

function softmaxInPlace(z) {
  let mx = -Infinity;
  for (const v of z) mx = Math.max(mx, v);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += (z[i] = Math.exp(z[i] - mx));
  for (let i = 0; i < z.length; i++) z[i] /= s;
  return z;
}

// Float32Array <-> base64 of its little-endian bytes (JSON stays a quarter
// of the size of number lists and round-trips exactly).
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function toBase64(f32) {
  let u8 = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  if (!LITTLE) {
    const dv = new DataView(new ArrayBuffer(f32.byteLength));
    f32.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    u8 = new Uint8Array(dv.buffer);
  }
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
}
function fromBase64(text, n, what) {
  let s;
  try {
    s = atob(text);
  } catch {
    throw argError(`${what}: not base64`);
  }
  if (s.length !== n * 4) throw argError(`${what}: ${s.length / 4} floats, expected ${n}`);
  const dv = new DataView(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) dv.setUint8(i, s.charCodeAt(i));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

/** The identity a head is tied to: from a MnasNet or from {fingerprint, embeddingSize}. */
function identityOf(model) {
  if (model && typeof model === 'object' && typeof model.classify === 'function' && model.info) {
    const { fingerprint, embeddingSize } = model.info;
    return { fingerprint, embeddingSize };
  }
  if (model && typeof model === 'object' && typeof model.fingerprint === 'string' && Number.isInteger(model.embeddingSize)) {
    return { fingerprint: model.fingerprint, embeddingSize: model.embeddingSize };
  }
  throw argError('model: expected a MnasNet or { fingerprint, embeddingSize }');
}

export class TeachableHead {
  #model; // { fingerprint, embeddingSize }
  #net = null; // the MnasNet, when given: image sources can then be passed
  #scale;
  #classes = []; // [{ name, examples: [{ id, vector }], sum: Float64Array }]
  #nextId = 1;
  #softmax = null; // { names, weights: Float32Array (classes x dim), bias: Float32Array } after train()

  /**
   * model: the MnasNet whose embeddings are taught (image sources can then be
   * passed), or its identity { fingerprint, embeddingSize } (embeddings only).
   * options.scale: sharpness of the confidences (default 16).
   */
  constructor(model, options = {}) {
    this.#model = identityOf(model);
    if (!(this.#model.embeddingSize > 0)) {
      throw argError('model: it has no embedding (info.embeddingSize is 0), so nothing can be taught on it');
    }
    if (typeof model.classify === 'function') this.#net = model;
    const scale = options?.scale ?? DEFAULT_SCALE;
    if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(scale)) throw argError('options.scale: expected a number > 0');
    this.#scale = scale;
  }

  /** The model this head belongs to: { fingerprint, embeddingSize }. */
  get model() {
    return { ...this.#model };
  }

  /** Class names in the order they were added. */
  get classes() {
    return this.#classes.map((c) => c.name);
  }

  /** Examples per class: { name: count }. */
  get counts() {
    return Object.fromEntries(this.#classes.map((c) => [c.name, c.examples.length]));
  }

  /** Total number of examples. */
  get size() {
    return this.#classes.reduce((s, c) => s + c.examples.length, 0);
  }

  /** At least two classes have examples: predictions can tell something apart. */
  get ready() {
    return this.#classes.filter((c) => c.examples.length).length >= 2;
  }

  /** 'softmax' while a trained layer matches the examples, else 'mean'. */
  get method() {
    return this.#softmax ? 'softmax' : 'mean';
  }

  /** Ids of a class's examples, oldest first. */
  exampleIds(name) {
    return this.#get(name).examples.map((e) => e.id);
  }

  #find(name) {
    return this.#classes.find((c) => c.name === name);
  }

  #get(name) {
    const c = typeof name === 'string' ? this.#find(name.trim()) : undefined;
    if (!c) throw argError(`no class named ${JSON.stringify(name)}`);
    return c;
  }

  #changed() {
    this.#softmax = null; // a trained layer describes the examples it was trained on
  }

  /** Adds an empty class (adding an example creates its class too). */
  addClass(name) {
    const n = checkName(name);
    if (this.#find(n)) throw argError(`a class named ${JSON.stringify(n)} exists already`);
    this.#classes.push({ name: n, examples: [], sum: new Float64Array(this.#model.embeddingSize) });
    this.#changed();
    return n;
  }

  renameClass(from, to) {
    const c = this.#get(from);
    const n = checkName(to, 'new name');
    if (n !== c.name && this.#find(n)) throw argError(`a class named ${JSON.stringify(n)} exists already`);
    if (this.#softmax) this.#softmax.names = this.#softmax.names.map((x) => (x === c.name ? n : x));
    c.name = n;
  }

  removeClass(name) {
    const c = this.#get(name);
    this.#classes.splice(this.#classes.indexOf(c), 1);
    this.#changed();
  }

  /** Removes every class and example. */
  clear() {
    this.#classes = [];
    this.#changed();
  }

  /**
   * The embedding of input: returned as is when it is one (numbers), else
   * computed by the model from an image source.
   */
  embed(input) {
    if (isVector(input)) return input;
    if (!this.#net) {
      throw argError(`expected an embedding of ${this.#model.embeddingSize} numbers (this head was made without a MnasNet, so it cannot look at images)`);
    }
    if (input === null || typeof input !== 'object') throw argError(`expected an embedding or an image source, got ${input === null ? 'null' : typeof input}`);
    const r = this.#net.classify(input, { topK: 0, embedding: true, views: true });
    if (typeof r.then === 'function') {
      r.catch(() => {}); // its error is the one below
      throw new MnasNetError(
        'E_INPUT',
        'this image file decodes asynchronously (a Blob, or image bytes in a browser); pass its embedding: (await net.classify(file, { embedding: true })).embedding',
      );
    }
    return r.embedding;
  }

  /**
   * Adds an example to a class (created when new): an embedding, or an image
   * source when the head has the MnasNet. Returns the example's id.
   */
  addExample(name, input) {
    const n = checkName(name);
    const v = normalized(this.embed(input), this.#model.embeddingSize, 'example');
    const c = this.#find(n) ?? (this.addClass(n), this.#find(n));
    const id = this.#nextId++;
    c.examples.push({ id, vector: v });
    for (let i = 0; i < v.length; i++) c.sum[i] += v[i];
    this.#changed();
    return id;
  }

  /** Removes one example by id; false when there is none with that id. */
  removeExample(id) {
    for (const c of this.#classes) {
      const k = c.examples.findIndex((e) => e.id === id);
      if (k < 0) continue;
      const [e] = c.examples.splice(k, 1);
      if (c.examples.length) for (let i = 0; i < e.vector.length; i++) c.sum[i] -= e.vector[i];
      else c.sum.fill(0); // no drift left behind
      this.#changed();
      return true;
    }
    return false;
  }

  /**
   * The classes with examples, most likely first: { label, confidence, scores:
   * [{ label, confidence, similarity }] }. similarity is the cosine between
   * the input's embedding and the class mean; confidence comes from the class
   * means, or from the trained softmax layer while there is one
   * (options.method: 'mean' | 'softmax' chooses).
   */
  predict(input, options = {}) {
    const taught = this.#classes.filter((c) => c.examples.length);
    if (!taught.length) throw new MnasNetError('E_STATE', 'predict: no class has an example yet');
    const method = options?.method ?? this.method;
    if (method !== 'mean' && method !== 'softmax') throw argError("options.method: expected 'mean' or 'softmax'");
    if (method === 'softmax' && !this.#softmax) throw new MnasNetError('E_STATE', 'predict: no trained softmax layer (call train() after the last change)');
    const x = normalized(this.embed(input), this.#model.embeddingSize, 'predict');
    const sims = taught.map((c) => {
      let dot = 0;
      let ss = 0;
      for (let i = 0; i < x.length; i++) {
        dot += x[i] * c.sum[i];
        ss += c.sum[i] * c.sum[i];
      }
      return ss > 0 ? dot / Math.sqrt(ss) : 0;
    });
    let conf;
    if (method === 'softmax') {
      const s = this.#softmax;
      const d = x.length;
      conf = softmaxInPlace(taught.map((c) => {
        const k = s.names.indexOf(c.name);
        let z = s.bias[k];
        for (let i = 0; i < d; i++) z += s.weights[k * d + i] * x[i];
        return z;
      }));
    } else {
      conf = softmaxInPlace(sims.map((v) => v * this.#scale));
    }
    const scores = taught.map((c, i) => ({ label: c.name, confidence: conf[i], similarity: sims[i] }));
    scores.sort((a, b) => b.confidence - a.confidence);
    return { label: scores[0].label, confidence: scores[0].confidence, scores };
  }

  /**
   * Fits a softmax layer on the examples (full-batch gradient descent on the
   * class-balanced cross-entropy, L2-regularized), starting from the class
   * means, so it begins where nearest class mean is. Any later change to the
   * examples drops it again. Returns { epochs, loss, accuracy } on the examples.
   */
  train(options = {}) {
    const epochs = options?.epochs ?? 100;
    const rate = options?.learningRate ?? 0.1;
    const l2 = options?.l2 ?? 1e-3;
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > 10000) throw argError('options.epochs: expected an integer 1..10000');
    if (!(rate > 0) || !Number.isFinite(rate)) throw argError('options.learningRate: expected a number > 0');
    if (!(l2 >= 0) || !Number.isFinite(l2)) throw argError('options.l2: expected a number >= 0');
    const taught = this.#classes.filter((c) => c.examples.length);
    if (taught.length < 2) throw new MnasNetError('E_STATE', 'train: needs examples of at least two classes');
    const k = taught.length;
    const d = this.#model.embeddingSize;
    const xs = [];
    const ys = [];
    for (const [ci, c] of taught.entries()) for (const e of c.examples) { xs.push(e.vector); ys.push(ci); }
    const n = xs.length;
    // Each class weighs the same in the loss, however many examples it has.
    const weight = taught.map((c) => n / (k * c.examples.length));
    // Start: logits = scale * cosine to the class mean (the 'mean' method).
    const w = new Float32Array(k * d);
    const b = new Float32Array(k);
    for (const [ci, c] of taught.entries()) {
      let ss = 0;
      for (let i = 0; i < d; i++) ss += c.sum[i] * c.sum[i];
      const f = this.#scale / Math.sqrt(ss);
      for (let i = 0; i < d; i++) w[ci * d + i] = c.sum[i] * f;
    }
    const gw = new Float32Array(k * d);
    const gb = new Float32Array(k);
    const z = new Float64Array(k);
    let loss = 0;
    let correct = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      gw.fill(0);
      gb.fill(0);
      loss = 0;
      correct = 0;
      for (let j = 0; j < n; j++) {
        const x = xs[j];
        let best = 0;
        for (let ci = 0; ci < k; ci++) {
          let s = b[ci];
          const o = ci * d;
          for (let i = 0; i < d; i++) s += w[o + i] * x[i];
          z[ci] = s;
          if (s > z[best]) best = ci;
        }
        correct += best === ys[j];
        softmaxInPlace(z);
        const wj = weight[ys[j]] / n;
        loss -= wj * Math.log(Math.max(z[ys[j]], 1e-30));
        for (let ci = 0; ci < k; ci++) {
          const g = wj * (z[ci] - (ci === ys[j] ? 1 : 0));
          if (!g) continue;
          gb[ci] += g;
          const o = ci * d;
          for (let i = 0; i < d; i++) gw[o + i] += g * x[i];
        }
      }
      for (let i = 0; i < w.length; i++) w[i] -= rate * (gw[i] + l2 * w[i]);
      for (let ci = 0; ci < k; ci++) b[ci] -= rate * gb[ci];
    }
    this.#softmax = { names: taught.map((c) => c.name), weights: w, bias: b };
    return { epochs, loss, accuracy: correct / n };
  }

  /** A plain object for JSON.stringify, with the model's identity; see fromJSON. */
  toJSON() {
    const s = this.#softmax;
    return {
      format: FORMAT,
      version: FORMAT_VERSION,
      model: { ...this.#model },
      scale: this.#scale,
      classes: this.#classes.map((c) => ({
        name: c.name,
        examples: c.examples.map((e) => ({ id: e.id, embedding: toBase64(e.vector) })),
      })),
      softmax: s && { names: [...s.names], weights: toBase64(s.weights), bias: Array.from(s.bias) },
    };
  }

  /**
   * A head from toJSON()'s output (an object or its JSON text). With a model
   * (a MnasNet or its identity), refuses with E_MODEL_MISMATCH a head that
   * was taught on another model; without one, the head keeps the identity it
   * was saved with and takes embeddings only.
   */
  static fromJSON(json, model) {
    let o = json;
    if (typeof o === 'string') {
      try {
        o = JSON.parse(o);
      } catch (e) {
        throw argError(`fromJSON: not JSON (${e.message})`);
      }
    }
    if (!o || typeof o !== 'object' || o.format !== FORMAT) throw argError(`fromJSON: not a saved TeachableHead (format ${JSON.stringify(o?.format)})`);
    if (o.version !== FORMAT_VERSION) throw argError(`fromJSON: version ${o.version}; this SDK reads version ${FORMAT_VERSION}`);
    const saved = identityOf(o.model ?? {});
    if (model !== undefined && model !== null) {
      const want = identityOf(model);
      if (want.fingerprint !== saved.fingerprint || want.embeddingSize !== saved.embeddingSize) {
        throw new MnasNetError(
          'E_MODEL_MISMATCH',
          `this head was taught on model ${saved.fingerprint} (embedding ${saved.embeddingSize}), not on this one (${want.fingerprint}, embedding ${want.embeddingSize})`,
        );
      }
    }
    const head = new TeachableHead(model ?? saved, { scale: o.scale ?? DEFAULT_SCALE });
    const d = saved.embeddingSize;
    if (!Array.isArray(o.classes)) throw argError('fromJSON: classes must be an array');
    let maxId = 0;
    const ids = new Set();
    for (const c of o.classes) {
      const name = head.addClass(c?.name);
      const cls = head.#find(name);
      if (!Array.isArray(c.examples)) throw argError(`fromJSON: class ${JSON.stringify(name)} has no examples array`);
      for (const e of c.examples) {
        if (!Number.isInteger(e?.id) || e.id < 1 || ids.has(e.id)) throw argError(`fromJSON: class ${JSON.stringify(name)}: bad or repeated example id ${e?.id}`);
        ids.add(e.id);
        const v = fromBase64(e.embedding, d, `fromJSON: example ${e.id}`);
        cls.examples.push({ id: e.id, vector: v });
        for (let i = 0; i < d; i++) cls.sum[i] += v[i];
        maxId = Math.max(maxId, e.id);
      }
    }
    head.#nextId = maxId + 1;
    const s = o.softmax;
    if (s) {
      const names = head.#classes.filter((c) => c.examples.length).map((c) => c.name);
      if (!Array.isArray(s.names) || s.names.length !== names.length || !s.names.every((x) => names.includes(x)) || !Array.isArray(s.bias) || s.bias.length !== names.length) {
        throw argError('fromJSON: the softmax layer does not match the classes');
      }
      head.#softmax = { names: [...s.names], weights: fromBase64(s.weights, names.length * d, 'fromJSON: softmax weights'), bias: Float32Array.from(s.bias) };
    }
    return head;
  }
}
