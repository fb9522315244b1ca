// The MnasNet class: one wasm instance per loaded model, so dispose() gives
// back every byte and models never share (or corrupt) each other's heap.
import { LAYER, LIMIT_NAMES, MAX_STRUCT_SIZE, OPTIONS, PIXEL_FORMAT, SE_BLOCK, STATS, compareAbi, readAbiTable } from './abi.js';
import { MnasNetError, describeValue, statusError } from './errors.js';
import { IS_NODE, defaultModelUrl, getModule, instantiate, isArrayBuffer, isUrl, readBaseUrl, readBytes } from './loader.js';
import { BUILTIN_HINT, builtin, optionalPackage } from './platform.js';
import { decodePng, streamInflate } from './png.js';
import { fileSignature, modelProblem } from './sniff.js';
import { Team, planThreads, readThreadsOption, threadsFor } from './threads.js';

// Compiled modules whose kernels mnas_warm_up has run.
const WARMED = new WeakSet();
// One scratch block per model for out-parameters and structs.
const S_STRUCT = 0; // any one struct of abi.js
const S_INTS = Math.ceil(MAX_STRUCT_SIZE / 8) * 8; // 4 ints of out-parameters
const S_SIZE = S_INTS + 16;

const kind = (x) => Object.prototype.toString.call(x).slice(8, -1);

// Only load() constructs: a MnasNet always has a loaded model (until dispose).
const CONSTRUCT = Symbol('construct');

/** Symbol for test-only access to the wasm instance (not part of the public API). */
export const kInternals = Symbol('mnasnet-wasm internals');

