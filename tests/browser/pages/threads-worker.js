// A module Web Worker that runs one case of threads-case.js: the SDK inside
// a worker starts its own (nested) workers.
import { runCase } from './threads-case.js';

self.onmessage = async (e) => {
  try {
    self.postMessage({ ok: true, result: await runCase(e.data) });
  } catch (err) {
    self.postMessage({ ok: false, error: `${err.code || ''} ${err.message}` });
  }
};
