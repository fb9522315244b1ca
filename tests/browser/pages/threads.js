// The page side of tests/browser/threads.test.mjs: one case = load the
// SDK's default model with the given options (here, or in a module worker
// running threads-worker.js, as the demo runs the SDK), classify one
// synthetic frame, report info.threads, the reason and the logits' bits.
import { runCase } from './threads-case.js';

window.runCase = async ({ inWorker = false, ...options } = {}) => {
  if (!inWorker) return runCase(options);
  const w = new Worker(new URL('./threads-worker.js', import.meta.url), { type: 'module' });
  try {
    return await new Promise((resolve, reject) => {
      w.onmessage = (e) => (e.data.ok ? resolve(e.data.result) : reject(new Error(e.data.error)));
      w.onerror = (e) => reject(new Error(`worker failed: ${e.message}`));
      w.postMessage(options);
    });
  } finally {
    w.terminate();
  }
};
window.pageReady = true;
