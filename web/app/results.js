// The prediction panel: the top-3 list and the latency / fps / frames
// metrics with their smoothing. Camera frames and still images both end
// here, so what a result looks like on the page and in window.__demo is
// decided in one place, whichever source produced it, and whether it shows
// the model's classes or the taught ones.

export class ResultsView {
  constructor(el, state) {
    this.el = el;
    this.state = state;
    this.lastResultAt = 0;
    this.dtEma = 0;
  }

  labelOf(t) {
    const info = this.state.info;
    if (info && info.indexLabels) return `class ${t.index}`;
    if (t.label != null && t.label !== '') return String(t.label);
    if (info && info.labels && info.labels[t.index] != null) return info.labels[t.index];
    return `class ${t.index}`;
  }

  resetRate() {
    this.lastResultAt = 0;
    this.dtEma = 0;
    this.state.demo.fps = 0;
    this.el.fps.textContent = '–';
  }

  /**
   * continuous: a camera frame (counts towards fps); capturedAt: performance.now()
   * at capture; taught: the head's prediction to show instead of the model's.
   */
  show(res, continuous, capturedAt, sourceName, taught = null) {
    const { demo } = this.state;
    const el = this.el;
    const now = performance.now();
    demo.frames++;
    demo.resultSource = sourceName;
    const top = this.showTop(res, taught);
    if (top[0]) demo.top1Counts[top[0].label] = (demo.top1Counts[top[0].label] || 0) + 1;

    const a = demo.frames <= 2 ? 1 : 0.15;
    demo.latencyMs = demo.latencyMs ? demo.latencyMs + a * (res.timeMs - demo.latencyMs) : res.timeMs;
    const rt = now - capturedAt;
    demo.roundTripMs = demo.roundTripMs ? demo.roundTripMs + 0.15 * (rt - demo.roundTripMs) : rt;
    if (continuous) {
      if (this.lastResultAt) {
        const dt = now - this.lastResultAt;
        this.dtEma = this.dtEma ? this.dtEma + 0.1 * (dt - this.dtEma) : dt;
        demo.fps = 1000 / this.dtEma;
        el.fps.textContent = demo.fps.toFixed(1);
      }
      this.lastResultAt = now;
    } else {
      this.resetRate();
    }
    el.latency.textContent = demo.latencyMs.toFixed(1);
    el.latency.title = `inference ${res.timeMs.toFixed(1)} ms · frame to result ${rt.toFixed(1)} ms`;
    el.frames.textContent = String(demo.frames);
  }

  /** Shows the top 3 of the model's classes, or of the taught ones; returns what is shown. */
  showTop(res, taught) {
    const top = taught
      ? taught.scores.slice(0, 3).map((s, i) => ({ index: i, label: s.label, probability: s.confidence }))
      : res.top.map((t) => ({ index: t.index, label: this.labelOf(t), probability: t.probability }));
    this.state.demo.lastTop = top;
    this.state.demo.predictionSource = taught ? 'taught' : 'model';
    this.el.top3.classList.toggle('taught', !!taught);
    this.renderTop(top);
    return top;
  }

  renderTop(top) {
    const items = this.el.top3.children;
    for (let i = 0; i < items.length; i++) {
      const t = top[i];
      const li = items[i];
      li.querySelector('.pred-label').textContent = t ? t.label : '–';
      li.querySelector('.pred-pct').textContent = t ? `${(t.probability * 100).toFixed(1)}%` : '';
      li.querySelector('.pred-bar i').style.width = t ? `${Math.max(0, Math.min(100, t.probability * 100)).toFixed(1)}%` : '0';
    }
  }
}
