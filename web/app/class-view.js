// The "Excitation by class" panel: for a set of classes, how differently each
// SE block gates its channels per class. One row per block: its
// class-specificity (the share of the gates' variance that lies between the
// class means; class-stats.js) as a number and a bar, and each class's mean
// gate per channel as one coloured line. A row (click, Enter or Space) lists
// the block's 20 channels that separate the classes most.
//
// Two sets of classes: the taught ones (the worker keeps running sums of the
// gates of every example added in Teach mode) and the model's own classes
// over the bundled sample pictures (web/samples: CIFAR-10 test images, two a
// class), grouped by the model's top-1 prediction so the grouping means the
// same for any model loaded. The panel only asks the worker for numbers
// while it is open.
import { classStats, topChannels } from './class-stats.js';

// Distinct hues for up to 10 classes on the dark panel.
const CLASS_COLOURS = ['#6aa9ff', '#ef6b6b', '#35b779', '#fde725', '#c77dff', '#ff9f43', '#4dd4d4', '#f78fb3', '#a3b18a', '#dcdcdc'];
const TOP_CHANNELS = 20;
const REFRESH_GAP_MS = 600; // at most this often while examples are being recorded

export const colourOf = (k) => CLASS_COLOURS[k % CLASS_COLOURS.length];

export class ClassView {
  /** hooks: samples() -> [{img, label}] of the loaded sample pictures. */
  constructor(engine, demo, notices, hooks) {
    Object.assign(this, { engine, demo, notices, hooks });
    const $ = (id) => document.getElementById(id);
    this.toggle = $('cv-toggle');
    this.body = $('cv-body');
    this.srcTaught = $('cv-taught');
    this.srcModel = $('cv-model');
    this.status = $('cv-status');
    this.legend = $('cv-legend');
    this.rows = $('cv-rows');
    this.channels = $('cv-channels');
    this.source = 'taught';
    this.stats = null; // [blockStats] shown
    this.selected = -1; // block whose channels are listed
    this.modelCache = null; // stats of the sample pictures for the loaded model
    this.timer = 0;
    this.lastAsk = 0;
    this.asking = null;
    demo.classStats = [];
    demo.classView = { open: false, source: 'taught', updates: 0, note: '' };
    this.toggle.addEventListener('click', () => this.setOpen(this.body.hidden));
    this.srcTaught.addEventListener('click', () => this.setSource('taught'));
    this.srcModel.addEventListener('click', () => this.setSource('model'));
    new ResizeObserver(() => this.stats && this.drawPlots()).observe(this.rows);
  }

  get open() { return !this.body.hidden; }

  setOpen(on) {
    this.body.hidden = !on;
    this.toggle.setAttribute('aria-expanded', String(on));
    this.toggle.textContent = on ? 'Hide' : 'Show';
    this.demo.classView.open = on;
    if (on) this.refresh();
  }

  setSource(source) {
    this.source = source;
    this.demo.classView.source = source;
    this.srcTaught.setAttribute('aria-pressed', String(source === 'taught'));
    this.srcModel.setAttribute('aria-pressed', String(source === 'model'));
    this.selected = -1;
    this.refresh();
  }

  /** A new model: its blocks differ, the sample statistics are computed again. */
  modelChanged() {
    this.modelCache = null;
    this.selected = -1;
    this.show(null, '');
    if (this.open) this.refresh();
  }

  /** The taught classes changed: recompute soon (throttled while recording). */
  headChanged() {
    if (!this.open || this.source !== 'taught') return;
    clearTimeout(this.timer);
    const wait = Math.max(0, this.lastAsk + REFRESH_GAP_MS - performance.now());
    this.timer = setTimeout(() => this.refresh(), wait);
  }

  async refresh() {
    if (!this.open || !this.demo.ready) return;
    if (this.asking) { this.again = true; return; }
    this.lastAsk = performance.now();
    const source = this.source;
    this.asking = source;
    try {
      if (source === 'taught') {
        const res = await this.engine.classStats('taught');
        const taught = res.classes.filter((c) => c.count > 0);
        const missing = res.classes.filter((c) => c.count === 0).map((c) => c.name);
        let note = `${taught.length} taught class${taught.length === 1 ? '' : 'es'} with gates: ` +
          (taught.map((c) => `${c.name} (${c.count})`).join(', ') || 'none');
        if (missing.length) note += ` · no gates recorded for ${missing.join(', ')} (restored, loaded or after a removed example: add examples)`;
        if (this.source === source) this.show(taught.length >= 2 ? classStats(res.classes, res.blocks) : null,
          taught.length >= 2 ? note : `${note}. Teach two classes to compare them.`);
      } else {
        if (!this.modelCache) {
          const samples = this.hooks.samples();
          if (!samples.length) {
            this.show(null, 'No sample pictures to run.');
            return;
          }
          this.status.textContent = `Running ${samples.length} sample pictures…`;
          const images = await Promise.all(samples.map(async (s) => { await s.img.decode(); return createImageBitmap(s.img); }));
          const res = await this.engine.classStats('images', images, samples.map((s) => s.label));
          const names = res.classes.map((c) => `${c.name} (${c.count})`).join(', ');
          this.modelCache = {
            stats: classStats(res.classes, res.blocks),
            note: `${res.images} sample pictures grouped by the model's top-1 class (top-1 = CIFAR-10 label on ${res.agree}/${res.images}): ${names}`,
          };
        }
        if (this.source === source) this.show(this.modelCache.stats, this.modelCache.note);
      }
    } catch (e) {
      this.notices.error('Excitation by class', e);
    } finally {
      this.asking = null;
      if (this.again) { this.again = false; this.refresh(); }
    }
  }

