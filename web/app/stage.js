// The stage: the box that shows the live video or the still picture, with a
// message line over it and the square guide marking the centre crop the
// model sees. Both sources draw into it, so its geometry lives here once.

export class Stage {
  constructor(el) {
    this.box = el.stage;
    this.msg = el.stageMsg;
    this.guide = el.cropGuide;
  }

  message(text) {
    this.msg.textContent = text || '';
    this.msg.hidden = !text;
  }

  /** Shows the centre square of a srcW x srcH picture fitted (contain) into the stage. */
  cropGuide(srcW, srcH, show, boxW = this.box.clientWidth, boxH = this.box.clientHeight) {
    const g = this.guide;
    if (!show || !srcW || !srcH) { g.hidden = true; return; }
    const s = Math.min(boxW / srcW, boxH / srcH);
    const side = Math.min(srcW, srcH) * s;
    g.style.width = `${side}px`;
    g.style.height = `${side}px`;
    g.style.left = `${(boxW - side) / 2}px`;
    g.style.top = `${(boxH - side) / 2}px`;
    g.hidden = false;
  }

  hideGuide() {
    this.guide.hidden = true;
  }
}
