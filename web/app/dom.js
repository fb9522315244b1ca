// Page chrome shared by every part of the demo: the element lookup and the
// error / status banners. Camera, stills and the model loader all report
// through Notices, so an error reaches the banner and the app state the
// tests read the same way whichever part failed.

export const $ = (id) => document.getElementById(id);

/** The page's elements by role (ids are in index.html). */
export function elements() {
  return {
    freeze: $('freeze'), diff: $('diff'), stretch: $('stretch'), modelFile: $('model-file'),
    error: $('error'), status: $('status'),
    tabCamera: $('tab-camera'), tabImages: $('tab-images'), cameraSelect: $('camera-select'),
    stage: $('stage'), video: $('video'), still: $('still'), cropGuide: $('crop-guide'),
    badge: $('stage-badge'), stageMsg: $('stage-msg'),
    cameraNotice: $('camera-notice'), cameraRetry: $('camera-retry'),
    images: $('images'), samples: $('samples'), imageFile: $('image-file'), imageDrop: $('image-drop'),
    top3: $('top3'), latency: $('latency'), fps: $('fps'), frames: $('frames'),
    legend: $('legend'), legendLo: $('legend-lo'), legendHi: $('legend-hi'), legendName: $('legend-name'),
    exHint: $('ex-hint'), strips: $('strips'), tip: $('tip'),
    detail: $('detail'), detailClose: $('detail-close'),
    dropOverlay: $('drop-overlay'), footVersion: $('foot-version'),
    predSource: $('pred-source'), predSwitch: $('pred-switch'),
    teach: $('teach'), teachStatus: $('teach-status'), teachNote: $('teach-note'), teachAdd: $('teach-add'),
    teachName: $('teach-name'), teachAddBtn: $('teach-add-btn'), teachClasses: $('teach-classes'),
    teachDownload: $('teach-download'), teachLoad: $('teach-load'), teachFile: $('teach-file'), teachClear: $('teach-clear'),
  };
}

export class Notices {
  constructor(el, demo) {
    this.el = el;
    this.demo = demo;
    el.error.querySelector('.banner-close').addEventListener('click', () => this.clearError());
  }

  error(context, err) {
    const code = err && err.code != null ? err.code : null;
    const message = (err && err.message) || String(err);
    this.demo.error = { context, code, message };
    this.el.error.querySelector('.banner-text').textContent = `${context}: ${message}${code != null ? ` (${code})` : ''}`;
    this.el.error.hidden = false;
  }

  clearError() {
    this.demo.error = null;
    this.el.error.hidden = true;
  }

  status(text) {
    this.el.status.textContent = text || '';
    this.el.status.hidden = !text;
  }
}
