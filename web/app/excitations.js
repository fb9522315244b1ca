// Squeeze-and-excitation views, all canvas drawing:
//  - ExcitationPanel: one strip per SE block, one cell per channel coloured by
//    its gate (or by the change from a reference in difference mode), with a
//    hover read-out and click-to-open.
//  - DetailView: a larger view of one block (channels sorted by value, and a
//    histogram), kept live while open.
import { SEQUENTIAL, DIVERGING, lutIndex, cssColor } from './colormap.js';

export const DIFF_RANGE = 0.25; // difference mode maps [-0.25, +0.25] onto the diverging map (clamped)

const MIN_CELL = 4; // css px per channel before a strip wraps onto more rows

/** '+0.123', '−0.045', or '±0.000' for values that round to zero. */
export function signed(x) {
  const t = Math.abs(x).toFixed(3);
  if (Number(t) === 0) return `±${t}`;
  return `${x > 0 ? '+' : '−'}${t}`;
}

function fmtSize(h, w) {
  return h && w ? `${h}×${w}` : '';
}

/** Values to display for block b: gates, or gates minus the reference. */
export function displayValues(values, block, mode, ref) {
  const v = values.subarray(block.offset, block.offset + block.channels);
  if (mode !== 'diff' || !ref) return v;
  const r = ref.subarray(block.offset, block.offset + block.channels);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] - r[i];
  return out;
}

export function mean(v) {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return v.length ? s / v.length : 0;
}

export class ExcitationPanel {
  /**
   * @param {HTMLElement} root  container for the strips
   * @param {HTMLElement} tooltip  absolutely positioned element reused for hover read-outs
   * @param {(index:number) => void} onopen  called when a block is clicked
   */
  constructor(root, tooltip, onopen) {
    this.root = root;
    this.tooltip = tooltip;
    this.onopen = onopen;
    this.blocks = [];
    this.cards = [];
    this.values = null;
    this.ref = null;
    this.mode = 'gate';
    this.drawn = 0;
    this.ro = new ResizeObserver(() => this._layout());
    this.ro.observe(root);
  }

  /** blocks: [{name, channels, height, width}] from the model info. */
  setBlocks(blocks) {
    this.blocks = blocks.map((b, i) => ({ ...b, index: i }));
    this.values = null;
    this.ref = null;
    this.drawn = 0;
    this.root.replaceChildren();
    this.cards = this.blocks.map((b, i) => {
      const card = document.createElement('button');
      card.type = 'button';
      card.className = 'se-block';
      card.dataset.index = String(i);
      card.setAttribute('aria-label', `SE block ${b.name}: open detailed view`);
      const head = document.createElement('div');
      head.className = 'se-head';
      const name = document.createElement('span');
      name.className = 'se-name';
      name.textContent = b.name;
      name.title = b.name;
      const meta = document.createElement('span');
      meta.className = 'se-meta';
      meta.textContent = `${b.channels} ch${b.height ? ' · ' + fmtSize(b.height, b.width) : ''}`;
      const meanEl = document.createElement('span');
      meanEl.className = 'se-mean';
      meanEl.textContent = 'mean –';
      head.append(name, meta, meanEl);
      const canvas = document.createElement('canvas');
      canvas.className = 'se-strip';
      card.append(head, canvas);
      card.addEventListener('click', () => this.onopen(i));
      canvas.addEventListener('pointermove', (ev) => this._hover(i, ev));
      canvas.addEventListener('pointerleave', () => this._hideTip());
      this.root.append(card);
      return { card, canvas, meanEl, grid: null, small: null };
    });
    if (!this.blocks.length) {
      const p = document.createElement('p');
      p.className = 'muted';
      p.textContent = 'This model has no squeeze-and-excitation blocks.';
      this.root.append(p);
    }
    this._layout();
  }

  _layout() {
    for (const [i, c] of this.cards.entries()) {
      const C = this.blocks[i].channels;
      const W = Math.max(40, c.canvas.clientWidth || this.root.clientWidth - 16);
      // Wrap onto as few rows as keep cells >= MIN_CELL wide, balanced so the
      // last row is (nearly) full.
      const rows = Math.max(1, Math.ceil((C * MIN_CELL) / W));
      const cols = Math.ceil(C / rows);
      const rowH = rows === 1 ? 22 : Math.max(5, Math.round(30 / rows));
      const H = rows * rowH;
      const dpr = window.devicePixelRatio || 1;
      c.canvas.style.height = `${H}px`;
      c.canvas.width = Math.round(W * dpr);
      c.canvas.height = Math.round(H * dpr);
      c.grid = { cols, rows, W, H };
      c.small = new OffscreenCanvas(cols, rows);
      c.img = new ImageData(cols, rows);
    }
    if (this.values) this._draw();
  }

