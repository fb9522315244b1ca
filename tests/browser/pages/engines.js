// The page side of tests/browser/engines.test.mjs: what the SDK does with
// no options in this engine (which build, how many threads) and the logits
// of one known image, for the test to compare with Node's.
import { MnasNet } from '../../../js/src/index.js';

window.runSdk = async () => {
  const data = new Uint8Array(await (await fetch('/image.rgba')).arrayBuffer());
  const net = await MnasNet.load();
  try {
    const r = net.classify({ data, width: 32, height: 32 });
    const logits = Array.from(r.logits);
    // All threads and one thread give the same bits (the threaded build's contract).
    let sameOnOneThread = null;
    if (net.info.threads > 1) {
      net.setThreads(1);
      const one = net.classify({ data, width: 32, height: 32 }).logits;
      sameOnOneThread = one.every((v, i) => Object.is(v, r.logits[i]));
    }
    return {
      backend: net.info.backend,
      threads: net.info.threads,
      threadsReason: net.info.threadsReason,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
      hardwareConcurrency: navigator.hardwareConcurrency,
      top: r.top[0].label,
      logits,
      sameOnOneThread,
    };
  } finally {
    net.dispose();
  }
};
window.pageReady = true;
