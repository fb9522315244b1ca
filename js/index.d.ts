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
  | 'E_STATE'; // call not valid now

export class MnasNetError extends Error {
  readonly name: 'MnasNetError';
  readonly code: MnasNetErrorCode;
  /** The C core's mnas_status, when the error came from it. */
  readonly status?: number;
}

/** A URL object (typed structurally: the declarations need neither the DOM lib nor @types/node). */
export type UrlLike = { readonly href: string };

/**
 * Which .wasm to run: 'relaxed' (SIMD with relaxed SIMD's fused multiply-add),
 * 'simd' (WebAssembly SIMD), 'scalar', or the URL (or Node path) of a .wasm
 * file. Default: the first of relaxed, simd, scalar the runtime supports.
 * With more than one thread, 'relaxed' and 'simd' run their threaded
 * counterparts (mnasnet-threads-relaxed.wasm, mnasnet-threads.wasm); a
 * .wasm file of your own runs threaded when it is one of those.
 */
export type WasmChoice = 'relaxed' | 'simd' | 'scalar' | UrlLike | string;

export interface LoadOptions {
  wasm?: WasmChoice;
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
 * HTMLImageElement (width/height), HTMLVideoElement (videoWidth/videoHeight).
 * Typed structurally so that the declarations need no DOM lib.
 */
export type DrawableSource = { readonly width: number; readonly height: number } | { readonly videoWidth: number; readonly videoHeight: number };

/** PixelData (and ImageData, which is one) or a drawable browser source. */
export type ImageSource = PixelData | DrawableSource;

export interface RunOptions {
  /** Number of best classes in `top` (clamped to the class count). Default 5. */
  topK?: number;
  /** true: `logits` and excitation `values` are views into wasm memory, valid until the next call on this model. Default false (copies). */
  views?: boolean;
}

export interface TensorOptions extends RunOptions {
  /** Layout of the float tensor (batch 1). Default 'NCHW'. */
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
  top: Prediction[];
  logits: Float32Array;
  excitations: Excitation[];
  /** Engine time of this call (preprocessing + inference), in ms. */
  timeMs: number;
}

export interface Shape {
  height: number;
  width: number;
  channels: number;
}

export interface LayerInfo {
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
}

export interface SeBlockInfo {
  name: string;
  channels: number;
  height: number;
  width: number;
}

export interface ModelInfo {
  inputSize: Shape;
  /** One per class; the class index as a string when the model has no labels. */
  labels: readonly string[];
  layers: readonly LayerInfo[];
  params: number;
  macs: number;
  /** Activation arena and packed weights, in bytes. */
  arenaBytes: number;
  weightBytes: number;
  seBlocks: readonly SeBlockInfo[];
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
  /** Classify an image (synchronous). Preprocessing (centre crop, resize, normalization) runs in the engine. */
  classify(source: ImageSource, options?: RunOptions): Result;
  /** Run on an already normalized float tensor of inputSize (batch 1). */
  run(tensor: Float32Array | Float64Array | number[], options?: TensorOptions): Result;
  /** Threads the next call uses (1 .. info.threads). */
  readonly threads: number;
  /** Use n threads (1 .. info.threads) from the next call on; the others sleep. */
  setThreads(n: number): void;
  /** Free the model, its workers and its wasm instance. Later calls throw E_DISPOSED. */
  dispose(): void;
}

export const VERSION: string;