let decoder; // shared: a 1000-class model has 1000 labels to read
// Labels and layer names are mostly short ASCII: building those a char at a
// time is cheaper than a TextDecoder call each.
function cString(u8, ptr) {
  if (!ptr) return null;
  let s = '';
  for (let q = ptr; q < u8.length; q++) {
    const c = u8[q];
    if (c === 0) return s;
    if (c > 0x7f || q - ptr === 32) {
      let end = u8.indexOf(0, q);
      if (end < 0) end = u8.length;
      // a copy: TextDecoder refuses views of a threaded build's shared memory
      return (decoder ??= new TextDecoder()).decode(u8.slice(ptr, end));
    }
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * A model's identity for what is derived from it (a taught head), not a
 * checksum: a hash of the byte length and of 16 bytes at each of 512 evenly
 * spaced places in the file. Weights fill nearly all of a model file, so a
 * different or retrained model differs there; a fixed sample of 2,048
 * little-endian words costs about half a millisecond whatever the model's
 * size (hashing every byte would add tens to a cold start of about 30), and
 * load() takes it while the .wasm compiles. Two 32-bit lanes (FNV-1a and a
 * multiply-rotate mix) give 64 bits.
 */
export function modelFingerprint(bytes) {
  const n = bytes.length;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
  let a = 0x811c9dc5 ^ n;
  let b = 0x9e3779b9 ^ Math.floor(n / 0x100000000);
  const step = Math.max(16, Math.floor(n / 512));
  for (let start = 0; start + 16 <= n; start += step) {
    for (let i = start; i < start + 16; i += 4) {
      const w = dv.getInt32(i, true);
      a = Math.imul(a ^ w, 0x01000193);
      b = Math.imul((b + w) | 0, 0x85ebca6b);
      b = (b << 13) | (b >>> 19);
    }
  }
  for (let i = n & ~15; i < n; i++) a = Math.imul(a ^ bytes[i], 0x01000193); // the tail a window misses
  const hex = (v) => (v >>> 0).toString(16).padStart(8, '0');
  return `${hex(a)}${hex(b)}-${n.toString(16)}`;
}

function checkTriple(v, name, positive) {
  if (v === undefined) return undefined;
  const ok =
    (Array.isArray(v) || ArrayBuffer.isView(v)) && v.length === 3 &&
    Array.prototype.every.call(v, (x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!ok) throw new MnasNetError('E_ARGUMENT', `options.${name}: expected 3 finite numbers${positive ? ' > 0' : ''}, got ${describeValue(v)}`);
  return Array.from(v);
}

function readLoadOptions(options) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new MnasNetError('E_ARGUMENT', `options: expected an object, got ${describeValue(options)}`);
  const mean = checkTriple(options.mean, 'mean', false);
  const std = checkTriple(options.std, 'std', true);
  if ((mean === undefined) !== (std === undefined)) {
    throw new MnasNetError('E_ARGUMENT', 'options.mean and options.std go together');
  }
  const sourceSize = options.sourceSize ?? 0;
  // The upper limit is the module's (MNAS_MAX_SOURCE_SIZE), checked once it is compiled.
  if (!Number.isInteger(sourceSize) || sourceSize < 0) {
    throw new MnasNetError('E_ARGUMENT', `options.sourceSize: expected an integer >= 0, got ${describeValue(sourceSize)}`);
  }
  const layerByLayer = options.layerByLayer ?? false;
  if (typeof layerByLayer !== 'boolean') {
    throw new MnasNetError('E_ARGUMENT', `options.layerByLayer: expected true or false, got ${describeValue(layerByLayer)}`);
  }
  return {
    wasm: options.wasm, baseUrl: readBaseUrl(options.baseUrl), mean, std, sourceSize,
    threads: readThreadsOption(options.threads), layerByLayer,
  };
}

// Per compiled module: its ABI table checked against abi.js once, and the
// limits of src/mnas.h it was built with.
const moduleLimits = new WeakMap();
function limitsOf(module, exports, mem) {
  let limits = moduleLimits.get(module);
  if (limits) return limits;
  const table = readAbiTable(exports, mem);
  const again = 'use the .wasm files of the same mnasnet-wasm release as this SDK';
  if (!table) throw new MnasNetError('E_STATE', `wasm: the module has no mnas_wasm_abi export (older than this SDK); ${again}`);
  const diff = compareAbi(table);
  if (diff.length) throw new MnasNetError('E_STATE', `wasm: the module's structs differ from this SDK's (${diff.join('; ')}); ${again}`);
  limits = Object.freeze(Object.fromEntries(LIMIT_NAMES.map((name) => [name, table.get(name)])));
  moduleLimits.set(module, limits);
  return limits;
}

export class MnasNet {
  #x; // wasm exports
  #mem; // () => typed-array views of the current memory
  #model = 0; // mnas_model*
  #scratch = 0; // S_SIZE bytes
  #topk = 0; // classes * 8 bytes: indices, then probabilities
  #pixels = 0; // image bytes, grown on demand and reused
  #pixelCap = 0;
  #planar = 0; // an NCHW input tensor, allocated on the first NCHW run()
  #se = []; // [{name, channels, height, width, ptr}]
  #embedding = 0; // the classifier's input in wasm memory, fixed while loaded (0: the model has none)
  #embeddingSize = 0;
  #fingerprint = ''; // modelFingerprint() of the loaded bytes
  #canvas = null; // for drawing browser image sources
  #baseline = 0; // heap in use before this model's allocations
  #inputSize; // {height, width, channels}
  #limits; // MNAS_MAX_* of this module
  #inputLayout = 'NCHW'; // as the model declares its input: 'NHWC' for a channels-last (Keras) model
  #labels = []; // class labels, each decoded from wasm memory when first needed
  #info; // built on first access: most callers never read the layer table or all labels
  #team = null; // the workers of a threaded build (threads.js)
  #poolThreads = 1; // threads of the model's pool
  #threadsReason = null; // why fewer threads than asked (or than automatic gives)

  constructor(token) {
    if (token !== CONSTRUCT) throw new MnasNetError('E_ARGUMENT', 'use `await MnasNet.load(model, options)`');
  }

  /**
   * Load a model: URL, Node path, ArrayBuffer/typed array of ONNX bytes, or
   * nothing for the CIFAR-10 model shipped with the package.
   */
  static async load(model, options) {
    const opt = readLoadOptions(options);
    if (model === undefined || model === null) model = defaultModelUrl(opt.baseUrl);
    else if (!isArrayBuffer(model) && !ArrayBuffer.isView(model) && typeof model !== 'string' && !isUrl(model)) {
      throw new MnasNetError('E_ARGUMENT', `model: expected a URL, a path or ONNX bytes, got ${describeValue(model)}`);
    }
    const plan = await planThreads(opt.threads, opt.wasm, opt.baseUrl);
    // The workers start while the .wasm compiles and the model is read, and
    // instantiate the module while this thread loads the model.
    let team = plan.threads > 1 ? Team.spawn(plan.threads - 1) : null;
    const net = new MnasNet(CONSTRUCT);
    try {
      // Fetch/read (and fingerprint) the model while the .wasm compiles.
      const [module, [bytes, fingerprint]] = await Promise.all([
        getModule(plan.wasm, opt.baseUrl),
        readBytes(model, 'model').then((b) => [b, modelFingerprint(b)]),
      ]);
      const name = typeof model === 'string' ? model : isUrl(model) ? model.href : 'model';
      if (bytes.byteLength === 0) throw new MnasNetError('E_MODEL_FORMAT', `${name}: no bytes (empty file or detached buffer)`);
      const threads = threadsFor(plan, module);
      const { exports, mem } = await instantiate(module, threads.memory);
      const limits = limitsOf(module, exports, mem);
      if (opt.sourceSize > limits.MNAS_MAX_SOURCE_SIZE) {
        throw new MnasNetError('E_LIMIT', `options.sourceSize: ${opt.sourceSize}; the limit is ${limits.MNAS_MAX_SOURCE_SIZE} (MNAS_MAX_SOURCE_SIZE)`);
      }
      if (bytes.byteLength > limits.MNAS_MAX_MODEL_BYTES) {
        throw new MnasNetError('E_LIMIT', `${name}: ${bytes.byteLength} bytes; the limit is ${limits.MNAS_MAX_MODEL_BYTES} bytes (MNAS_MAX_MODEL_BYTES)`);
      }
      // Files that are plainly not a model, or cut short, named before the C reader sees them.
      const problem = modelProblem(bytes);
      if (problem) throw new MnasNetError('E_MODEL_FORMAT', `${name}: ${problem}`);
      if (threads.threads > 1) team.init(module, threads.memory);
      else if (team) team = team.end(() => {});
      net.#limits = limits;
      // V8 optimizes a wasm function only after it has run for a while, and
      // a running call keeps its baseline code: every kernel run briefly
      // before the load (once per compiled module) is optimized in the
      // background while the model loads, not during the first inference.
      const warm = !WARMED.has(module);
      WARMED.add(module);
      net.#init(exports, mem, bytes, opt, warm);
      net.#fingerprint = fingerprint;
      await net.#startThreads(team, threads);
    } catch (e) {
      if (!net.#team) team?.end(() => {});
      throw e;
    }
    return net;
  }

  async #startThreads(team, threads) {
    this.#threadsReason = threads.reason;
    if (team) {
      const { ready, reason } = await team.ready();
      this.#team = team;
      try {
        this.#poolThreads = team.start(this.#x, this.#model, (n) => this.#malloc(n));
      } catch (e) {
        this.dispose();
        throw e;
      }
      if (ready < threads.threads - 1) this.#threadsReason = `${ready + 1} of ${threads.threads} threads started: ${reason}`;
    }
    if (threads.warn && this.#poolThreads < threads.asked) {
      console.warn(`mnasnet-wasm: ${threads.asked} threads asked for, running on ${this.#poolThreads}: ${this.#threadsReason}`);
    }
  }

  #init(x, mem, bytes, opt, warm) {
    this.#x = x;
    this.#mem = mem;
    // emmalloc claims its first region (4 bytes of bookkeeping) on the first
    // malloc; prime it so the baseline compares exactly with after dispose().
    x.free(x.malloc(1));
    if (warm) x.mnas_warm_up();
    this.#baseline = x.mnas_heap_in_use ? x.mnas_heap_in_use() : 0;
    this.#scratch = this.#malloc(S_SIZE);
    let st = x.mnas_create(this.#scratch + S_INTS);
    if (st) throw statusError(st, 'cannot create a model', 'load');
    this.#model = mem().u32[(this.#scratch + S_INTS) >> 2];

    // Options struct; zeroed fields mean "ImageNet mean/std, no pre-downscale".
    const o = this.#scratch + S_STRUCT;
    mem().u8.fill(0, o, o + OPTIONS.size);
    if (opt.mean) {
      mem().f32.set(opt.mean, (o + OPTIONS.mean) >> 2);
      mem().f32.set(opt.std, (o + OPTIONS.std) >> 2);
    }
    mem().i32[(o + OPTIONS.source_size) >> 2] = opt.sourceSize;
    mem().i32[(o + OPTIONS.threads) >> 2] = 1; // a threaded build's pool comes with its workers (#startThreads)
    mem().i32[(o + OPTIONS.layer_by_layer) >> 2] = opt.layerByLayer ? 1 : 0;

    // The engine takes the copy over: it packs most weights in place inside
    // it (no second copy of them) and frees it with the model.
    const p = this.#malloc(bytes.byteLength);
    mem().u8.set(bytes, p);
    st = x.mnas_load_owned(this.#model, p, bytes.byteLength, o);
    if (st) {
      const err = statusError(st, this.#error(), 'load');
      this.dispose();
      throw err;
    }
    // Only what run() and classify() need; the rest waits for `info`.
    const ints = this.#scratch + S_INTS;
    x.mnas_input_shape(this.#model, ints, ints + 4, ints + 8);
    const i32 = mem().i32;
    this.#inputSize = Object.freeze({ height: i32[ints >> 2], width: i32[(ints >> 2) + 1], channels: i32[(ints >> 2) + 2] });
    x.mnas_get_stats(this.#model, o);
    this.#inputLayout = mem().i32[(o + STATS.input_channels_last) >> 2] ? 'NHWC' : 'NCHW';
    this.#labels = new Array(x.mnas_num_classes(this.#model));
    this.#se = this.#seBlocks();
    this.#embedding = x.mnas_embedding(this.#model, ints);
    this.#embeddingSize = this.#embedding ? mem().i32[ints >> 2] : 0;
    this.#topk = this.#malloc(this.#labels.length * 8);
  }

  #label(i) {
    return (this.#labels[i] ??= cString(this.#mem().u8, this.#x.mnas_label(this.#model, i)) ?? String(i));
  }

  #malloc(n) {
    const p = this.#x.malloc(Math.max(n, 1));
    if (!p) throw new MnasNetError('E_NOMEM', `out of wasm memory allocating ${n} bytes`);
    return p;
  }

  #error() {
    return cString(this.#mem().u8, this.#x.mnas_error(this.#model)) || '';
  }

  // Gate pointers live in the activation arena, fixed for the model's lifetime.
  #seBlocks() {
    const x = this.#x;
    const s = this.#scratch + S_STRUCT;
    const se = [];
    for (let i = 0, n = x.mnas_se_count(this.#model); i < n; i++) {
      x.mnas_get_se(this.#model, i, s);
      const v = this.#mem();
      se.push({
        name: cString(v.u8, v.u32[(s + SE_BLOCK.name) >> 2]),
        channels: v.i32[(s + SE_BLOCK.channels) >> 2],
        height: v.i32[(s + SE_BLOCK.height) >> 2],
        width: v.i32[(s + SE_BLOCK.width) >> 2],
        ptr: v.u32[(s + SE_BLOCK.values) >> 2],
      });
    }
    return se;
  }

  #describe() {
    const x = this.#x;
    const m = this.#model;
    const s = this.#scratch + S_STRUCT;
    const labels = [];
    for (let i = 0; i < this.#labels.length; i++) labels.push(this.#label(i));
    const v = this.#mem();

    x.mnas_get_stats(m, s);
    const n64 = (off) => Number(v.dv.getBigInt64(s + off, true));
    const stats = {
      params: n64(STATS.params),
      macs: n64(STATS.macs),
      arenaBytes: n64(STATS.arena_bytes),
      weightBytes: n64(STATS.weight_bytes),
      layers: v.i32[(s + STATS.layers) >> 2],
      mean: Array.from(v.f32.subarray((s + STATS.mean) >> 2, ((s + STATS.mean) >> 2) + 3)),
      std: Array.from(v.f32.subarray((s + STATS.std) >> 2, ((s + STATS.std) >> 2) + 3)),
      sourceSize: v.i32[(s + STATS.source_size) >> 2],
      probabilities: v.i32[(s + STATS.output_is_probabilities) >> 2] !== 0,
    };

    const layers = [];
    for (let i = 0; i < stats.layers; i++) {
      x.mnas_get_layer(m, i, s);
      const i32 = (off) => v.i32[(s + off) >> 2];
      layers.push(
        Object.freeze({
          name: cString(v.u8, v.u32[(s + LAYER.name) >> 2]),
          kind: cString(v.u8, v.u32[(s + LAYER.kind) >> 2]),
          category: cString(v.u8, v.u32[(s + LAYER.category) >> 2]),
          input: Object.freeze({ height: i32(LAYER.in_h), width: i32(LAYER.in_w), channels: i32(LAYER.in_c) }),
          output: Object.freeze({ height: i32(LAYER.out_h), width: i32(LAYER.out_w), channels: i32(LAYER.out_c) }),
          kernel: i32(LAYER.kh),
          stride: i32(LAYER.stride),
          params: Number(v.dv.getBigInt64(s + LAYER.params, true)),
          macs: Number(v.dv.getBigInt64(s + LAYER.macs, true)),
          fusedWith: i32(LAYER.fused_with),
        }),
      );
    }

    const backend = cString(v.u8, x.mnas_backend()); // "wasm-relaxed-simd", "wasm-simd128" or "scalar"
    return Object.freeze({
      inputSize: this.#inputSize,
      inputLayout: this.#inputLayout,
      output: stats.probabilities ? 'probabilities' : 'logits',
      labels: Object.freeze(labels),
      layers: Object.freeze(layers),
      params: stats.params,
      macs: stats.macs,
      arenaBytes: stats.arenaBytes,
      weightBytes: stats.weightBytes,
      embeddingSize: this.#embeddingSize,
      fingerprint: this.#fingerprint,
      seBlocks: Object.freeze(this.#se.map(({ name, channels, height, width }) => Object.freeze({ name, channels, height, width }))),
      preprocessing: Object.freeze({ mean: stats.mean, std: stats.std, sourceSize: stats.sourceSize }),
      backend,
      threads: this.#poolThreads,
      threadsReason: this.#threadsReason,
      version: cString(v.u8, x.mnas_version()),
    });
  }

  /** Model description (see index.d.ts). */
  get info() {
    this.#live();
    return (this.#info ??= this.#describe());
  }

  #live() {
    if (!this.#model) throw new MnasNetError('E_DISPOSED', 'this MnasNet has been disposed');
  }

  /** Threads the next run uses (1 .. info.threads). */
  get threads() {
    this.#live();
    return this.#poolThreads > 1 ? this.#x.mnas_threads(this.#model) : 1;
  }

  /** Run on n threads from the next call on, 1 .. info.threads (the others sleep). */
  setThreads(n) {
    this.#live();
    if (!Number.isInteger(n) || n < 1 || n > this.#poolThreads) {
      throw new MnasNetError('E_ARGUMENT', `setThreads: expected an integer 1..${this.#poolThreads} (info.threads)`);
    }
    if (this.#poolThreads > 1) {
      const st = this.#x.mnas_set_threads(this.#model, n);
      if (st) throw statusError(st, this.#error());
    }
  }

  /**
   * Classify an image: ImageData, a canvas, video, image, ImageBitmap or
   * VideoFrame (browsers), or {data, width, height} with RGBA or RGB bytes:
   * the result, synchronously. An image file (a Blob or File, or its bytes)
   * is decoded first: the bytes of a PNG or JPEG file in Node synchronously
   * too; a Blob, and image bytes in browsers, give a Promise of the result.
   * `await net.classify(x)` works for every source.
   */
  classify(source, options) {
    this.#live();
    const opt = readRunOptions(options, true);
    if (opt.embedding) this.#needEmbedding();
    const img = this.#pixelsOf(source);
    if (typeof img.then !== 'function') return this.#classifyPixels(img, opt);
    return img.then((decoded) => {
      this.#live(); // disposed while the image decoded
      return this.#classifyPixels(this.#checked(decoded), opt);
    });
  }

  #classifyPixels({ data, width, height }, opt) {
    const n = width * height;
    const bpp = data.length === n * 4 ? 4 : data.length === n * 3 ? 3 : 0;
    if (!bpp) {
      throw new MnasNetError(
        'E_INPUT',
        `image data has ${data.length} bytes; ${width}x${height} needs ${n * 4} (RGBA) or ${n * 3} (RGB)`,
      );
    }
    if (data.length > this.#pixelCap) {
      // Grow only: a video or camera stream keeps one size, so this runs once.
      this.#x.free(this.#pixels);
      this.#pixels = 0;
      this.#pixelCap = 0;
      this.#pixels = this.#malloc(data.length);
      this.#pixelCap = data.length;
    }
    this.#mem().u8.set(data, this.#pixels);
    const t0 = performance.now();
    const st = this.#x.mnas_run_image(this.#model, this.#pixels, width, height, 0, bpp === 4 ? PIXEL_FORMAT.RGBA : PIXEL_FORMAT.RGB);
    return this.#result(st, t0, opt);
  }

  /**
   * Run on a normalized float tensor, by default in the layout the model
   * declares (info.inputLayout: NCHW, or NHWC for a channels-last model);
   * options.layout picks the other.
   */
  run(tensor, options) {
    this.#live();
    const opt = readRunOptions(options, false, this.#inputLayout);
    if (opt.embedding) this.#needEmbedding();
    const { height: h, width: w, channels: c } = this.#inputSize;
    const count = h * w * c;
    const k = kind(tensor);
    if (!(k === 'Float32Array' || k === 'Float64Array' || Array.isArray(tensor))) {
      throw new MnasNetError('E_INPUT', `run: expected a Float32Array, got ${describeValue(tensor)}`);
    }
    if (tensor.length !== count) {
      throw new MnasNetError('E_INPUT', `run: tensor has ${tensor.length} values; the model takes ${c}x${h}x${w} = ${count}`);
    }
    const x = this.#x;
    // NHWC goes straight into the model's input; NCHW into a buffer of its
    // own, transposed by the engine (SIMD), several times faster than JS.
    const nhwc = opt.layout === 'NHWC';
    const dst = nhwc ? x.mnas_input_buffer(this.#model) : (this.#planar ||= this.#malloc(count * 4));
    this.#mem().f32.set(tensor, dst >> 2);
    const t0 = performance.now();
    const st = (nhwc ? x.mnas_run : x.mnas_run_nchw)(this.#model, dst, count);
    return this.#result(st, t0, opt);
  }

  #needEmbedding() {
    if (!this.#embeddingSize) {
      throw new MnasNetError(
        'E_ARGUMENT',
        "options.embedding: this model's output is not computed by a Gemm/MatMul classifier, so it has no embedding (info.embeddingSize is 0)",
      );
    }
  }

  #result(st, t0, opt) {
    const x = this.#x;
    const m = this.#model;
    if (st) throw statusError(st, this.#error());
    const timeMs = performance.now() - t0;
    const ints = this.#scratch + S_INTS;
    const logitsPtr = x.mnas_logits(m, ints);
    let v = this.#mem();
    const classes = v.i32[ints >> 2];
    const k = Math.min(opt.topK, classes);
    const top = [];
    if (k > 0) {
      const idx = this.#topk;
      const prob = this.#topk + classes * 4;
      const s = x.mnas_topk(m, k, idx, prob, ints);
      if (s) throw statusError(s, this.#error());
      v = this.#mem();
      for (let i = 0; i < k; i++) {
        const index = v.i32[(idx >> 2) + i];
        top.push({ index, label: this.#label(index), probability: v.f32[(prob >> 2) + i] });
      }
    }
    const floats = (ptr, n) => {
      const view = new Float32Array(v.buffer, ptr, n);
      return opt.views ? view : view.slice();
    };
    const result = {
      top,
      logits: floats(logitsPtr, classes),
      excitations: this.#se.map((b) => ({
        name: b.name,
        channels: b.channels,
        height: b.height,
        width: b.width,
        values: floats(b.ptr, b.channels),
      })),
      timeMs,
    };
    if (opt.embedding) result.embedding = floats(this.#embedding, this.#embeddingSize);
    return result;
  }

  // RGBA/RGB bytes of a source, validated before anything touches wasm
  // memory, or a Promise of the unvalidated pixels of an image file.
  #pixelsOf(source) {
    if (source === null || typeof source !== 'object') {
      throw new MnasNetError('E_ARGUMENT', `classify: expected an image source, got ${describeValue(source)}`);
    }
    if (isArrayBuffer(source) || ArrayBuffer.isView(source)) {
      const img = this.#decode(isArrayBuffer(source) ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength), kind(source));
      return typeof img.then === 'function' ? img : this.#checked(img);
    }
    const k0 = kind(source);
    // a Blob or File, or anything shaped like one (another realm's, a polyfill's)
    if (k0 === 'Blob' || k0 === 'File' || (typeof Blob === 'function' && source instanceof Blob) ||
        (source.data === undefined && typeof source.arrayBuffer === 'function' && typeof source.size === 'number')) {
      return this.#decodeBlob(source, k0 === 'File' ? 'File' : 'Blob');
    }
    if (source.data === undefined) return this.#checked(this.#draw(source));
    return this.#checked(source);
  }

  #checked({ data, width, height }) {
    for (const [name, v] of [['width', width], ['height', height]]) {
      if (typeof v !== 'number') throw new MnasNetError('E_INPUT', `classify: ${name} must be a number, got ${describeValue(v)}`);
    }
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new MnasNetError('E_INPUT', `classify: image size ${width}x${height}; each side must be a positive integer`);
    }
    const side = this.#limits.MNAS_MAX_IMAGE_SIDE;
    if (width > side || height > side) {
      // the engine's own limit, checked here so that a rejected image allocates nothing
      throw new MnasNetError('E_LIMIT', `classify: image size ${width}x${height}; the limit is ${side} pixels a side (MNAS_MAX_IMAGE_SIDE)`);
    }
    if (isArrayBuffer(data)) data = new Uint8Array(data);
    const k = kind(data);
    if (k !== 'Uint8Array' && k !== 'Uint8ClampedArray') {
      throw new MnasNetError('E_INPUT', `classify: data must be a Uint8Array or Uint8ClampedArray, got ${k}`);
    }
    if (data.buffer.detached || (data.length === 0 && data.buffer.byteLength === 0)) {
      throw new MnasNetError('E_INPUT', 'classify: image data buffer is detached or empty');
    }
    // Plain bytes view: set() from a Uint8ClampedArray would go element by element.
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
  }

  // A Blob or File: its bytes, read asynchronously, then as #decode.
  async #decodeBlob(blob, k) {
    let bytes;
    try {
      bytes = new Uint8Array(await blob.arrayBuffer());
    } catch (e) {
      throw new MnasNetError('E_INPUT', `classify: cannot read the ${k}: ${e.message}`);
    }
    this.#live();
    return this.#decode(bytes, k, blob);
  }

  // The pixels of an image file: PNG (the SDK's decoder) and JPEG (jpeg-js)
  // in Node, synchronously; in browsers a Promise: PNG by the SDK's decoder,
  // other formats by createImageBitmap. Everything else named, with what to do instead.
  #decode(bytes, what, blob) {
    const sig = fileSignature(bytes);
    const image = sig && ['png', 'jpeg', 'gif', 'webp', 'bmp'].includes(sig.type);
    if (!image) {
      throw new MnasNetError(
        'E_INPUT',
        `classify: got ${bytes.length} bytes (${what}) that are not an image file${sig ? ` but ${sig.what}` : ''}; ` +
          'pass {data, width, height} with RGBA or RGB pixels, or the bytes of a PNG or JPEG file',
      );
    }
    if (!IS_NODE) return this.#decodeInBrowser(bytes, sig, blob);
    if (sig.type === 'png') {
      const zlib = builtin('node:zlib');
      if (!zlib) throw new MnasNetError('E_STATE', `classify: cannot decode a PNG: ${BUILTIN_HINT}`);
      return decodePng(bytes, zlib.inflateSync, this.#limits.MNAS_MAX_IMAGE_SIDE);
    }
    if (sig.type === 'jpeg') return decodeJpeg(bytes);
    throw new MnasNetError(
      'E_INPUT',
      `classify: these bytes are ${sig.what}; in Node the SDK decodes PNG and JPEG only: convert it to PNG, or decode it to pixels and pass {data, width, height}`,
    );
  }

  async #decodeInBrowser(bytes, sig, blob) {
    const side = this.#limits.MNAS_MAX_IMAGE_SIDE;
    const inflate = sig.type === 'png' ? streamInflate() : null;
    if (inflate) return decodePng(bytes, inflate, side);
    if (typeof createImageBitmap !== 'function') {
      throw new MnasNetError('E_INPUT', `classify: these bytes are ${sig.what} and this runtime has no createImageBitmap to decode it; pass {data, width, height} with RGBA or RGB pixels`);
    }
    let bitmap;
    try {
      // The file's own colours and alpha, as Node reads them: no colour
      // management, no premultiplication by createImageBitmap.
      const file = blob instanceof Blob ? blob : new Blob([bytes], { type: `image/${sig.type}` }); // not a Blob-shaped object
      bitmap = await createImageBitmap(file, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    } catch (e) {
      throw new MnasNetError('E_INPUT', `classify: the browser cannot decode these bytes (${sig.what}): ${e.message}`);
    }
    try {
      this.#live();
      if (bitmap.width > side || bitmap.height > side) {
        throw new MnasNetError('E_LIMIT', `classify: image size ${bitmap.width}x${bitmap.height}; the limit is ${side} pixels a side (MNAS_MAX_IMAGE_SIDE)`);
      }
      return this.#draw(bitmap);
    } finally {
      bitmap.close();
    }
  }

  // Browser sources: draw into a (reused) canvas and read RGBA back.
  #draw(source) {
    const width = source.videoWidth || source.naturalWidth || source.displayWidth || source.width;
    const height = source.videoHeight || source.naturalHeight || source.displayHeight || source.height;
    if (typeof source.readyState === 'number' && source.readyState < 2 && 'videoWidth' in source) {
      throw new MnasNetError('E_INPUT', 'classify: the video has no frame yet (readyState < HAVE_CURRENT_DATA)');
    }
    if (source.complete === false) throw new MnasNetError('E_INPUT', 'classify: the image has not finished loading');
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new MnasNetError(
        'E_INPUT',
        `classify: a ${kind(source)} without a size is not an image source; pass {data, width, height} with RGBA or RGB ` +
          'pixels, ImageData, a canvas, video, image, ImageBitmap or VideoFrame, or a PNG or JPEG file (Blob, File or its bytes)',
      );
    }
    let c = this.#canvas;
    if (!c) {
      if (typeof OffscreenCanvas === 'function') c = new OffscreenCanvas(width, height);
      else if (typeof document === 'object') c = document.createElement('canvas');
      else throw new MnasNetError('E_INPUT', `classify: cannot draw a ${kind(source)} here; pass {data, width, height}`);
      this.#canvas = c;
    }
    if (c.width !== width || c.height !== height) {
      c.width = width;
      c.height = height;
    }
    const ctx = c.getContext('2d', { willReadFrequently: true });
    try {
      ctx.drawImage(source, 0, 0, width, height);
    } catch (e) {
      throw new MnasNetError('E_INPUT', `classify: cannot draw the source: ${e.message}`);
    }
    return ctx.getImageData(0, 0, width, height);
  }

  /** Free the model, its workers and its wasm instance; later calls throw E_DISPOSED. Idempotent. */
  dispose() {
    if (!this.#scratch) return;
    const x = this.#x;
    // mnas_free stops the pool and waits until every worker has left it
    if (this.#model) x.mnas_free(this.#model);
    this.#team?.end((p) => x.free(p));
    this.#team = null;
    for (const p of [this.#topk, this.#pixels, this.#planar, this.#scratch]) if (p) x.free(p);
    this.#model = this.#topk = this.#pixels = this.#pixelCap = this.#planar = this.#scratch = 0;
    this.#canvas = null;
    this.#se = [];
    this.#embedding = this.#embeddingSize = 0;
    // Keep the exports for [kInternals] (tests); the instance is unreachable once `this` is.
  }

  /** Test-only: the raw wasm exports, memory and heap baseline. */
  [kInternals]() {
    return { exports: this.#x, memory: this.#x.memory, baseline: this.#baseline, model: this.#model, limits: this.#limits };
  }
}

const JPEG_HINT =
  'decoding a JPEG in Node needs the npm package jpeg-js, an optional peer dependency of mnasnet-wasm: ' +
  'run `npm install jpeg-js`, or decode the image yourself and pass {data, width, height} with RGBA or RGB pixels';

/** A JPEG file's RGB pixels, by jpeg-js (Node). */
function decodeJpeg(bytes) {
  const jpeg = optionalPackage('jpeg-js');
  if (!jpeg) throw new MnasNetError('E_INPUT', `classify: these bytes are a JPEG image; ${JPEG_HINT}`);
  try {
    // jpeg-js's own limits (100 megapixels, 512 MB) bound what a file can make it allocate
    const { data, width, height } = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
    return { data, width, height };
  } catch (e) {
    throw new MnasNetError('E_INPUT', `classify: JPEG: ${e?.message ?? String(e)}; the file is damaged or not a JPEG jpeg-js can read`);
  }
}

function readRunOptions(options, image, defaultLayout = 'NCHW') {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new MnasNetError('E_ARGUMENT', `options: expected an object, got ${describeValue(options)}`);
  const topK = options.topK ?? 5;
  if (!Number.isInteger(topK) || topK < 0) {
    throw new MnasNetError('E_ARGUMENT', `options.topK: expected an integer >= 0, got ${describeValue(topK)}`);
  }
  const layout = options.layout ?? defaultLayout;
  if (!image && layout !== 'NCHW' && layout !== 'NHWC') {
    throw new MnasNetError('E_ARGUMENT', `options.layout: expected 'NCHW' or 'NHWC', got ${describeValue(layout)}`);
  }
  return { topK, views: Boolean(options.views), embedding: Boolean(options.embedding), layout };
}
