// A module Web Worker running one case of images-case.js: Blob and File
// decoding inside a worker (OffscreenCanvas, no document).
import { runImages } from './images-case.js';

self.onmessage = async (e) => {
  try {
    self.postMessage({ ok: true, result: await runImages(e.data) });
  } catch (err) {
    self.postMessage({ ok: false, error: `${err.code || ''} ${err.message}` });
  }
};
