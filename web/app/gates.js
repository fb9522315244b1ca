// The squeeze-and-excitation gate views and the modes they share: the strip
// panel, the detail dialog, the colour legend, and which frame the
// Difference mode compares against (the frozen one). The drawing itself is
// in excitations.js; this module decides what is drawn, so that the sources
// only hand results in and Freeze only says "hold this frame".
import { ExcitationPanel, DetailView, DIFF_RANGE, mean } from './excitations.js';
import { SEQUENTIAL, DIVERGING, drawLegend } from './colormap.js';

export class GateView {
  constructor(el, demo) {
    this.el = el;
    this.demo = demo;
    this.panel = new ExcitationPanel(el.strips, el.tip, (i) => this.openDetail(i));
    this.detail = new DetailView(el.detail, el.detail.querySelector('.tip'));
    this.values = null; // packed gate values of the shown frame
    this.ref = null; // packed gate values of the frozen frame
    this.offsetsSet = false;
    this.hintGate = el.exHint.textContent;
    el.detail.addEventListener('close', () => { demo.detailOpen = null; });
    el.detailClose.addEventListener('click', () => el.detail.close());
  }

  /** A new model: new blocks, no values, no reference. */
  reset(blocks) {
    this.offsetsSet = false;
    this.values = null;
    this.ref = null;
    this.setDiff(false);
    this.panel.setBlocks(blocks);
    if (this.detail.open) this.el.detail.close();
    this.demo.excitations = [];
  }

  /** res: a worker result ({blocks, values}); demo.frames already counts it. */
  show(res) {
    if (!this.offsetsSet) {
      this.panel.setOffsets(res.blocks);
      this.offsetsSet = true;
    }
    this.values = res.values;
    this.render();
    this.demo.excitations = this.panel.blocks.map((b) => {
      const v = this.values.slice(b.offset, b.offset + b.channels);
      return { name: b.name, channels: b.channels, height: b.height, width: b.width, mean: mean(v), values: v };
    });
    this.demo.excitationsFrame = this.demo.frames;
  }

  /** Freeze: the shown frame becomes the reference of the Difference mode. */
  holdReference() {
    if (this.values) this.ref = this.values.slice();
  }

  render() {
    if (!this.values) return;
    const m = this.demo.diff ? 'diff' : 'gate';
    this.panel.update(this.values, m, this.ref, this.demo.stretch);
    this.demo.stripsDrawn = this.panel.drawn;
    if (this.detail.open) this.detail.update(this.values, m, this.ref, this.detailRange());
  }

  openDetail(i) {
    const b = this.panel.blocks[i];
    if (!b || !this.values) return;
    this.demo.detailOpen = b.name;
    this.detail.show(b, this.values, this.demo.diff ? 'diff' : 'gate', this.ref, this.detailRange(b));
  }

  detailRange(b = this.detail.block) {
    return this.demo.stretch && b && b.range ? b.range : null;
  }

  setDiff(on) {
    if (on && !this.ref && this.values) this.ref = this.values.slice();
    this.demo.diff = on && !!this.ref;
    this.el.diff.setAttribute('aria-pressed', String(this.demo.diff));
    this.updateLegend();
    this.render();
  }

  setStretch(on) {
    this.demo.stretch = on;
    this.el.stretch.setAttribute('aria-pressed', String(on));
    this.updateLegend();
    this.render();
  }

  updateLegend() {
    const { el, demo } = this;
    if (demo.diff) {
      drawLegend(el.legend, DIVERGING);
      el.legendLo.textContent = demo.stretch ? '−high' : `−${DIFF_RANGE}`;
      el.legendHi.textContent = demo.stretch ? '+high' : `+${DIFF_RANGE}`;
      el.legendName.textContent = 'Δ gate vs frozen frame';
      el.exHint.textContent = 'One cell per channel, coloured by how much its gate changed from the frozen frame: red opened further, blue closed. Hover a cell for its value; click a block for a closer look.';
    } else {
      drawLegend(el.legend, SEQUENTIAL);
      el.legendLo.textContent = demo.stretch ? 'low' : '0';
      el.legendHi.textContent = demo.stretch ? 'high' : '1';
      el.legendName.textContent = demo.stretch ? 'gate, per block' : 'gate';
      el.exHint.textContent = demo.stretch
        ? "One cell per channel; colours are stretched over each block's own range of gates (shown on its right), so small differences stand out. Hover a cell for its value; click a block for a closer look."
        : this.hintGate;
    }
  }
}