  /** values: packed Float32Array (block.offset indexes it); ref: packed reference or null. */
  update(values, mode, ref, stretch = false) {
    if (values !== this.values || mode !== this.mode || ref !== this.ref) this._fresh = true;
    this.values = values;
    this.mode = mode;
    this.ref = ref;
    this.stretch = stretch;
    this._draw();
  }

  /**
   * Colour range of block b for values v. Fixed ([0, 1], or ±DIFF_RANGE for
   * differences) unless stretched: then the block's own range, smoothed over
   * frames so the colours do not flicker.
   */
  _range(b, v, diff) {
    if (!this.stretch) return diff ? [-DIFF_RANGE, DIFF_RANGE] : [0, 1];
    // 2nd..98th percentile: a few outlying channels should not wash the rest out.
    const sorted = Float32Array.from(v).sort();
    const q = (f) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(f * (sorted.length - 1))))];
    let mn = q(0.02), mx = q(0.98);
    if (diff) { mx = Math.max(Math.abs(mn), Math.abs(mx), 0.01); mn = -mx; }
    const key = diff ? 'rangeDiff' : 'rangeGate';
    const a = this._fresh ? 0.3 : 0; // smooth once per new frame, not per redraw
    let r = b[key];
    if (!r) r = b[key] = [mn, mx];
    else if (a) { r[0] += a * (mn - r[0]); r[1] += a * (mx - r[1]); }
    if (r[1] - r[0] < 0.02) { const c = (r[0] + r[1]) / 2; r[0] = c - 0.01; r[1] = c + 0.01; }
    return r.slice();
  }

  _draw() {
    const diff = this.mode === 'diff' && this.ref;
    const lut = diff ? DIVERGING : SEQUENTIAL;
    let drawn = 0;
    for (const [i, c] of this.cards.entries()) {
      const b = this.blocks[i];
      if (!c.grid || b.offset === undefined) continue;
      const v = displayValues(this.values, b, this.mode, this.ref);
      const [lo, hi] = this._range(b, v, diff);
      b.range = [lo, hi];
      const { img } = c;
      const d = img.data;
      d.fill(0);
      for (let k = 0; k < v.length; k++) {
        const j = lutIndex(v[k], lo, hi) * 3;
        d[k * 4] = lut[j];
        d[k * 4 + 1] = lut[j + 1];
        d[k * 4 + 2] = lut[j + 2];
        d[k * 4 + 3] = 255;
      }
      c.small.getContext('2d').putImageData(img, 0, 0);
      const ctx = c.canvas.getContext('2d');
      ctx.imageSmoothingEnabled = false;
      ctx.clearRect(0, 0, c.canvas.width, c.canvas.height);
      ctx.drawImage(c.small, 0, 0, c.canvas.width, c.canvas.height);
      const m = mean(v);
      const span = this.stretch ? ` · colours ${diff ? signed(lo) : lo.toFixed(2)} … ${diff ? signed(hi) : hi.toFixed(2)}` : '';
      c.meanEl.textContent = (diff ? `Δmean ${signed(m)}` : `mean ${m.toFixed(3)}`) + span;
      drawn++;
    }
    this._fresh = false;
    this.drawn = drawn;
    if (this._tipState) this._hover(this._tipState.i, this._tipState.ev);
  }

  /** Assigns each block its offset in packed result values (called once per model). */
  setOffsets(resultBlocks) {
    for (const [i, rb] of resultBlocks.entries()) if (this.blocks[i]) this.blocks[i].offset = rb.offset;
  }

  _hover(i, ev) {
    const c = this.cards[i];
    if (!c || !c.grid || !this.values) return;
    const r = c.canvas.getBoundingClientRect();
    const x = ev.clientX - r.left, y = ev.clientY - r.top;
    const col = Math.floor((x / r.width) * c.grid.cols);
    const row = Math.floor((y / r.height) * c.grid.rows);
    const ch = row * c.grid.cols + col;
    const b = this.blocks[i];
    if (col < 0 || row < 0 || col >= c.grid.cols || ch >= b.channels) return this._hideTip();
    this._tipState = { i, ev };
    const gate = this.values[b.offset + ch];
    let text = `${b.name} · channel ${ch} · gate ${gate.toFixed(3)}`;
    if (this.mode === 'diff' && this.ref) {
      const d = gate - this.ref[b.offset + ch];
      text += ` · Δ ${signed(d)}`;
    }
    showTip(this.tooltip, text, ev.clientX, ev.clientY);
  }

  _hideTip() {
    this._tipState = null;
    this.tooltip.hidden = true;
  }
}

