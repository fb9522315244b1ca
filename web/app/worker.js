// Inference worker (module worker). Owns the MnasNet instance, loaded through
// the SDK's public API only, and classifies frames sent by the page.
//
// Messages in:  { id, type: 'load', model: ArrayBuffer | string(URL) | null, name }
//               { id, type: 'classify', image: ImageBitmap | {data,width,height}, topK }
//               { id, type: 'threads', threads }  (1 .. info.threads, from the next frame on)
// Messages out: { id, ok: true, ...result } or { id, ok: false, error: {code, message} }
//
// Excitation vectors are packed into one Float32Array whose buffer is
// transferred back, so a result costs one small copy and no per-block messages.

const PKG_URL = new URL('../../js/', import.meta.url);

let sdkPromise = null;
let net = null;
let numClasses = 0;
let queue = Promise.resolve();

/** Picks the browser entry point of the SDK from js/package.json's exports map. */
function pickEntry(pkg) {
  const pick = (e) => {
    if (!e) return null;
    if (typeof e === 'string') return e;
    for (const key of ['browser', 'import', 'default', 'module']) {
      const v = pick(e[key]);
      if (v) return v;
    }
    return null;
  };
  const exp = pkg.exports;
  const root = exp && (typeof exp === 'string' || exp['.'] === undefined ? exp : exp['.']);
  return pick(root) || (typeof pkg.browser === 'string' ? pkg.browser : null) || pkg.module || pkg.main || 'src/index.js';
}

function loadSdk() {
  if (!sdkPromise) {
    sdkPromise = (async () => {
      let entry = 'src/index.js';
      try {
        const res = await fetch(new URL('package.json', PKG_URL));
        if (res.ok) entry = pickEntry(await res.json());
      } catch { /* fall back to src/index.js */ }
      const mod = await import(new URL(entry.replace(/^\.\//, ''), PKG_URL).href);
      const MnasNet = mod.MnasNet || mod.default?.MnasNet || mod.default;
      if (!MnasNet || typeof MnasNet.load !== 'function') throw new Error(`SDK entry ${entry} does not export MnasNet`);
      return { MnasNet, MnasNetError: mod.MnasNetError };
    })();
    sdkPromise.catch(() => { sdkPromise = null; });
  }
  return sdkPromise;
}

function errorOf(e) {
  return {
    code: e && e.code != null ? e.code : null,
    name: (e && e.name) || 'Error',
    message: (e && e.message) || String(e),
  };
}

function plainInfo(info, name) {
  const se = (info.seBlocks || []).map((b) => ({ name: b.name, channels: b.channels, height: b.height, width: b.width }));
  return {
    name,
    inputSize: info.inputSize,
    labels: info.labels && info.labels.length ? Array.from(info.labels, String) : null,
    numClasses,
    layers: Array.isArray(info.layers) ? info.layers.length : info.layers,
    params: info.params,
    macs: info.macs,
    seBlocks: se,
    backend: info.backend,
    threads: info.threads ?? 1,
    threadsReason: info.threadsReason ?? null,
    version: info.version,
  };
}

async function load({ model, name }) {
  const { MnasNet } = await loadSdk();
  const t0 = performance.now();
  const next = model == null ? await MnasNet.load() : await MnasNet.load(model);
  const loadMs = performance.now() - t0;
  // Warm-up run on a small grey image: compiles the hot paths and tells the
  // number of classes when the model has no labels in its metadata.
  let warm;
  try {
    const w = 8, h = 8, data = new Uint8ClampedArray(w * h * 4).fill(128);
    warm = next.classify({ data, width: w, height: h }, { topK: 1 });
  } catch (e) {
    next.dispose();
    throw e;
  }
  if (net) net.dispose();
  net = next;
  numClasses = warm.logits ? warm.logits.length : (net.info.labels ? net.info.labels.length : 0);
  return { info: plainInfo(net.info, name), loadMs };
}

function classify({ image, topK }) {
  if (!net) throw Object.assign(new Error('no model loaded'), { code: 'NO_MODEL' });
  const t0 = performance.now();
  let r;
  try {
    r = net.classify(image, { topK: topK || 3, views: true });
  } finally {
    if (image && typeof image.close === 'function') image.close();
  }
  const ex = r.excitations || [];
  let total = 0;
  for (const e of ex) total += e.values.length;
  const packed = new Float32Array(total);
  const blocks = [];
  let off = 0;
  for (const e of ex) {
    packed.set(e.values, off);
    blocks.push({ name: e.name, channels: e.channels, height: e.height, width: e.width, offset: off });
    off += e.values.length;
  }
  const top = r.top.map((t) => ({ index: t.index, label: t.label, probability: t.probability }));
  return {
    msg: { top, blocks, values: packed, timeMs: r.timeMs, workerMs: performance.now() - t0 },
    transfer: [packed.buffer],
  };
}

self.onmessage = (ev) => {
  const m = ev.data;
  // One task at a time, in arrival order (a load never overlaps a classify).
  queue = queue.then(async () => {
    try {
      if (m.type === 'load') {
        self.postMessage({ id: m.id, ok: true, ...(await load(m)) });
      } else if (m.type === 'threads') {
        if (!net) throw Object.assign(new Error('no model loaded'), { code: 'NO_MODEL' });
        net.setThreads(m.threads);
        self.postMessage({ id: m.id, ok: true, threads: net.threads });
      } else if (m.type === 'classify') {
        const { msg, transfer } = classify(m);
        self.postMessage({ id: m.id, ok: true, ...msg }, transfer);
      } else {
        throw new Error(`unknown message type ${m.type}`);
      }
    } catch (e) {
      if (m.image && typeof m.image.close === 'function') m.image.close();
      self.postMessage({ id: m.id, ok: false, error: errorOf(e) });
    }
  });
};
