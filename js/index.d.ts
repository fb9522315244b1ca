// Type declarations for mnasnet-wasm.

/** Stable error codes of {@link MnasNetError}. */
export type MnasNetErrorCode =
  | 'E_MODEL_FORMAT' // not a well-formed ONNX model, or an inconsistent graph
  | 'E_UNSUPPORTED_OP' // a well-formed model uses an op or attribute the engine does not run
  | 'E_INPUT' // bad image or tensor: sizes, types, detached buffers
  | 'E_ARGUMENT' // bad argument or option
  | 'E_LIMIT' // a documented size limit was exceeded
  | 'E_NOMEM' // out of wasm memory
  | 'E_IO' // the model or .wasm could not be read or fetched
  | 'E_DISPOSED' // the MnasNet was disposed
  | 'E_STATE' // call not valid now
  | 'E_MODEL_MISMATCH'; // a saved TeachableHead belongs to another model

export class MnasNetError extends Error {
  readonly name: 'MnasNetError';
  readonly code: MnasNetErrorCode;
  /** The C core's mnas_status, when the error came from it. */
  readonly status?: number;
}

/** A URL object (typed structurally: the declarations need neither the DOM lib nor @types/node). */
export type UrlLike = { readonly href: string };

/**
 * Which .wasm to run: 'auto' (the default: the first of relaxed, simd, scalar
 * the runtime supports), 'relaxed' (SIMD with relaxed SIMD's fused
 * multiply-add), 'simd' (WebAssembly SIMD), 'scalar', or the URL (or Node
 * path) of a .wasm file.
 * With more than one thread, 'relaxed' and 'simd' run their threaded
 * counterparts (mnasnet-threads-relaxed.wasm, mnasnet-threads.wasm); a
 * .wasm file of your own runs threaded when it is one of those.
 */
export type WasmChoice = 'auto' | 'relaxed' | 'simd' | 'scalar' | UrlLike | string;

export interface LoadOptions {
  wasm?: WasmChoice;
  /**
   * The folder that holds mnasnet.wasm, mnasnet-relaxed.wasm, mnasnet-scalar.wasm
   * (and the default model) when they are not beside the SDK's module: a CDN,
   * a copied dist/. A URL (relative URLs resolve against the page), in Node
   * also a directory path. The build is still picked automatically.
   */
  baseUrl?: string | UrlLike;
  /** Per-channel RGB mean and std for image preprocessing (pixels / 255). Used when the model's metadata has none. Default: ImageNet. */
  mean?: [number, number, number] | ArrayLike<number>;
  std?: [number, number, number] | ArrayLike<number>;
  /** Area-downscale the centre crop to this size before resizing to the input size (0: off). Used when the model's metadata has none. */
  sourceSize?: number;
  /**
   * Threads, this one included: 'auto' (default, also 0) = min(4, processors)
   * where threads can run (Node; browsers on a cross-origin-isolated page),
   * else 1; 1 = the single-thread build; 2..64. Results are the same bit for
   * bit whatever the count. Fewer threads than asked: `info.threadsReason`
   * says why, and an explicit count also warns on the console.
   */
  threads?: number | 'auto';
  /**
   * Run every layer whole, one after another, instead of running the layers of each large
   * inverted-residual block together in bands of rows (the default, which keeps the tensors between
   * them out of memory). Results are the same bit for bit; this is for per-layer profiling and comparisons.
   */
  layerByLayer?: boolean;
}

/** Where a model comes from: a URL (browser), a file path or file: URL (Node), or the ONNX bytes. */
export type ModelSource = string | UrlLike | ArrayBuffer | ArrayBufferView;

