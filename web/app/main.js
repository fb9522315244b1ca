// mnasnet-wasm demo page: camera / image input, the inference worker, the
// prediction and SE-gate views. Page state is mirrored on window.__demo for
// tests and curious users (read-only by convention).
import { Engine } from './engine.js';
import { ExcitationPanel, DetailView, DIFF_RANGE, mean } from './excitations.js';
import { SEQUENTIAL, DIVERGING, drawLegend } from './colormap.js';
import { ThreadsControl } from './threads.js';

const $ = (id) => document.getElementById(id);

const el = {
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
};

/** Everything a test (or a curious user in the console) may want to read. */
const demo = {
  ready: false, // a model is loaded
  loading: false, // a model is being loaded
  frames: 0, // classifications shown
  lastTop: null, // [{index, label, probability}]
  resultSource: '', // what the shown result was computed from: 'camera' or an image's file name
  top1Counts: {}, // label -> number of classified frames with it as top-1
  fps: 0, // smoothed classification rate (continuous camera mode)
  latencyMs: 0, // smoothed SDK inference time
  roundTripMs: 0, // smoothed time from frame capture to result on the page
  excitations: [], // [{name, channels, height, width, mean, values: Float32Array}]
  excitationsFrame: 0, // frame number the snapshot belongs to
  stripsDrawn: 0,
  error: null, // {code, message, context}
  modelInfo: null,
  camera: { state: 'idle', message: '', devices: 0, label: '' },
  source: 'camera', // 'camera' | 'sample' | 'upload'
  sourceName: '',
  frozen: false,
  diff: false,
  stretch: false, // colours span each block's own range instead of [0, 1]
  detailOpen: null,
  threads: null, // { available, using, reason }: the model's threads and how many frames run on
};
window.__demo = demo;

const engine = new Engine();
const panel = new ExcitationPanel(el.strips, el.tip, (i) => openDetail(i));
const detail = new DetailView(el.detail, el.detail.querySelector('.tip'));
const threads = new ThreadsControl($('mi-threads'), engine, (t) => { demo.threads = t; resetRate(); },
  (e) => showError('Could not change the thread count', e));

let info = null; // model info from the worker
let lastValues = null; // packed gate values of the shown frame
let refValues = null; // packed gate values of the frozen frame
let offsetsSet = false;
let mode = 'camera'; // which tab is shown
let stream = null;
let frameLoopToken = 0;
let cameraBusy = false; // a camera frame is being captured or classified
let still = null; // { bitmap, name, kind }
let stillPending = false;
let lastResultAt = 0;
let dtEma = 0;

// ---------------------------------------------------------------- helpers

