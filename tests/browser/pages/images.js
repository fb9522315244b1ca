// The page side of tests/browser/images.test.mjs: runs a case of
// images-case.js here or in a module worker (images-worker.js).
import { runImages } from './images-case.js';

window.runImages = async ({ inWorker = false, ...args }) => {
  if (!inWorker) return runImages(args);
  const w = new Worker(new URL('./images-worker.js', import.meta.url), { type: 'module' });
  try {
    return await new Promise((resolve, reject) => {
      w.onmessage = (e) => (e.data.ok ? resolve(e.data.result) : reject(new Error(e.data.error)));
      w.onerror = (e) => reject(new Error(`worker failed: ${e.message}`));
      w.postMessage(args);
    });
  } finally {
    w.terminate();
  }
};
window.pageReady = true;