export function showTip(tip, text, x, y) {
  tip.textContent = text;
  tip.hidden = false;
  const w = tip.offsetWidth, h = tip.offsetHeight;
  const left = Math.min(window.innerWidth - w - 6, Math.max(6, x + 12));
  const top = y - h - 10 < 6 ? y + 16 : y - h - 10;
  tip.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
}

const HIST_BINS = 24;

export class DetailView {
  /**
   * @param {HTMLDialogElement} dialog containing .detail-title, .detail-stats,
   *        canvas.detail-sorted, canvas.detail-hist
   */
  constructor(dialog, tooltip) {
    this.dialog = dialog;
    this.tooltip = tooltip;
    this.title = dialog.querySelector('.detail-title');
    this.stats = dialog.querySelector('.detail-stats');
    this.sorted = dialog.querySelector('canvas.detail-sorted');
    this.hist = dialog.querySelector('canvas.detail-hist');
    this.block = null;
    this.order = null;
    dialog.addEventListener('close', () => { this.block = null; this.tooltip.hidden = true; });
    dialog.addEventListener('click', (ev) => { if (ev.target === dialog) dialog.close(); });
    this.sorted.addEventListener('pointermove', (ev) => this._hover(ev));
    this.sorted.addEventListener('pointerleave', () => { this.tooltip.hidden = true; });
    new ResizeObserver(() => this.block && this._draw()).observe(this.sorted);
  }

  get open() { return this.dialog.open && this.block != null; }

  show(block, values, mode, ref, range) {
    this.block = block;
    this.title.textContent = `${block.name}`;
    if (!this.dialog.open) this.dialog.showModal();
    this.update(values, mode, ref, range);
  }

  /** range: [lo, hi] the colours (and axes) span. */
  update(values, mode, ref, range) {
    if (!this.open || !values) return;
    this.values = values;
    this.mode = mode;
    this.ref = ref;
    this.range = range;
    this._draw();
  }

  _fit(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const W = canvas.clientWidth, H = canvas.clientHeight;
    if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
      canvas.width = Math.round(W * dpr);
      canvas.height = Math.round(H * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    return { ctx, W, H };
  }

  _draw() {
    const b = this.block;
    const diff = this.mode === 'diff' && this.ref;
    const v = displayValues(this.values, b, this.mode, this.ref);
    const lut = diff ? DIVERGING : SEQUENTIAL;
    const [lo, hi] = this.range || (diff ? [-DIFF_RANGE, DIFF_RANGE] : [0, 1]);
    const fixed = !this.range || (diff ? hi === DIFF_RANGE : lo === 0 && hi === 1);
    const tick = (t) => (diff && t > 0 ? '+' : '') + (fixed ? String(t) : t.toFixed(3));
    const n = v.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, c) => v[c] - v[a]);
    this.order = order;
    this.shown = v;

    // stats
    let mn = Infinity, mx = -Infinity, s = 0, s2 = 0, high = 0, low = 0;
    for (let i = 0; i < n; i++) {
      const x = v[i];
      mn = Math.min(mn, x); mx = Math.max(mx, x); s += x; s2 += x * x;
      if (this.values[b.offset + i] > 0.9) high++;
      if (this.values[b.offset + i] < 0.1) low++;
    }
    const m = s / n, sd = Math.sqrt(Math.max(0, s2 / n - m * m));
    const what = diff ? 'Δ gate (vs frozen frame)' : 'gate';
    this.stats.textContent = `${b.channels} channels · gates a ${fmtSize(b.height, b.width) || '?'} feature map · ${what}: ` +
      `mean ${m.toFixed(3)}, sd ${sd.toFixed(3)}, min ${mn.toFixed(3)}, max ${mx.toFixed(3)} · ` +
      `${high} channels open (>0.9), ${low} shut (<0.1)`;