function fmtCount(n) {
  if (n == null || !Number.isFinite(Number(n))) return '–';
  n = Number(n);
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

function fmtInput(s) {
  if (s == null) return '–';
  if (typeof s === 'number') return `${s}×${s}`;
  if (Array.isArray(s)) return s.slice(-2).join('×');
  if (typeof s === 'object') {
    const h = s.height ?? s.h, w = s.width ?? s.w;
    if (h && w) return `${h}×${w}`;
  }
  return String(s);
}

function labelOf(t) {
  if (info && info.indexLabels) return `class ${t.index}`;
  if (t.label != null && t.label !== '') return String(t.label);
  if (info && info.labels && info.labels[t.index] != null) return info.labels[t.index];
  return `class ${t.index}`;
}

function showError(context, err) {
  const code = err && err.code != null ? err.code : null;
  const message = (err && err.message) || String(err);
  demo.error = { context, code, message };
  el.error.querySelector('.banner-text').textContent = `${context}: ${message}${code != null ? ` (${code})` : ''}`;
  el.error.hidden = false;
}

function clearError() {
  demo.error = null;
  el.error.hidden = true;
}

function setStatus(text) {
  el.status.textContent = text || '';
  el.status.hidden = !text;
}

function setStageMsg(text) {
  el.stageMsg.textContent = text || '';
  el.stageMsg.hidden = !text;
}

// ---------------------------------------------------------------- model

async function loadModel(model, name) {
  demo.loading = true;
  setStatus(`Loading ${name}…`);
  try {
    const res = await engine.load(model, name);
    info = res.info;
    // Models without label metadata get class indices from the SDK ("0", "1", …).
    info.indexLabels = !info.labels || info.labels.every((l, i) => l === String(i));
    if (!info.labels || !info.labels.length) info.labels = null;
    offsetsSet = false;
    lastValues = null;
    refValues = null;
    setDiff(false);
    panel.setBlocks(info.seBlocks || []);
    if (detail.open) el.detail.close();
    showModelInfo(info, res.loadMs);
    threads.show(info.threads, info.threadsReason);
    demo.modelInfo = {
      name: info.name,
      inputSize: info.inputSize,
      classes: info.numClasses || (info.labels ? info.labels.length : 0),
      labels: info.labels && !info.indexLabels ? info.labels.slice(0, 20) : null,
      params: info.params,
      macs: info.macs,
      layers: info.layers,
      seBlocks: info.seBlocks,
      backend: info.backend,
      version: info.version,
      loadMs: res.loadMs,
    };
    demo.ready = true;
    demo.excitations = [];
    resetRate();
    clearError();
    el.freeze.disabled = false;
    el.diff.disabled = false;
    if (mode === 'images' && still) classifyStill();
    return true;
  } catch (e) {
    showError(`Could not load model ${name}`, e);
    return false;
  } finally {
    demo.loading = false;
    setStatus('');
  }
}

function showModelInfo(mi, loadMs) {
  const classes = mi.numClasses || (mi.labels ? mi.labels.length : 0);
  $('mi-name').textContent = mi.name;
  $('mi-input').textContent = fmtInput(mi.inputSize);
  $('mi-classes').textContent = classes
    ? `${classes}${mi.labels && !mi.indexLabels ? ` (${mi.labels.slice(0, 3).join(', ')}${classes > 3 ? ', …' : ''})` : ' (no labels in the model: class indices)'}`
    : '–';
  $('mi-params').textContent = mi.params != null ? `${fmtCount(mi.params)} (${Number(mi.params).toLocaleString('en-US')})` : '–';
  $('mi-macs').textContent = mi.macs != null ? fmtCount(mi.macs) : '–';
  $('mi-layers').textContent = mi.layers != null ? (Array.isArray(mi.layers) ? String(mi.layers.length) : String(mi.layers)) : '–';
  const se = mi.seBlocks || [];
  $('mi-se').textContent = se.length ? `${se.length} (${se.map((b) => b.channels).join(', ')} channels)` : 'none';
  $('mi-engine').textContent = [mi.backend, mi.version && `v${mi.version}`, loadMs != null && `loaded in ${Math.round(loadMs)} ms`]
    .filter(Boolean).join(' · ') || '–';
  el.footVersion.textContent = mi.version ? `mnasnet-wasm ${mi.version}` : 'mnasnet-wasm';
}

async function loadModelFile(file) {
  let buf;
  try {
    buf = await file.arrayBuffer();
  } catch (e) {
    showError(`Could not read ${file.name}`, e);
    return;
  }
  await loadModel(buf, file.name);
}

// ---------------------------------------------------------------- results

function resetRate() {
  lastResultAt = 0;
  dtEma = 0;
  demo.fps = 0;
  el.fps.textContent = '–';
}

function onResult(res, continuous, capturedAt, sourceName) {
  const now = performance.now();
  if (!offsetsSet) {
    panel.setOffsets(res.blocks);
    offsetsSet = true;
  }
  lastValues = res.values;
  demo.frames++;
  demo.resultSource = sourceName;
  const top = res.top.map((t) => ({ index: t.index, label: labelOf(t), probability: t.probability }));
  demo.lastTop = top;
  if (top[0]) demo.top1Counts[top[0].label] = (demo.top1Counts[top[0].label] || 0) + 1;

  const a = demo.frames <= 2 ? 1 : 0.15;
  demo.latencyMs = demo.latencyMs ? demo.latencyMs + a * (res.timeMs - demo.latencyMs) : res.timeMs;
  const rt = now - capturedAt;
  demo.roundTripMs = demo.roundTripMs ? demo.roundTripMs + 0.15 * (rt - demo.roundTripMs) : rt;
  if (continuous) {
    if (lastResultAt) {
      const dt = now - lastResultAt;
      dtEma = dtEma ? dtEma + 0.1 * (dt - dtEma) : dt;
      demo.fps = 1000 / dtEma;
      el.fps.textContent = demo.fps.toFixed(1);
    }
    lastResultAt = now;
  } else {
    resetRate();
  }
  el.latency.textContent = demo.latencyMs.toFixed(1);
  el.latency.title = `inference ${res.timeMs.toFixed(1)} ms · frame to result ${rt.toFixed(1)} ms`;
  el.frames.textContent = String(demo.frames);
  renderTop(top);
  renderExcitations();
  demo.excitations = panel.blocks.map((b) => {
    const v = lastValues.slice(b.offset, b.offset + b.channels);
    return { name: b.name, channels: b.channels, height: b.height, width: b.width, mean: mean(v), values: v };
  });
  demo.excitationsFrame = demo.frames;
}

function renderTop(top) {
  const items = el.top3.children;
  for (let i = 0; i < items.length; i++) {
    const t = top[i];
    const li = items[i];
    li.querySelector('.pred-label').textContent = t ? t.label : '–';
    li.querySelector('.pred-pct').textContent = t ? `${(t.probability * 100).toFixed(1)}%` : '';
    li.querySelector('.pred-bar i').style.width = t ? `${Math.max(0, Math.min(100, t.probability * 100)).toFixed(1)}%` : '0';
  }
}

function renderExcitations() {
  if (!lastValues) return;
  const m = demo.diff ? 'diff' : 'gate';
  panel.update(lastValues, m, refValues, demo.stretch);
  demo.stripsDrawn = panel.drawn;
  if (detail.open) detail.update(lastValues, m, refValues, detailRange());
}

function openDetail(i) {
  const b = panel.blocks[i];
  if (!b || !lastValues) return;
  demo.detailOpen = b.name;
  detail.show(b, lastValues, demo.diff ? 'diff' : 'gate', refValues, detailRange(b));
}

function detailRange(b = detail.block) {
  return demo.stretch && b && b.range ? b.range : null;
}
el.detail.addEventListener('close', () => { demo.detailOpen = null; });
el.detailClose.addEventListener('click', () => el.detail.close());

// ---------------------------------------------------------------- freeze / difference

function setFrozen(on) {
  demo.frozen = on;
  el.freeze.setAttribute('aria-pressed', String(on));
  el.badge.hidden = !on;
  if (on) {
    if (lastValues) refValues = lastValues.slice();
    if (mode === 'camera') el.video.pause();
  } else if (mode === 'camera' && stream) {
    el.video.play().catch(() => {});
    resetRate();
  }
  updateLegend();
  renderExcitations();
}

function setDiff(on) {
  if (on && !refValues && lastValues) refValues = lastValues.slice();
  demo.diff = on && !!refValues;
  el.diff.setAttribute('aria-pressed', String(demo.diff));
  updateLegend();
  renderExcitations();
}

const HINT_GATE = el.exHint.textContent;

function updateLegend() {
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
      : HINT_GATE;
  }
}

