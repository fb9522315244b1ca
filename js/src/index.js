// mnasnet-wasm: MnasNet inference in WebAssembly for browsers, workers and Node.
export { MnasNet } from './mnasnet.js';
export { MnasNetError } from './errors.js';
export { TeachableHead } from './head.js';
export const VERSION = '0.1.0'; // = MNAS_VERSION in src/mnas.h and package.json (checked by tests/js)