  /** stats: [blockStats] or null (nothing to compare); note: what the numbers are over. */
  show(stats, note) {
    this.stats = stats;
    this.status.textContent = note;
    this.demo.classView.note = note;
    this.demo.classStats = (stats || []).map((s) => ({
      name: s.name, specificity: s.specificity, classes: s.classes.map((c) => c.name), counts: s.classes.map((c) => c.count),
    }));
    this.demo.classView.updates++;
    this.renderLegend();
    this.renderRows();
    this.renderChannels();
  }

  renderLegend() {
    const classes = this.stats && this.stats.length ? this.stats[0].classes : [];
    this.legend.replaceChildren(...classes.map((c, k) => {
      const item = document.createElement('span');
      item.className = 'cv-key';
      const sw = document.createElement('i');
      sw.style.background = colourOf(k);
      item.append(sw, document.createTextNode(c.name));
      return item;
    }));
  }

  renderRows() {
    const stats = this.stats || [];
    if (this.selected >= stats.length) this.selected = -1;
    this.rows.replaceChildren(...stats.map((s, i) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'cv-row';
      b.dataset.index = String(i);
      b.setAttribute('aria-pressed', String(i === this.selected));
      b.setAttribute('aria-label', `${s.name}: class-specificity ${s.specificity.toFixed(3)}; show the channels that separate the classes most`);
      const name = document.createElement('span');
      name.className = 'cv-name';
      name.textContent = s.name;
      const num = document.createElement('span');
      num.className = 'cv-spec';
      num.textContent = s.specificity.toFixed(3);
      const bar = document.createElement('span');
      bar.className = 'cv-bar';
      const fill = document.createElement('i');
      fill.style.width = `${(100 * s.specificity).toFixed(1)}%`;
      bar.append(fill);
      const plot = document.createElement('canvas');
      plot.className = 'cv-plot';
      plot.setAttribute('aria-hidden', 'true');
      b.append(name, num, bar, plot);
      b.addEventListener('click', () => {
        this.selected = this.selected === i ? -1 : i;
        for (const r of this.rows.querySelectorAll('.cv-row')) r.setAttribute('aria-pressed', String(Number(r.dataset.index) === this.selected));
        this.renderChannels();
      });
      li.append(b);
      return li;
    }));
    this.drawPlots();
  }

  /** Each class's mean gate per channel: x = channel, y = mean gate in [0, 1]. */
  drawPlots() {
    const stats = this.stats || [];
    const dpr = window.devicePixelRatio || 1;
    for (const c of this.rows.querySelectorAll('canvas.cv-plot')) {
      const s = stats[Number(c.parentElement.dataset.index)];
      if (!s) continue;
      const W = c.clientWidth, H = c.clientHeight;
      if (!W || !H) continue;
      c.width = Math.round(W * dpr);
      c.height = Math.round(H * dpr);
      const ctx = c.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, W, H);
      ctx.strokeStyle = 'rgba(160,170,190,0.18)';
      ctx.lineWidth = 1;
      for (const t of [0, 0.5, 1]) {
        const y = Math.round(2 + (H - 4) * (1 - t)) + 0.5;
        ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(W, y); ctx.stroke();
      }
      ctx.lineWidth = 1;
      ctx.globalAlpha = 0.85;
      for (const [k, cls] of s.classes.entries()) {
        const m = cls.mean;
        ctx.strokeStyle = colourOf(k);
        ctx.beginPath();
        for (let j = 0; j < m.length; j++) {
          const x = m.length > 1 ? (j / (m.length - 1)) * W : W / 2;
          const y = 2 + (H - 4) * (1 - Math.min(1, Math.max(0, m[j])));
          if (j) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        }
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
    }
  }

  renderChannels() {
    const s = this.stats && this.selected >= 0 ? this.stats[this.selected] : null;
    this.channels.hidden = !s;
    this.demo.classView.selected = s ? s.name : null;
    if (!s) { this.channels.replaceChildren(); return; }
    const top = topChannels(s, TOP_CHANNELS);
    const h = document.createElement('h3');
    h.textContent = `${s.name}: the ${top.length} channels that separate the classes most`;
    const table = document.createElement('table');
    table.className = 'cv-table';
    const head = table.createTHead().insertRow();
    for (const t of ['channel', 'between-class share', ...s.classes.map((c) => c.name)]) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = t;
      head.append(th);
    }
    s.classes.forEach((c, k) => { head.cells[k + 2].style.borderBottomColor = colourOf(k); });
    const body = table.createTBody();
    for (const t of top) {
      const r = body.insertRow();
      r.insertCell().textContent = String(t.channel);
      r.insertCell().textContent = t.share.toFixed(3);
      for (const m of t.means) r.insertCell().textContent = m.toFixed(3);
    }
    this.channels.replaceChildren(h, table);
  }
}