/** 8-bit pixels, row-major, no padding: RGBA (4 bytes per pixel) or RGB (3), inferred from data.length. */
export interface PixelData {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * Anything the browser can draw: ImageBitmap, OffscreenCanvas, HTMLCanvasElement,
 * HTMLImageElement (width/height), HTMLVideoElement (videoWidth/videoHeight),
 * VideoFrame (displayWidth/displayHeight).
 * Typed structurally so that the declarations need no DOM lib.
 */
export type DrawableSource =
  | { readonly width: number; readonly height: number }
  | { readonly videoWidth: number; readonly videoHeight: number }
  | { readonly displayWidth: number; readonly displayHeight: number };

/**
 * The bytes of an image file (a Node Buffer from readFileSync, for one). In
 * Node PNG (the SDK's decoder) and JPEG (the optional peer dependency
 * jpeg-js) decode synchronously; in browsers any format the browser reads
 * decodes asynchronously (classify returns a Promise). Other formats in Node,
 * and JPEG in Node without jpeg-js, throw E_INPUT saying what to do.
 */
export type EncodedImage = ArrayBuffer | ArrayBufferView;

/**
 * A Blob or File holding an image file (PNG or JPEG in Node, any format the
 * browser reads in browsers); classify returns a Promise. Typed structurally
 * so that the declarations need no DOM lib.
 */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** PixelData (and ImageData, which is one), a drawable browser source, or the bytes of an image file. */
export type ImageSource = PixelData | DrawableSource | EncodedImage;

export interface RunOptions {
  /** Number of best classes in `top` (clamped to the class count). Default 5. */
  topK?: number;
  /** true: `logits`, excitation `values` and `embedding` are views into wasm memory, valid until the next call on this model. Default false (copies). */
  views?: boolean;
  /** true: the result carries `embedding`, the classifier's input. Throws E_ARGUMENT when the model has none (info.embeddingSize 0). Default false. */
  embedding?: boolean;
}

export interface TensorOptions extends RunOptions {
  /** Layout of the float tensor (batch 1). Default: info.inputLayout, the model's own. */
  layout?: 'NCHW' | 'NHWC';
}

export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** The gate of one squeeze-and-excitation block: one value in [0, 1] per channel. */
export interface Excitation {
  name: string;
  channels: number;
  /** Feature map the gate scales. */
  height: number;
  width: number;
  values: Float32Array;
}

export interface Result {
  /** Best classes by probability: the softmax of the logits, or the model's own probabilities (info.output). */
  top: Prediction[];
  /** The model's output: logits, or probabilities when info.output is 'probabilities'. */
  logits: Float32Array;
  excitations: Excitation[];
  /** The classifier's input (info.embeddingSize floats, e.g. 1280 for MnasNet-A1), when asked for with `embedding: true`. */
  embedding?: Float32Array;
  /** Engine time of this call (preprocessing + inference), in ms. */
  timeMs: number;
}

export interface Shape {
  height: number;
  width: number;
  channels: number;
}

export interface LayerInfo {
  /**
   * The layer's weights' name without its last '.' or '/' component ('blocks.2.0.conv_pw' for
   * 'blocks.2.0.conv_pw.weight'); the ONNX node name for layers without weights (pooling, adds) and where the
   * exporter generated the weight name ('onnx::Conv_5'). An SE block is named after its two 1x1 layers ('blocks.2.0.se').
   */
  name: string;
  /** 'conv', 'conv1x1', 'dwconv', 'se', 'gap', 'fc', 'add', 'act', ... */
  kind: string;
  /** 'stem/conv', '1x1', 'depthwise', 'se', 'other' */
  category: string;
  input: Shape;
  output: Shape;
  kernel: number;
  stride: number;
  params: number;
  macs: number;
  /**
   * Index of the first layer of the fused inverted-residual block this layer runs in (the layers of such a
   * block run together in bands of rows), or -1 when it runs on its own (always with `layerByLayer`).
   */
  fusedWith: number;
}

export interface SeBlockInfo {
  name: string;
  channels: number;
  height: number;
  width: number;
}

export interface ModelInfo {
  inputSize: Shape;
  /**
   * The input layout the model declares: 'NHWC' for a channels-last model (a Keras/TensorFlow export whose
   * input (1, H, W, 3) is followed by Transpose(perm = [0, 3, 1, 2]), folded away), else 'NCHW'.
   * run() takes tensors in this layout unless options.layout says otherwise; classify() is the same for both.
   */
  inputLayout: 'NCHW' | 'NHWC';
  /** What `logits` hold: 'probabilities' when the model ends in a Softmax (then `top` reports them as they are), else 'logits'. */
  output: 'logits' | 'probabilities';
  /** One per class; the class index as a string when the model has no labels. */
  labels: readonly string[];
  layers: readonly LayerInfo[];
  params: number;
  macs: number;
  /** Activation arena and packed weights, in bytes. */
  arenaBytes: number;
  weightBytes: number;
  seBlocks: readonly SeBlockInfo[];
  /** Length of the embedding (the input of the Gemm/MatMul classifier computing the output); 0 when the output is computed otherwise. */
  embeddingSize: number;
  /** Identity of the loaded model file (a hash of its length and of samples of its bytes), e.g. to tie a TeachableHead to it. */
  fingerprint: string;
  /** Image preprocessing in effect (model metadata, else load options, else ImageNet). */
  preprocessing: { mean: number[]; std: number[]; sourceSize: number };
  backend: 'wasm-relaxed-simd' | 'wasm-simd128' | 'scalar';
  /** Threads of the model's pool, this one included (1: the single-thread build). */
  threads: number;
  /** Why `threads` is fewer than asked (or than 'auto' would give), else null. */
  threadsReason: string | null;
  version: string;
}

export class MnasNet {
  private constructor();
  /** Load a model; without one, the CIFAR-10 MnasNet-A1 shipped in the package. */
  static load(model?: ModelSource | null, options?: LoadOptions): Promise<MnasNet>;
  readonly info: ModelInfo;
  /**
   * Classify an image file given as a Blob or File: decoded first, so the result comes as a Promise.
   * Alpha is ignored for every source: the colour channels are used as stored.
   */
  classify(source: BlobLike, options?: RunOptions): Promise<Result>;
  /** Classify pixels or a drawable browser source (synchronous). Preprocessing (centre crop, resize, normalization) runs in the engine. */
  classify(source: PixelData | DrawableSource, options?: RunOptions): Result;
  /**
   * Classify the bytes of an image file: synchronous in Node (PNG, and JPEG with jpeg-js), a Promise in
   * browsers; `await net.classify(bytes)` works in both.
   */
  classify(source: EncodedImage, options?: RunOptions): Result | Promise<Result>;
  /** Any source: `await net.classify(source)` gives the result for each. */
  classify(source: ImageSource | BlobLike, options?: RunOptions): Result | Promise<Result>;
  /** Run on an already normalized float tensor of inputSize (batch 1), in info.inputLayout unless options.layout says otherwise. */
  run(tensor: Float32Array | Float64Array | number[], options?: TensorOptions): Result;
  /** Threads the next call uses (1 .. info.threads). */
  readonly threads: number;
  /** Use n threads (1 .. info.threads) from the next call on; the others sleep. */
  setThreads(n: number): void;
  /** Free the model, its workers and its wasm instance. Later calls throw E_DISPOSED. */
  dispose(): void;
}

/** The model a TeachableHead belongs to. */
export interface ModelIdentity {
  fingerprint: string;
  embeddingSize: number;
}

/** An embedding: info.embeddingSize numbers. */
export type Embedding = Float32Array | Float64Array | readonly number[];

export interface HeadScore {
  label: string;
  /** Probability-like, the scores sum to 1. */
  confidence: number;
  /** Cosine similarity between the input's embedding and the class mean, in [-1, 1]. */
  similarity: number;
}

export interface HeadPrediction {
  label: string;
  confidence: number;
  /** Every class with examples, most likely first. */
  scores: HeadScore[];
}

export interface HeadTrainOptions {
  /** Full-batch gradient steps. Default 100. */
  epochs?: number;
  /** Default 0.1. */
  learningRate?: number;
  /** Weight decay. Default 1e-3. */
  l2?: number;
}

export interface HeadJSON {
  format: 'mnasnet-wasm/teachable-head';
  version: 1;
  model: ModelIdentity;
  scale: number;
  /** Examples are L2-normalized embeddings, base64 of little-endian float32. */
  classes: { name: string; examples: { id: number; embedding: string }[] }[];
  softmax: { names: string[]; weights: string; bias: number[] } | null;
}

/**
 * Classes taught from a few examples on a model's embedding: nearest class
 * mean on L2-normalized embeddings (ready at once), optionally a trained
 * softmax layer. Plain JavaScript: works in Web Workers too.
 */
export class TeachableHead {
  /** model: a MnasNet (image sources can then be passed) or its identity (embeddings only). */
  constructor(model: MnasNet | ModelIdentity, options?: { scale?: number });
  readonly model: ModelIdentity;
  /** Class names, in the order they were added. */
  readonly classes: string[];
  /** Examples per class. */
  readonly counts: Record<string, number>;
  /** Total number of examples. */
  readonly size: number;
  /** At least two classes have examples. */
  readonly ready: boolean;
  /** 'softmax' while a trained layer matches the examples, else 'mean'. */
  readonly method: 'mean' | 'softmax';
  addClass(name: string): string;
  renameClass(from: string, to: string): void;
  removeClass(name: string): void;
  clear(): void;
  /** Adds an example (creating the class when new); returns its id. */
  addExample(name: string, input: Embedding | ImageSource): number;
  removeExample(id: number): boolean;
  exampleIds(name: string): number[];
  /** The embedding of an image source (needs the MnasNet), or the embedding itself. */
  embed(input: Embedding | ImageSource): Embedding;
  predict(input: Embedding | ImageSource, options?: { method?: 'mean' | 'softmax' }): HeadPrediction;
  train(options?: HeadTrainOptions): { epochs: number; loss: number; accuracy: number };
  toJSON(): HeadJSON;
  /** Throws E_MODEL_MISMATCH when model is given and is not the one the head was taught on. */
  static fromJSON(json: HeadJSON | string, model?: MnasNet | ModelIdentity): TeachableHead;
}

export const VERSION: string;
