// Teach mode: the user's own classes, taught to the TeachableHead that lives
// in the worker beside the model. This module is the Teach panel (classes by
// name, counts, thumbnails, remove / rename / clear, download / load), the
// recorder that turns held-down Record buttons or number keys into camera
// frames at a steady rate, and the choice between the model's classes and
// the taught ones in the prediction panel. Recorded frames ride along with
// the camera loop's own classifications (the worker adds their embedding),
// so recording costs no extra inference and never holds the camera back.
import { HeadStore, downloadHead, readHeadFile } from './head-store.js';

export const MAX_CLASSES = 8;
export const MAX_EXAMPLES = 50; // per class: 8 x 50 embeddings still fit in localStorage
const RECORD_FPS = 15;
const RECORD_GAP_MS = 1000 / RECORD_FPS - 6; // a little slack for camera frame jitter
const THUMBS_SHOWN = 6; // per class, the newest; only these are kept and saved
const THUMB_SIZE = 40;
const SAVE_DELAY_MS = 700;

/** A small JPEG of the centre square of a drawable (video, image, bitmap). */
function makeThumb(source, w, h) {
  const c = document.createElement('canvas');
  c.width = c.height = THUMB_SIZE;
  const side = Math.min(w, h);
  const ctx = c.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, (w - side) / 2, (h - side) / 2, side, side, 0, 0, THUMB_SIZE, THUMB_SIZE);
  return c.toDataURL('image/jpeg', 0.75);
}

export class Teacher {
  /**
   * hooks: video() -> the live <video> or null, still() -> the shown ImageBitmap
   * or null, onHeadChanged() (re-run the shown picture), onViewChanged().
   */
  constructor(el, engine, state, notices, hooks) {
    this.el = el;
    this.engine = engine;
    this.state = state;
    this.notices = notices;
    this.hooks = hooks;
    this.store = new HeadStore(window.localStorage);
    this.summary = { available: false, classes: [], ready: false };
    this.thumbs = new Map(); // example id -> data URL
    this.recording = null; // class name being recorded
    this.lastTagAt = 0;
    this.pendingThumb = null; // thumbnail of the frame in flight that becomes an example
    this.saveTimer = 0;
    this.fingerprint = null;
    this.modelName = '';
    this.cards = []; // one per class, in order: {li, name, count, record, thumbs}
    state.demo.teach = { available: false, classes: [], ready: false, view: 'taught', recording: null, saves: 0, restored: false };
    this.bind();
  }

  get demo() {
    return this.state.demo;
  }

  /** The prediction panel shows the taught classes (else the model's own). */
  get showingTaught() {
    return this.summary.ready && this.demo.teach.view === 'taught';
  }