    // sorted bars
    {
      const { ctx, W, H } = this._fit(this.sorted);
      const padL = 50, padR = 6, padT = 8, padB = 18;
      const pw = W - padL - padR, ph = H - padT - padB;
      const y = (val) => padT + ph * (1 - (Math.min(hi, Math.max(lo, val)) - lo) / (hi - lo));
      ctx.strokeStyle = 'rgba(160,170,190,0.25)';
      ctx.fillStyle = '#9aa3b5';
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => lo + f * (hi - lo));
      for (const t of ticks) {
        const yy = Math.round(y(t)) + 0.5;
        ctx.beginPath(); ctx.moveTo(padL, yy); ctx.lineTo(W - padR, yy); ctx.stroke();
        ctx.fillText(tick(t), padL - 4, yy);
      }
      const base = y(diff ? 0 : lo);
      const bw = pw / n;
      for (let r = 0; r < n; r++) {
        const val = v[order[r]];
        const j = lutIndex(val, lo, hi) * 3;
        ctx.fillStyle = `rgb(${lut[j]},${lut[j + 1]},${lut[j + 2]})`;
        const yv = y(val);
        const x0 = padL + r * bw;
        ctx.fillRect(x0, Math.min(yv, base), Math.max(bw - (bw > 3 ? 1 : 0), 0.6), Math.max(1, Math.abs(base - yv)));
      }
      ctx.fillStyle = '#9aa3b5';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'alphabetic';
      ctx.fillText(`channels sorted by ${diff ? 'change' : 'gate'} (${n})`, padL + pw / 2, H - 4);
      this.sortedGeom = { padL, pw, bw };
    }

    // histogram
    {
      const { ctx, W, H } = this._fit(this.hist);
      const padL = 50, padR = 6, padT = 8, padB = 18;
      const pw = W - padL - padR, ph = H - padT - padB;
      const bins = new Array(HIST_BINS).fill(0);
      for (let i = 0; i < n; i++) {
        const t = (Math.min(hi, Math.max(lo, v[i])) - lo) / (hi - lo);
        bins[Math.min(HIST_BINS - 1, Math.floor(t * HIST_BINS))]++;
      }
      const top = Math.max(1, ...bins);
      const bw = pw / HIST_BINS;
      ctx.font = '11px system-ui, sans-serif';
      for (let k = 0; k < HIST_BINS; k++) {
        const centre = lo + ((k + 0.5) / HIST_BINS) * (hi - lo);
        ctx.fillStyle = cssColor(lut, centre, lo, hi);
        const h = (bins[k] / top) * ph;
        ctx.fillRect(padL + k * bw + 1, padT + ph - h, bw - 2, h);
      }
      ctx.fillStyle = '#9aa3b5';
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(String(top), padL - 4, padT + 4);
      ctx.fillText('0', padL - 4, padT + ph);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'alphabetic';
      const labels = [lo, (lo + hi) / 2, hi];
      for (const [k, t] of labels.entries()) {
        ctx.textAlign = k === 0 ? 'left' : k === labels.length - 1 ? 'right' : 'center';
        ctx.fillText(tick(t), padL + ((t - lo) / (hi - lo)) * pw, H - 4);
      }
    }
  }

  _hover(ev) {
    if (!this.order || !this.sortedGeom) return;
    const r = this.sorted.getBoundingClientRect();
    const { padL, bw } = this.sortedGeom;
    const rank = Math.floor((ev.clientX - r.left - padL) / bw);
    if (rank < 0 || rank >= this.order.length) { this.tooltip.hidden = true; return; }
    const ch = this.order[rank];
    const b = this.block;
    const gate = this.values[b.offset + ch];
    let text = `rank ${rank + 1} · channel ${ch} · gate ${gate.toFixed(3)}`;
    if (this.mode === 'diff' && this.ref) {
      const d = this.shown[ch];
      text += ` · Δ ${signed(d)}`;
    }
    showTip(this.tooltip, text, ev.clientX, ev.clientY);
  }
}
