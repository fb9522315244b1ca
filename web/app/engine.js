// Page-side client of the inference worker: promise per request, at most one
// classification in flight (callers check `busy` before sending a frame).
// Teaching goes through it too: the head lives in the worker with the model.

export class Engine {
  constructor() {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'mnasnet-inference' });
    this.pending = new Map();
    this.nextId = 1;
    this.inflight = 0;
    this.idleWaiters = []; // resolvers of idle()
    this.onfatal = null;
    this.worker.onmessage = (ev) => {
      const m = ev.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m);
      else p.reject(Object.assign(new Error(m.error.message), { code: m.error.code, name: m.error.name }));
    };
    this.worker.onerror = (ev) => {
      ev.preventDefault?.();
      const err = Object.assign(new Error(`inference worker failed: ${ev.message || 'could not start (module worker support needed)'}`), { code: 'WORKER' });
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.inflight = 0;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      if (this.onfatal) this.onfatal(err);
    };
  }

  get busy() { return this.inflight > 0; }

  async _call(msg, transfer = []) {
    const id = this.nextId++;
    this.inflight++;
    try {
      return await new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.worker.postMessage({ ...msg, id }, transfer);
      });
    } finally {
      this.inflight = Math.max(0, this.inflight - 1);
      if (!this.inflight) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves once no request is in flight. */
  idle() {
    return this.inflight ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  /** model: ArrayBuffer (transferred) | URL string | null for the SDK's default model. */
  load(model, name) {
    return this._call({ type: 'load', model, name }, model instanceof ArrayBuffer ? [model] : []);
  }

  /**
   * image: ImageBitmap (transferred and closed by the worker). addTo: a taught
   * class the frame also becomes an example of.
   */
  classify(image, topK = 3, addTo = null) {
    return this._call({ type: 'classify', image, topK, addTo }, image instanceof ImageBitmap ? [image] : []);
  }

  /** Threads for the next frames: 1 .. info.threads. Resolves to { threads }. */
  setThreads(threads) {
    return this._call({ type: 'threads', threads });
  }

  /**
   * Per-class gate sums for the class view (see classStatsOf in worker.js):
   * source 'taught', or 'images' with ImageBitmaps (transferred, closed by the
   * worker) and the label each one is expected to get.
   */
  classStats(source, images = [], labels = []) {
    return this._call({ type: 'class-stats', source, images, labels }, images.filter((i) => i instanceof ImageBitmap));
  }

  /** An operation on the worker's TeachableHead (see HEAD_OPS in worker.js); an `image` is transferred. */
  head(op, args = {}) {
    return this._call({ type: 'head', op, ...args }, args.image instanceof ImageBitmap ? [args.image] : []);
  }
}
