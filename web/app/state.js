// App state: what every part of the page needs to agree on (is a model
// loaded, which source tab is shown, what the last result was) kept in one
// object that main.js hands to the camera, the stills and the views, so none
// of them reaches into another's variables. Its `demo` part is mirrored on
// window.__demo for the browser tests and for curious users in the console
// (read-only by convention).

export function createState() {
  /** Everything a test (or a curious user in the console) may want to read. */
  const demo = {
    ready: false, // a model is loaded
    loading: false, // a model is being loaded
    threads: null, // { available, using, reason }: the model's threads and how many frames run on
    frames: 0, // classifications shown
    lastTop: null, // [{index, label, probability}] as shown: the model's classes or the taught ones
    predictionSource: 'model', // what the prediction panel shows: 'model' | 'taught'
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
    // teach: {available, classes: [{name, count}], ready, view, recording, saves, restored} (teach.js)
  };
  return {
    demo,
    mode: 'camera', // the source tab shown: 'camera' | 'images'
    info: null, // the loaded model's description, from the worker
    lastResult: null, // the worker's result shown last
  };
}