function setStretch(on) {
  demo.stretch = on;
  el.stretch.setAttribute('aria-pressed', String(on));
  updateLegend();
  renderExcitations();
}

el.freeze.addEventListener('click', () => setFrozen(!demo.frozen));
el.stretch.addEventListener('click', () => setStretch(!demo.stretch));
el.diff.addEventListener('click', () => setDiff(!demo.diff));
document.addEventListener('keydown', (ev) => {
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if ((ev.key === 'f' || ev.key === 'F') && !el.freeze.disabled) setFrozen(!demo.frozen);
  else if ((ev.key === 'd' || ev.key === 'D') && !el.diff.disabled) setDiff(!demo.diff);
  else if (ev.key === 'c' || ev.key === 'C') setStretch(!demo.stretch);
});

// ---------------------------------------------------------------- camera

function hasFrameCallback() {
  return 'requestVideoFrameCallback' in HTMLVideoElement.prototype;
}

function scheduleFrame(token) {
  if (token !== frameLoopToken) return;
  if (hasFrameCallback()) {
    el.video.requestVideoFrameCallback(() => onFrame(token));
  } else {
    // Fallback: poll once per display frame, act only when the video advanced.
    requestAnimationFrame(() => {
      const v = el.video;
      const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
      const stamp = q && q.totalVideoFrames ? q.totalVideoFrames : v.currentTime;
      if (stamp === lastVideoStamp) return scheduleFrame(token);
      lastVideoStamp = stamp;
      onFrame(token);
    });
  }
}

