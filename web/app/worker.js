// Inference worker (module worker). Owns the MnasNet instance and the
// TeachableHead taught on it, both through the SDK's public API only, and
// classifies frames sent by the page. The head lives here, beside the model,
// so a recorded camera frame becomes an example without a second run. The SDK
// is imported from its sources (js/src/), which tools/serve.mjs serves at
// /js/ beside the demo, so the page runs exactly the code the tests run.
//
// Messages in:  { id, type: 'load', model: ArrayBuffer | string(URL) | null, name }
//               { id, type: 'classify', image: ImageBitmap | {data,width,height}, topK, addTo?: class name }
//               { id, type: 'head', op, ...args }   (see HEAD_OPS)
//               { id, type: 'threads', threads }  (1 .. info.threads, from the next frame on)
//               { id, type: 'class-stats', source: 'taught' }
//               { id, type: 'class-stats', source: 'images', images: [ImageBitmap], labels: [string] }
// Messages out: { id, ok: true, ...result } or { id, ok: false, error: {code, message} }
// A classify result carries `taught` (the head's prediction, once two classes
// have examples), `added` (the example id when addTo was given) and `head`
// (the head's summary when it changed).
//
// The gates of every example taught are kept as running sums per class (count,
// sum and sum of squares of each SE gate; class-stats.js), for the page's
// "Excitation by class" view: no frames are kept. Sums can only grow, so
// removing one example drops its class's sums (they start again with the
// next example), and imported heads carry no gates until examples are added.
//
// Excitation vectors are packed into one Float32Array whose buffer is
// transferred back, so a result costs one small copy and no per-block messages.
import { MnasNet, TeachableHead } from '../../js/src/index.js';
import { newGateSums, addGates, gateLayout, packGates } from './class-stats.js';

let net = null;
let head = null; // TeachableHead of the loaded model; null when it has no embedding
let numClasses = 0;
let layout = null; // packed layout of the model's SE gates (class-stats.js)
let gateSums = new Map(); // taught class name -> running sums of its examples' gates
let queue = Promise.resolve();

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
    embeddingSize: info.embeddingSize,
    fingerprint: info.fingerprint,
    backend: info.backend,
    threads: info.threads ?? 1,
    threadsReason: info.threadsReason ?? null,
    version: info.version,
  };
}

async function load({ model, name }) {
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
  head = net.info.embeddingSize ? new TeachableHead(net) : null;
  layout = gateLayout(warm.excitations || []);
  gateSums = new Map();
  numClasses = warm.logits ? warm.logits.length : (net.info.labels ? net.info.labels.length : 0);
  return { info: plainInfo(net.info, name), loadMs };
}

/** What the page shows of the head: classes in order with their example ids. */
function headSummary() {
  if (!head) return { available: false, classes: [], ready: false };
  return { available: true, classes: head.classes.map((name) => ({ name, ids: head.exampleIds(name) })), ready: head.ready };
}

function needHead() {
  if (!head) throw Object.assign(new Error("this model has no embedding (its output is not a Gemm/MatMul classifier), so it cannot be taught"), { code: 'E_ARGUMENT' });
  return head;
}

/** The taught class that holds an example (the head's own spelling of its name). */
function ownerOf(exampleId) {
  return head.classes.find((c) => head.exampleIds(c).includes(exampleId));
}

/** Adds the gates of one result (its excitations, views or copies) to the sums of the class of an example. */
function recordGates(exampleId, excitations) {
  const name = ownerOf(exampleId);
  if (!layout || !layout.size || name == null) return;
  if (!gateSums.has(name)) gateSums.set(name, newGateSums(layout.size));
  addGates(gateSums.get(name), packGates(excitations, layout.size));
}

/** Operations on the head: each returns {head: summary} plus its own result. */
const HEAD_OPS = {
  'add-class': ({ name }) => ({ name: needHead().addClass(name) }),
  rename: ({ from, to }) => {
    const r = needHead().renameClass(from, to);
    const sums = gateSums.get(from);
    gateSums.delete(from);
    if (sums) gateSums.set(to, sums);
    return r;
  },
  'remove-class': ({ name }) => {
    gateSums.delete(name);
    return needHead().removeClass(name);
  },
  'remove-example': ({ exampleId }) => {
    const h = needHead();
    const owner = ownerOf(exampleId);
    const removed = h.removeExample(exampleId);
    if (removed && owner != null) gateSums.delete(owner);
    return { removed };
  },
  clear: () => {
    gateSums.clear();
    return needHead().clear();
  },
  'add-image': ({ name, image }) => {
    const h = needHead();
    let r;
    try {
      // One run gives the embedding to learn from and the gates to record.
      r = net.classify(image, { topK: 1, views: true, embedding: true });
    } finally {
      if (image && typeof image.close === 'function') image.close();
    }
    const exampleId = h.addExample(name, r.embedding);
    recordGates(exampleId, r.excitations);
    return { exampleId };
  },
  export: () => ({ json: needHead().toJSON() }),
  // Refuses (E_MODEL_MISMATCH) a head taught on another model.
  import: ({ json }) => {
    head = TeachableHead.fromJSON(json, net);
    gateSums.clear();
  },
  state: () => {},
};

