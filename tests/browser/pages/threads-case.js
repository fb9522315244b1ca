// One case of the browser threads test, on the page or in a worker: load,
// classify a fixed synthetic 32x32 frame, switch threads and classify
// again, dispose. Warnings the SDK prints are collected.
import { MnasNet } from '../../../js/src/index.js';

export async function runCase(options) {
  const warnings = [];
  const warn = console.warn;
  console.warn = (...a) => warnings.push(a.join(' '));
  try {
    const net = await MnasNet.load(null, options);
    const data = new Uint8Array(32 * 32 * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 7) * 11) & 255;
    const bits = () => Array.from(new Uint32Array(net.classify({ data, width: 32, height: 32 }).logits.buffer));
    const first = bits();
    const threads = net.info.threads;
    net.setThreads(1);
    const one = bits();
    net.setThreads(threads);
    const again = bits();
    const result = {
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      hardwareConcurrency: navigator.hardwareConcurrency,
      threads,
      reason: net.info.threadsReason,
      backend: net.info.backend,
      bits: first,
      sameOnOneThread: one.every((v, i) => v === first[i]),
      sameAfterSwitch: again.every((v, i) => v === first[i]),
      warnings,
    };
    net.dispose();
    return result;
  } finally {
    console.warn = warn;
  }
}