let lastVideoStamp = -1;
let frameWaiting = false; // a new video frame arrived while one was being classified

function onFrame(token) {
  if (token !== frameLoopToken) return;
  scheduleFrame(token);
  // Never more than one frame in flight. A frame that arrives meanwhile is not
  // kept: we only note it, and grab the video's newest frame when the worker is free.
  if (cameraBusy || engine.busy) frameWaiting = true;
  else captureFrame(token);
}

async function captureFrame(token) {
  const v = el.video;
  frameWaiting = false;
  if (demo.frozen || !demo.ready || mode !== 'camera' || v.readyState < 2 || !v.videoWidth) return;
  cameraBusy = true;
  const capturedAt = performance.now();
  try {
    const bmp = await createImageBitmap(v);
    const res = await engine.classify(bmp, 3);
    // Drop a result that finished after the user froze or left the camera.
    if (token === frameLoopToken && !demo.frozen && mode === 'camera') onResult(res, true, capturedAt, 'camera');
  } catch (e) {
    if (token === frameLoopToken) showError('Classification failed', e);
  } finally {
    cameraBusy = false;
  }
  if (frameWaiting && token === frameLoopToken && !engine.busy) captureFrame(token);
}

function cameraFailure(e) {
  const name = e && e.name;
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') {
    return ['denied', 'Camera access was denied, so there is no live video. Allow the camera for this site and try again, or classify the sample images and your own pictures below.'];
  }
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') {
    return ['none', 'No camera was found on this device. You can classify the sample images and your own pictures below.'];
  }
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
    return ['busy', 'The camera could not be started (another application may be using it). You can classify the sample images and your own pictures below.'];
  }
  if (name === 'unsupported') {
    return ['unsupported', 'This browser does not let the page use a camera here (a secure context such as https:// or localhost is needed). You can classify the sample images and your own pictures below.'];
  }
  return ['error', `The camera could not be started (${(e && e.message) || e}). You can classify the sample images and your own pictures below.`];
}

function stopCamera() {
  frameLoopToken++;
  if (stream) for (const t of stream.getTracks()) t.stop();
  stream = null;
  el.video.srcObject = null;
}

async function startCamera(deviceId) {
  stopCamera();
  demo.camera.state = 'starting';
  setStageMsg('Starting camera…');
  el.cameraNotice.hidden = true;
  try {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw Object.assign(new Error('getUserMedia is not available'), { name: 'unsupported' });
    }
    const video = deviceId
      ? { deviceId: { exact: deviceId }, width: { ideal: 640 }, height: { ideal: 480 } }
      : { facingMode: { ideal: 'environment' }, width: { ideal: 640 }, height: { ideal: 480 } };
    const s = await navigator.mediaDevices.getUserMedia({ video, audio: false });
    if (mode !== 'camera') { // the user switched to images meanwhile
      for (const t of s.getTracks()) t.stop();
      demo.camera.state = 'idle';
      return;
    }
    stream = s;
    const track = s.getVideoTracks()[0];
    track.addEventListener('ended', () => {
      if (stream === s) onCameraFailed(Object.assign(new Error('the camera was disconnected'), { name: 'Ended' }));
    });
    el.video.srcObject = s;
    await el.video.play().catch(() => {});
    demo.camera.state = 'live';
    demo.camera.label = track.label || 'camera';
    demo.source = 'camera';
    demo.sourceName = demo.camera.label;
    setStageMsg(demo.ready ? '' : 'Loading model…');
    resetRate();
    if (demo.frozen) setFrozen(false);
    frameLoopToken++;
    scheduleFrame(frameLoopToken);
    await listCameras(track.getSettings().deviceId);
  } catch (e) {
    onCameraFailed(e);
  }
}

