// The demo's thread switch: how many threads the model runs on, why it is
// one when threads were not available (a page that is not cross-origin
// isolated), and a button that moves the running model between one thread
// and all of its threads, so the difference shows in the latency at once.

export class ThreadsControl {
  /** el: the element to fill; engine: the worker client; onchange({available, using, reason}); onerror(e). */
  constructor(el, engine, onchange, onerror) {
    this.el = el;
    this.engine = engine;
    this.onchange = onchange;
    this.onerror = onerror;
    this.available = 1;
    this.using = 1;
    this.reason = null;
  }

  show(available, reason) {
    this.available = available || 1;
    this.using = this.available;
    this.reason = reason || null;
    this.render();
  }

  render() {
    const { el } = this;
    el.textContent = '';
    const text = document.createElement('span');
    text.textContent = this.available > 1
      ? `${this.using} of ${this.available}`
      : `1${this.reason ? ` (${this.reason})` : ''}`;
    el.append(text);
    if (this.available > 1) {
      const other = this.using === 1 ? this.available : 1;
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'btn small';
      b.id = 'threads-switch';
      b.textContent = `run on ${other}`;
      b.title = 'Move the running model to another thread count (results stay the same bit for bit)';
      b.addEventListener('click', () => this.set(other));
      el.append(' ', b);
    }
    this.onchange({ available: this.available, using: this.using, reason: this.reason });
  }

  async set(n) {
    try {
      const r = await this.engine.setThreads(n);
      this.using = r.threads;
      this.render();
    } catch (e) {
      this.onerror(e);
    }
  }
}
