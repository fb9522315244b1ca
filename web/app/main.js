// mnasnet-wasm demo page: the wiring. Creates the app state, the inference
// worker client and the parts of the page (camera, still images, drag and
// drop, Teach mode, the result and gate views), and connects them: tabs,
// Freeze, model loading and the keyboard. The parts live in their own modules.
import { Engine } from './engine.js';
import { createState } from './state.js';
import { elements, Notices } from './dom.js';
import { Stage } from './stage.js';
import { ResultsView } from './results.js';
import { GateView } from './gates.js';
import { adoptInfo, modelSummary, showModelInfo } from './model-info.js';
import { Camera } from './camera.js';
import { Stills } from './stills.js';
import { installDrop } from './drop.js';
import { Teacher } from './teach.js';
import { ThreadsControl } from './threads.js';
import { ClassView } from './class-view.js';

const el = elements();
const state = createState();
const { demo } = state;
window.__demo = demo;

const engine = new Engine();
const notices = new Notices(el, demo);
const stage = new Stage(el);
const results = new ResultsView(el, state);
const gates = new GateView(el, demo);
const threads = new ThreadsControl(document.getElementById('mi-threads'), engine,
  (t) => { demo.threads = t; results.resetRate(); },
  (e) => notices.error('Could not change the thread count', e));

// The taught classes' prediction, when the panel shows them.
const taughtOf = (res) => (teacher.showingTaught && res.taught ? res.taught : null);

function onResult(res, continuous, capturedAt, sourceName) {
  state.lastResult = res;
  results.show(res, continuous, capturedAt, sourceName, taughtOf(res));
  gates.show(res);
}

const camera = new Camera(el, engine, state, stage, {
  onResult: (res, capturedAt) => onResult(res, true, capturedAt, 'camera'),
  onError: (context, e) => notices.error(context, e),
  onLive: () => {
    results.resetRate();
    if (demo.frozen) setFrozen(false);
  },
  onFailed: () => showImages(true),
  frameTag: (video) => teacher.frameTag(video),
  onAdded: (res) => teacher.onAdded(res),
});

const stills = new Stills(el, engine, state, stage, {
  onResult: (res, capturedAt, name) => onResult(res, false, capturedAt, name),
  onError: (context, e) => notices.error(context, e),
  // A new picture ends a freeze; the frozen gates stay as the difference reference.
  onPicked: () => { if (demo.frozen) setFrozen(false); },
  showImages: () => showImages(),
});

const classView = new ClassView(engine, demo, notices, {
  samples: () => [...el.samples.querySelectorAll('button.sample')].map((b) => ({ img: b.querySelector('img'), label: b.dataset.label })),
});

const teacher = new Teacher(el, engine, state, notices, {
  video: () => (state.mode === 'camera' && camera.live ? el.video : null),
  still: () => stills.current?.bitmap ?? null,
  // The shown picture is classified again so the panel follows the head at once.
  onHeadChanged: () => {
    if (state.mode === 'images') stills.classify();
    classView.headChanged();
  },
  onViewChanged: () => { if (state.lastResult) results.showTop(state.lastResult, taughtOf(state.lastResult)); },
});

// ---------------------------------------------------------------- model

async function loadModel(model, name) {
  demo.loading = true;
  notices.status(`Loading ${name}…`);
  try {
    const res = await engine.load(model, name);
    const info = adoptInfo(res.info);
    state.info = info;
    state.lastResult = null;
    gates.reset(info.seBlocks || []);
    showModelInfo(info, res.loadMs, el.footVersion);
    threads.show(info.threads, info.threadsReason);
    demo.modelInfo = modelSummary(info, res.loadMs);
    demo.ready = true;
    results.resetRate();
    notices.clearError();
    el.freeze.disabled = false;
    el.diff.disabled = false;
    if (state.mode === 'images' && stills.current) stills.classify();
    teacher.modelChanged(info, res.head);
    classView.modelChanged();
    return true;
  } catch (e) {
    notices.error(`Could not load model ${name}`, e);
    return false;
  } finally {
    demo.loading = false;
    notices.status('');
  }
}

async function loadModelFile(file) {
  let buf;
  try {
    buf = await file.arrayBuffer();
  } catch (e) {
    notices.error(`Could not read ${file.name}`, e);
    return;
  }
  await loadModel(buf, file.name);
}

el.modelFile.addEventListener('change', () => {
  const f = el.modelFile.files[0];
  if (f) loadModelFile(f);
  el.modelFile.value = '';
});

// ---------------------------------------------------------------- freeze, difference, contrast

function setFrozen(on) {
  demo.frozen = on;
  el.freeze.setAttribute('aria-pressed', String(on));
  el.badge.hidden = !on;
  if (on) {
    gates.holdReference();
    if (state.mode === 'camera') camera.pause();
  } else if (state.mode === 'camera' && camera.live) {
    camera.resume();
    results.resetRate();
  }
  gates.updateLegend();
  gates.render();
}

el.freeze.addEventListener('click', () => setFrozen(!demo.frozen));
el.stretch.addEventListener('click', () => gates.setStretch(!demo.stretch));
el.diff.addEventListener('click', () => gates.setDiff(!demo.diff));
document.addEventListener('keydown', (ev) => {
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if ((ev.key === 'f' || ev.key === 'F') && !el.freeze.disabled) setFrozen(!demo.frozen);
  else if ((ev.key === 'd' || ev.key === 'D') && !el.diff.disabled) gates.setDiff(!demo.diff);
  else if (ev.key === 'c' || ev.key === 'C') gates.setStretch(!demo.stretch);
});

// ---------------------------------------------------------------- tabs

function showCamera() {
  state.mode = 'camera';
  el.tabCamera.setAttribute('aria-selected', 'true');
  el.tabImages.setAttribute('aria-selected', 'false');
  el.images.hidden = true;
  el.still.hidden = true;
  el.video.hidden = false;
  el.cameraSelect.hidden = el.cameraSelect.options.length < 2;
  if (demo.frozen) setFrozen(false);
  camera.start(el.cameraSelect.value || undefined).then(() => teacher.render());
}

/** auto: the camera failed (its notice stays up) rather than the user picking the tab. */
function showImages(auto = false) {
  state.mode = 'images';
  camera.stop();
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
  stage.hideGuide();
  results.resetRate();
  teacher.stopRecording();
  teacher.render();
  stills.show();
}

el.tabCamera.addEventListener('click', () => { if (state.mode !== 'camera') showCamera(); });
el.tabImages.addEventListener('click', () => { if (state.mode !== 'images') showImages(); });
el.cameraRetry.addEventListener('click', () => showCamera());

installDrop(el.dropOverlay, {
  onImage: (f) => stills.use(f, f.name, 'upload'),
  onModel: (f) => loadModelFile(f),
});

// ---------------------------------------------------------------- layout

function layoutStage() {
  if (state.mode === 'camera') camera.layout();
  else stills.draw();
}
el.video.addEventListener('loadedmetadata', layoutStage);
el.video.addEventListener('resize', layoutStage);
new ResizeObserver(layoutStage).observe(el.stage);

// ---------------------------------------------------------------- start

gates.updateLegend();
engine.onfatal = (e) => notices.error('Inference worker', e);
stills.loadSamples();
showCamera();
loadModel(null, 'MnasNet-A1 · CIFAR-10 (default)').then((ok) => {
  if (ok && state.mode === 'camera' && camera.live) stage.message('');
  if (!ok) stage.message('No model');
});