  bind() {
    const el = this.el;
    el.teachAdd.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = el.teachName.value.trim();
      if (name) this.op('add-class', { name }).then((ok) => { if (ok) el.teachName.value = ''; });
    });
    el.teachDownload.addEventListener('click', () => this.download());
    el.teachLoad.addEventListener('click', () => el.teachFile.click());
    el.teachFile.addEventListener('change', () => {
      const f = el.teachFile.files[0];
      el.teachFile.value = '';
      if (f) this.loadFile(f);
    });
    el.teachClear.addEventListener('click', () => this.op('clear').then(() => this.thumbs.clear()));
    el.predSwitch.addEventListener('click', () => this.setView(this.demo.teach.view === 'taught' ? 'model' : 'taught'));
    // Hold a number key to record into that class (ignored while typing).
    document.addEventListener('keydown', (ev) => {
      if (ev.repeat || this.typing(ev)) return;
      const k = Number(ev.key);
      if (Number.isInteger(k) && k >= 1 && k <= this.summary.classes.length) {
        ev.preventDefault();
        this.startRecording(this.summary.classes[k - 1].name);
      }
    });
    document.addEventListener('keyup', (ev) => {
      const k = Number(ev.key);
      if (Number.isInteger(k) && k >= 1 && k <= MAX_CLASSES) this.stopRecording();
    });
    window.addEventListener('blur', () => this.stopRecording());
  }

  typing(ev) {
    const t = ev.target;
    return t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement ||
      ev.ctrlKey || ev.metaKey || ev.altKey;
  }

  // ------------------------------------------------------------ model and head state

  /** A model was loaded: its fresh head, then whatever was saved for it. */
  async modelChanged(info, summary) {
    this.stopRecording();
    clearTimeout(this.saveTimer);
    this.fingerprint = info.fingerprint || null;
    this.modelName = info.name;
    this.thumbs = new Map();
    this.demo.teach.restored = false;
    this.adopt(summary);
    if (!summary.available) return;
    const saved = this.store.load(this.fingerprint);
    if (!saved) return;
    try {
      const res = await this.engine.head('import', { json: saved.head });
      this.thumbs = saved.thumbs;
      this.adopt(res.head);
      this.demo.teach.restored = true;
      this.hooks.onHeadChanged();
    } catch (e) {
      this.store.remove(this.fingerprint);
      this.notices.error('Could not restore the classes taught on this model', e);
    }
  }

  /** Takes the worker's summary of the head and redraws what changed. */
  adopt(summary) {
    if (!summary) return;
    const wasReady = this.summary.ready;
    this.summary = summary;
    const ids = new Set(summary.classes.flatMap((c) => c.ids.slice(-THUMBS_SHOWN)));
    for (const id of this.thumbs.keys()) if (!ids.has(id)) this.thumbs.delete(id);
    const t = this.demo.teach;
    t.available = summary.available;
    t.classes = summary.classes.map((c) => ({ name: c.name, count: c.ids.length }));
    t.ready = summary.ready;
    if (this.recording && !summary.classes.some((c) => c.name === this.recording)) this.stopRecording();
    if (summary.ready && !wasReady) t.view = 'taught'; // two classes taught: show them at once
    this.render();
    this.hooks.onViewChanged();
  }

  /** Runs a head operation in the worker; false (and the error shown) when it fails. */
  async op(op, args = {}) {
    try {
      const res = await this.engine.head(op, args);
      this.adopt(res.head);
      this.changed();
      return res;
    } catch (e) {
      this.notices.error('Teach', e);
      this.render(); // undo an edit the worker refused (e.g. a rename)
      return false;
    }
  }

  /** The head changed: show it on the shown picture, save it soon. */
  changed() {
    this.hooks.onHeadChanged();
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS);
  }

  async save() {
    if (!this.fingerprint || !this.summary.available) return;
    const fp = this.fingerprint;
    try {
      if (!this.summary.classes.length) {
        this.store.remove(fp);
      } else {
        const { json } = await this.engine.head('export');
        if (fp !== this.fingerprint) return; // the model changed meanwhile
        this.store.save(fp, json, this.thumbs, this.modelName);
      }
      this.demo.teach.saves++;
    } catch (e) {
      this.notices.error('Could not keep the taught classes in this browser (storage full or disabled); download them instead', e);
    }
  }

  setView(view) {
    this.demo.teach.view = view;
    this.render();
    this.hooks.onViewChanged();
  }

  // ------------------------------------------------------------ examples

  count(name) {
    const c = this.summary.classes.find((x) => x.name === name);
    return c ? c.ids.length : 0;
  }

  startRecording(name) {
    if (!this.hooks.video() || this.count(name) >= MAX_EXAMPLES) return;
    this.recording = name;
    this.demo.teach.recording = name;
    this.lastTagAt = 0;
    this.render();
  }

  stopRecording() {
    if (!this.recording) return;
    this.recording = null;
    this.demo.teach.recording = null;
    this.render();
  }

  /**
   * Called by the camera for each frame it sends: the class the frame is also
   * an example of (at most RECORD_FPS a second while recording), else null.
   */
  frameTag(video) {
    const name = this.recording;
    if (!name) return null;
    const now = performance.now();
    if (now - this.lastTagAt < RECORD_GAP_MS) return null;
    if (this.count(name) >= MAX_EXAMPLES) {
      this.stopRecording();
      return null;
    }
    this.lastTagAt = now;
    this.pendingThumb = makeThumb(video, video.videoWidth, video.videoHeight);
    return name;
  }

  /** A classified frame was added to a class (res.added, res.head). */
  onAdded(res) {
    if (this.pendingThumb) this.thumbs.set(res.added, this.pendingThumb);
    this.pendingThumb = null;
    this.adopt(res.head);
    this.changed();
  }

  /** Adds a picture (ImageBitmap, owned and closed here) to a class. */
  async addPicture(name, bitmap) {
    if (this.count(name) >= MAX_EXAMPLES) {
      bitmap.close();
      this.notices.error('Teach', new Error(`${name} has ${MAX_EXAMPLES} examples, the most a class keeps`));
      return;
    }
    const thumb = makeThumb(bitmap, bitmap.width, bitmap.height);
    const res = await this.op('add-image', { name, image: bitmap });
    if (res) {
      this.thumbs.set(res.exampleId, thumb);
      this.render();
    }
  }

  /** The picture on the stage now: the still, or a camera frame. */
  async addShown(name) {
    const still = this.state.mode === 'images' ? this.hooks.still() : null;
    const video = this.hooks.video();
    try {
      if (still) await this.addPicture(name, await createImageBitmap(still));
      else if (video && video.readyState >= 2) await this.addPicture(name, await createImageBitmap(video));
    } catch (e) {
      this.notices.error('Teach', e);
    }
  }

  async addFiles(name, files) {
    for (const f of files) {
      let bmp;
      try {
        bmp = await createImageBitmap(f);
      } catch (e) {
        this.notices.error(`Could not decode ${f.name} as an image`, e);
        continue;
      }
      await this.addPicture(name, bmp);
    }
  }

  // ------------------------------------------------------------ files

  async download() {
    try {
      const { json } = await this.engine.head('export');
      downloadHead(json, this.thumbs, this.modelName);
    } catch (e) {
      this.notices.error('Could not export the taught classes', e);
    }
  }

  async loadFile(file) {
    let saved;
    try {
      saved = await readHeadFile(file);
    } catch (e) {
      this.notices.error(`Could not load ${file.name}`, e);
      return;
    }
    try {
      const res = await this.engine.head('import', { json: saved.head });
      this.thumbs = saved.thumbs;
      this.adopt(res.head);
      this.changed();
    } catch (e) {
      this.notices.error(`Could not load ${file.name}`, e);
    }
  }

  // ------------------------------------------------------------ drawing

  render() {
    const el = this.el;
    const s = this.summary;
    const live = !!this.hooks.video();
    el.teach.classList.toggle('unavailable', !s.available);
    el.teachNote.hidden = s.available;
    el.teachAdd.hidden = !s.available;
    el.teachName.disabled = el.teachAddBtn.disabled = s.classes.length >= MAX_CLASSES;
    el.teachName.placeholder = s.classes.length >= MAX_CLASSES ? `${MAX_CLASSES} classes at most` : 'New class name';
    el.teachDownload.disabled = el.teachClear.disabled = !s.classes.length;
    el.teachLoad.disabled = !s.available;
    while (this.cards.length > s.classes.length) this.cards.pop().li.remove();
    while (this.cards.length < s.classes.length) this.cards.push(this.card());
    s.classes.forEach((c, i) => {
      const card = this.cards[i];
      card.index = i;
      card.key.textContent = String(i + 1);
      if (document.activeElement !== card.name) card.name.value = c.name;
      card.name.setAttribute('aria-label', `Name of class ${i + 1}`);
      card.name.dataset.name = c.name;
      const full = c.ids.length >= MAX_EXAMPLES;
      card.count.textContent = full ? `${c.ids.length} (full)` : String(c.ids.length);
      card.count.title = `${c.ids.length} example${c.ids.length === 1 ? '' : 's'}`;
      const rec = this.recording === c.name;
      card.record.setAttribute('aria-pressed', String(rec));
      card.record.disabled = !live || (full && !rec);
      card.record.title = live
        ? `Hold to record camera frames into ${c.name}, ${RECORD_FPS} a second (or hold key ${i + 1})`
        : 'Recording needs the live camera';
      card.remove.setAttribute('aria-label', `Remove class ${c.name}`);
      card.li.classList.toggle('recording', rec);
      this.renderThumbs(card, c);
    });
    el.teachStatus.textContent = s.ready
      ? (this.showingTaught ? 'predicting taught classes' : 'taught classes ready')
      : s.classes.length ? 'needs examples of two classes' : '';
    el.predSwitch.hidden = !s.ready;
    el.predSwitch.textContent = this.showingTaught ? "Show the model's classes" : 'Show taught classes';
    el.predSource.textContent = this.showingTaught ? 'taught classes' : 'model classes';
  }

  renderThumbs(card, c) {
    const ids = c.ids.slice(-THUMBS_SHOWN).filter((id) => this.thumbs.has(id)).reverse();
    const shown = [...card.thumbs.children].map((b) => Number(b.dataset.id));
    if (shown.length === ids.length && shown.every((id, k) => id === ids[k])) return;
    card.thumbs.replaceChildren(...ids.map((id) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'thumb';
      b.dataset.id = String(id);
      b.title = 'Remove this example';
      b.setAttribute('aria-label', `Remove example ${id} of ${c.name}`);
      const img = document.createElement('img');
      img.src = this.thumbs.get(id);
      img.alt = '';
      img.width = img.height = THUMB_SIZE;
      b.append(img);
      b.addEventListener('click', () => this.op('remove-example', { exampleId: id }));
      return b;
    }));
  }

  /** A class card; its handlers read the class name at the time of the event. */
  card() {
    const li = document.createElement('li');
    li.className = 'tclass';
    li.innerHTML = `
      <div class="tclass-row">
        <span class="tclass-key" aria-hidden="true"></span>
        <input class="tclass-name" type="text" maxlength="40" autocomplete="off" spellcheck="false">
        <span class="tclass-count"></span>
        <button type="button" class="tclass-remove banner-close">×</button>
      </div>
      <div class="tclass-actions">
        <button type="button" class="btn small tclass-record" aria-pressed="false"><span class="rec-dot" aria-hidden="true"></span>Hold to record</button>
        <button type="button" class="btn small tclass-shown" title="Add the picture shown now (camera frame or image)">+ Shown</button>
        <button type="button" class="btn small tclass-files" title="Add image files">+ Files…</button>
        <input type="file" class="visually-hidden tclass-file" accept="image/*" multiple tabindex="-1">
      </div>
      <div class="tclass-thumbs"></div>`;
    const q = (s) => li.querySelector(s);
    const card = {
      li, index: 0, key: q('.tclass-key'), name: q('.tclass-name'), count: q('.tclass-count'),
      record: q('.tclass-record'), remove: q('.tclass-remove'), thumbs: q('.tclass-thumbs'),
    };
    const current = () => this.summary.classes[card.index]?.name;
    card.name.addEventListener('change', () => {
      const from = current(), to = card.name.value.trim();
      if (from && to && to !== from) this.op('rename', { from, to });
      else this.render();
    });
    card.name.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') card.name.blur(); });
    card.remove.addEventListener('click', () => { const n = current(); if (n) this.op('remove-class', { name: n }); });
    // Recording lasts while the button is held: pointer, or Space / Enter on it.
    const rec = card.record;
    rec.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      rec.setPointerCapture?.(ev.pointerId);
      this.startRecording(current());
    });
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) rec.addEventListener(type, () => this.stopRecording());
    rec.addEventListener('keydown', (ev) => {
      if (ev.key !== ' ' && ev.key !== 'Enter') return;
      ev.preventDefault();
      if (!ev.repeat) this.startRecording(current());
    });
    rec.addEventListener('keyup', (ev) => { if (ev.key === ' ' || ev.key === 'Enter') this.stopRecording(); });
    rec.addEventListener('blur', () => this.stopRecording());
    q('.tclass-shown').addEventListener('click', () => { const n = current(); if (n) this.addShown(n); });
    const file = q('.tclass-file');
    q('.tclass-files').addEventListener('click', () => file.click());
    file.addEventListener('change', () => {
      const n = current();
      const files = [...file.files];
      file.value = '';
      if (n && files.length) this.addFiles(n, files);
    });
    this.el.teachClasses.append(li);
    return card;
  }
}
