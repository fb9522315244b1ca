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
 * Which .wasm to run: 'auto' (the default: the first of relaxed, simd, scalar
 * the runtime supports), 'relaxed' (SIMD with relaxed SIMD's fused
 * multiply-add), 'simd' (WebAssembly SIMD), 'scalar', or the URL (or Node
 * path) of a .wasm file.
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
 * Node a PNG is decoded by the SDK; other formats, and any file in a browser,
 * throw E_INPUT saying how to decode them (createImageBitmap in browsers).
 */
export type EncodedImage = ArrayBuffer | ArrayBufferView;

/** PixelData (and ImageData, which is one), a drawable browser source, or the bytes of a PNG file (Node). */
export type ImageSource = PixelData | DrawableSource | EncodedImage;

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
  /** Free the model and its wasm instance. Later calls throw E_DISPOSED. */
  dispose(): void;
}

export const VERSION: string;