function headOp(m) {
  if (!net) throw Object.assign(new Error('no model loaded'), { code: 'NO_MODEL' });
  const op = HEAD_OPS[m.op];
  if (!op) throw new Error(`unknown head operation ${m.op}`);
  return { ...(op(m) || {}), head: headSummary() };
}

function classify({ image, topK, addTo }) {
  if (!net) throw Object.assign(new Error('no model loaded'), { code: 'NO_MODEL' });
  const t0 = performance.now();
  let r;
  try {
    r = net.classify(image, { topK: topK || 3, views: true, embedding: !!head });
  } finally {
    if (image && typeof image.close === 'function') image.close();
  }
  // The embedding is a view: use it before anything else runs the model.
  let added = null;
  if (addTo != null && head) {
    added = head.addExample(addTo, r.embedding);
    recordGates(added, r.excitations);
  }
  const taught = head && head.ready ? head.predict(r.embedding) : null;
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
    msg: {
      top, blocks, values: packed, timeMs: r.timeMs, workerMs: performance.now() - t0,
      taught, added, head: added != null ? headSummary() : undefined,
    },
    transfer: [packed.buffer],
  };
}

/**
 * Per-class gate sums for the "Excitation by class" view: {blocks, classes:
 * [{name, count, sum, sumSq}]}. source 'taught': the taught classes, in the
 * head's order (count 0 when no gates were recorded for a class). source
 * 'images': the given pictures, grouped by the model's top-1 class; `agree`
 * counts the pictures whose top-1 label equals the label sent with them.
 */
function classStatsOf({ source, images, labels }) {
  if (!net) throw Object.assign(new Error('no model loaded'), { code: 'NO_MODEL' });
  if (source === 'taught') {
    const names = head ? head.classes : [];
    const classes = names.map((name) => {
      const s = gateSums.get(name);
      return s ? { name, ...s } : { name, ...newGateSums(layout.size) };
    });
    return { blocks: layout.blocks, classes };
  }
  if (source !== 'images') throw new Error(`unknown class-stats source ${source}`);
  const byClass = new Map();
  let agree = 0;
  try {
    for (const [i, image] of (images || []).entries()) {
      const r = net.classify(image, { topK: 1, views: true });
      const t = r.top[0];
      const name = t.label ?? `class ${t.index}`;
      if (!byClass.has(name)) byClass.set(name, { name, index: t.index, ...newGateSums(layout.size) });
      addGates(byClass.get(name), packGates(r.excitations, layout.size));
      if (labels && labels[i] === name) agree++;
    }
  } finally {
    for (const image of images || []) if (image && typeof image.close === 'function') image.close();
  }
  const classes = [...byClass.values()].sort((a, b) => a.index - b.index);
  return { blocks: layout.blocks, classes, images: (images || []).length, agree };
}

self.onmessage = (ev) => {
  const m = ev.data;
  // One task at a time, in arrival order (a load never overlaps a classify).
  queue = queue.then(async () => {
    try {
      if (m.type === 'load') {
        self.postMessage({ id: m.id, ok: true, ...(await load(m)), head: headSummary() });
      } else if (m.type === 'classify') {
        const { msg, transfer } = classify(m);
        self.postMessage({ id: m.id, ok: true, ...msg }, transfer);
      } else if (m.type === 'threads') {
        if (!net) throw Object.assign(new Error('no model loaded'), { code: 'NO_MODEL' });
        net.setThreads(m.threads);
        self.postMessage({ id: m.id, ok: true, threads: net.threads });
      } else if (m.type === 'class-stats') {
        self.postMessage({ id: m.id, ok: true, ...classStatsOf(m) });
      } else if (m.type === 'head') {
        self.postMessage({ id: m.id, ok: true, ...headOp(m) });
      } else {
        throw new Error(`unknown message type ${m.type}`);
      }
    } catch (e) {
      if (m.image && typeof m.image.close === 'function') m.image.close();
      for (const image of m.images || []) if (image && typeof image.close === 'function') image.close();
      self.postMessage({ id: m.id, ok: false, error: errorOf(e) });
    }
  });
};