function onCameraFailed(e) {
  stopCamera();
  const [state, message] = cameraFailure(e);
  demo.camera.state = state;
  demo.camera.message = message;
  el.cameraNotice.querySelector('.notice-text').textContent = message;
  el.cameraNotice.hidden = false;
  el.cameraRetry.hidden = state === 'unsupported';
  showImages(true);
}

async function listCameras(currentId) {
  let cams = [];
  try {
    cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
  } catch { /* keep the picker hidden */ }
  demo.camera.devices = cams.length;
  const sel = el.cameraSelect;
  sel.replaceChildren();
  cams.forEach((c, i) => {
    const o = document.createElement('option');
    o.value = c.deviceId;
    o.textContent = c.label || `Camera ${i + 1}`;
    if (c.deviceId === currentId) o.selected = true;
    sel.append(o);
  });
  sel.hidden = cams.length < 2 || mode !== 'camera';
}

el.cameraSelect.addEventListener('change', () => startCamera(el.cameraSelect.value));
el.cameraRetry.addEventListener('click', () => showCamera());

// ---------------------------------------------------------------- tabs

function showCamera() {
  mode = 'camera';
  el.tabCamera.setAttribute('aria-selected', 'true');
  el.tabImages.setAttribute('aria-selected', 'false');
  el.images.hidden = true;
  el.still.hidden = true;
  el.video.hidden = false;
  el.cameraSelect.hidden = el.cameraSelect.options.length < 2;
  if (demo.frozen) setFrozen(false);
  startCamera(el.cameraSelect.value || undefined);
}

function showImages(auto = false) {
  mode = 'images';
  stopCamera();
  if (!auto) {
    demo.camera.state = 'off';
    el.cameraNotice.hidden = true;
  }
  el.tabCamera.setAttribute('aria-selected', 'false');
  el.tabImages.setAttribute('aria-selected', 'true');
  el.images.hidden = false;
  el.video.hidden = true;
  el.still.hidden = false;
  el.cameraSelect.hidden = true;
  el.cropGuide.hidden = true;
  resetRate();
  if (still) {
    drawStill();
    classifyStill();
  } else {
    setStageMsg('Pick an image below');
    const first = el.samples.querySelector('button');
    if (first) first.click();
  }
}

el.tabCamera.addEventListener('click', () => { if (mode !== 'camera') showCamera(); });
el.tabImages.addEventListener('click', () => { if (mode !== 'images') showImages(); });

// ---------------------------------------------------------------- still images

function drawStill() {
  if (!still) return;
  const c = el.still;
  const r = el.stage.getBoundingClientRect();
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
  setStageMsg('');
  placeCropGuide(b.width, b.height, c.width / dpr, c.height / dpr, b.width !== b.height);
}

async function classifyStill() {
  if (!still || !demo.ready) return;
  if (engine.busy) { stillPending = true; return; }
  stillPending = false;
  const capturedAt = performance.now();
  const target = still;
  try {
    const bmp = await createImageBitmap(target.bitmap);
    const res = await engine.classify(bmp, 3);
    if (mode === 'images' && still === target) onResult(res, false, capturedAt, target.name);
  } catch (e) {
    showError('Classification failed', e);
  }
  if (stillPending) classifyStill();
}

