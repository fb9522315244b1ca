// Still pictures: the bundled CIFAR-10 samples and the user's own image
// files. Holds the picture shown in the Images tab, draws it on the stage
// and classifies it again whenever it changes or a new model arrives (a
// request made while the worker is busy is kept and sent once it is free).

export class Stills {
  /**
   * hooks: onResult(res, capturedAt, name), onError(context, err),
   * onPicked() (a new picture was chosen), showImages() (switch to the Images tab).
   */
  constructor(el, engine, state, stage, hooks) {
    this.canvas = el.still;
    this.samples = el.samples;
    Object.assign(this, { engine, state, stage, hooks });
    this.still = null; // { bitmap, name, kind }
    this.pending = false; // a classification was asked for while the worker was busy
    el.imageFile.addEventListener('change', () => {
      const f = el.imageFile.files[0];
      if (f) this.use(f, f.name, 'upload');
      el.imageFile.value = '';
    });
  }

  get current() {
    return this.still;
  }

  /** The Images tab was opened: show the current picture, or pick the first sample. */
  show() {
    if (this.still) {
      this.draw();
      this.classify();
    } else {
      this.stage.message('Pick an image below');
      const first = this.samples.querySelector('button');
      if (first) first.click();
    }
  }

  draw() {
    const still = this.still;
    if (!still) return;
    const c = this.canvas;
    const r = this.stage.box.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.max(1, Math.round(r.width * dpr));
    c.height = Math.max(1, Math.round(r.height * dpr));
    const ctx = c.getContext('2d');
    const b = still.bitmap;
    const s = Math.min(c.width / b.width, c.height / b.height);
    const w = b.width * s, h = b.height * s;
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.imageSmoothingEnabled = s < 3; // small images (CIFAR's 32x32) are shown as crisp pixels
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(b, (c.width - w) / 2, (c.height - h) / 2, w, h);
    this.stage.message('');
    this.stage.cropGuide(b.width, b.height, b.width !== b.height, c.width / dpr, c.height / dpr);
  }

  async classify() {
    if (!this.still || !this.state.demo.ready) return;
    if (this.engine.busy) {
      // A camera frame may still be in flight when the user picks a picture:
      // classify it as soon as the worker is free, not only after the next still.
      if (!this.pending) this.engine.idle().then(() => { if (this.pending) this.classify(); });
      this.pending = true;
      return;
    }
    this.pending = false;
    const capturedAt = performance.now();
    const target = this.still;
    try {
      const bmp = await createImageBitmap(target.bitmap);
      const res = await this.engine.classify(bmp, 3);
      if (this.state.mode === 'images' && this.still === target) this.hooks.onResult(res, capturedAt, target.name);
    } catch (e) {
      this.hooks.onError('Classification failed', e);
    }
    if (this.pending) this.classify();
  }

  /** source: a Blob/File or a loaded <img>; kind: 'sample' | 'upload'. */
  async use(source, name, kind) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(source);
    } catch (e) {
      this.hooks.onError(`Could not decode ${name} as an image`, e);
      return;
    }
    if (this.still) this.still.bitmap.close();
    this.still = { bitmap, name, kind };
    this.hooks.onPicked();
    const demo = this.state.demo;
    demo.source = kind;
    demo.sourceName = name;
    for (const b of this.samples.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.name === name && kind === 'sample'));
    if (this.state.mode !== 'images') this.hooks.showImages();
    else {
      this.draw();
      this.classify();
    }
  }

  async loadSamples() {
    let list = [];
    try {
      const res = await fetch('samples/index.json');
      if (res.ok) list = (await res.json()).samples || [];
    } catch { /* no samples */ }
    this.samples.replaceChildren();
    for (const s of list) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'sample';
      b.dataset.name = s.file;
      b.dataset.label = s.label;
      b.title = `${s.label} (CIFAR-10 test image ${s.testIndex})`;
      b.setAttribute('aria-pressed', 'false');
      const img = document.createElement('img');
      img.src = `samples/${s.file}`;
      img.alt = s.label;
      img.width = 32;
      img.height = 32;
      const cap = document.createElement('span');
      cap.textContent = s.label;
      b.append(img, cap);
      b.addEventListener('click', async () => {
        // Decode the thumbnail that is already loaded: no request, works offline.
        try {
          await img.decode();
        } catch (e) {
          this.hooks.onError(`Could not load sample ${s.file}`, e);
          return;
        }
        await this.use(img, s.file, 'sample');
      });
      this.samples.append(b);
    }
    if (!list.length) this.samples.textContent = 'No sample images (run node tools/fixtures/make-samples.mjs).';
    // The camera may have failed before the list arrived: show something at once.
    if (this.state.mode === 'images' && !this.still && list.length) this.samples.querySelector('button').click();
  }
}