/** source: a Blob/File or a loaded <img>. */
async function useImage(source, name, kind) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(source);
  } catch (e) {
    showError(`Could not decode ${name} as an image`, e);
    return;
  }
  if (still) still.bitmap.close();
  still = { bitmap, name, kind };
  // A new picture ends a freeze; the frozen gates stay as the difference reference.
  if (demo.frozen) setFrozen(false);
  demo.source = kind;
  demo.sourceName = name;
  for (const b of el.samples.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.name === name && kind === 'sample'));
  if (mode !== 'images') showImages();
  else {
    drawStill();
    classifyStill();
  }
}

async function loadSamples() {
  let list = [];
  try {
    const res = await fetch('samples/index.json');
    if (res.ok) list = (await res.json()).samples || [];
  } catch { /* no samples */ }
  el.samples.replaceChildren();
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
        showError(`Could not load sample ${s.file}`, e);
        return;
      }
      await useImage(img, s.file, 'sample');
    });
    el.samples.append(b);
  }
  if (!list.length) el.samples.textContent = 'No sample images (run node tools/fixtures/make-samples.mjs).';
  // The camera may have failed before the list arrived: show something at once.
  if (mode === 'images' && !still && list.length) el.samples.querySelector('button').click();
}

el.imageFile.addEventListener('change', () => {
  const f = el.imageFile.files[0];
  if (f) useImage(f, f.name, 'upload');
  el.imageFile.value = '';
});
el.modelFile.addEventListener('change', () => {
  const f = el.modelFile.files[0];
  if (f) loadModelFile(f);
  el.modelFile.value = '';
});

// ---------------------------------------------------------------- drag and drop

let dragDepth = 0;
function isFileDrag(ev) {
  return ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes('Files');
}
window.addEventListener('dragenter', (ev) => {
  if (!isFileDrag(ev)) return;
  ev.preventDefault();
  dragDepth++;
  el.dropOverlay.hidden = false;
});
window.addEventListener('dragover', (ev) => {
  if (!isFileDrag(ev)) return;
  ev.preventDefault();
  ev.dataTransfer.dropEffect = 'copy';
});
window.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) el.dropOverlay.hidden = true;
});
window.addEventListener('drop', (ev) => {
  ev.preventDefault();
  dragDepth = 0;
  el.dropOverlay.hidden = true;
  const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
  if (!f) return;
  // Images are classified; anything else is handed to the SDK as a model,
  // which explains what is wrong with it if it is not a usable ONNX file.
  if (/^image\//.test(f.type) && !/\.onnx$/i.test(f.name)) useImage(f, f.name, 'upload');
  else loadModelFile(f);
});

el.error.querySelector('.banner-close').addEventListener('click', clearError);

// ---------------------------------------------------------------- layout

function placeCropGuide(srcW, srcH, boxW, boxH, show) {
  const g = el.cropGuide;
  if (!show || !srcW || !srcH) { g.hidden = true; return; }
  const s = Math.min(boxW / srcW, boxH / srcH);
  const side = Math.min(srcW, srcH) * s;
  g.style.width = `${side}px`;
  g.style.height = `${side}px`;
  g.style.left = `${(boxW - side) / 2}px`;
  g.style.top = `${(boxH - side) / 2}px`;
  g.hidden = false;
}

function layoutStage() {
  if (mode === 'camera') {
    const v = el.video;
    placeCropGuide(v.videoWidth, v.videoHeight, el.stage.clientWidth, el.stage.clientHeight, v.videoWidth !== v.videoHeight);
  } else {
    drawStill();
  }
}
el.video.addEventListener('loadedmetadata', layoutStage);
el.video.addEventListener('resize', layoutStage);
new ResizeObserver(layoutStage).observe(el.stage);

// ---------------------------------------------------------------- start

updateLegend();
engine.onfatal = (e) => showError('Inference worker', e);
loadSamples();
showCamera();
loadModel(null, 'MnasNet-A1 · CIFAR-10 (default)').then((ok) => {
  if (ok && mode === 'camera' && stream) setStageMsg('');
  if (!ok) setStageMsg('No model');
});
