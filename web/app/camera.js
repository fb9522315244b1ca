// The live camera source: getUserMedia and its failures in plain words, the
// camera picker, and the frame loop that keeps at most one frame in flight
// to the worker. It knows nothing about what a result looks like: results,
// errors and "the camera is gone" go out through the hooks main.js gives it.

/** [state, message] for a getUserMedia failure. */
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

const hasFrameCallback = () => 'requestVideoFrameCallback' in HTMLVideoElement.prototype;

export class Camera {
  /**
   * hooks: onResult(res, capturedAt), onError(context, err), onLive() (streaming
   * started), onFailed() (no camera: show the images instead), frameTag(video)
   * (the taught class a frame also becomes an example of, or null) and
   * onAdded(res) (it did).
   */
  constructor(el, engine, state, stage, hooks) {
    this.video = el.video;
    this.select = el.cameraSelect;
    this.notice = el.cameraNotice;
    this.retry = el.cameraRetry;
    Object.assign(this, { engine, state, stage, hooks });
    this.stream = null;
    this.token = 0; // bumped on every start/stop: results of an older loop are dropped
    this.busy = false; // a frame is being captured or classified
    this.frameWaiting = false; // a new video frame arrived while one was being classified
    this.lastVideoStamp = -1;
    this.select.addEventListener('change', () => this.start(this.select.value));
  }

  get live() {
    return !!this.stream;
  }

  get demo() {
    return this.state.demo;
  }

  async start(deviceId) {
    const demo = this.demo;
    this.stop();
    demo.camera.state = 'starting';
    this.stage.message('Starting camera…');
    this.notice.hidden = true;
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw Object.assign(new Error('getUserMedia is not available'), { name: 'unsupported' });
      }
      const video = deviceId
        ? { deviceId: { exact: deviceId }, width: { ideal: 640 }, height: { ideal: 480 } }
        : { facingMode: { ideal: 'environment' }, width: { ideal: 640 }, height: { ideal: 480 } };
      const s = await navigator.mediaDevices.getUserMedia({ video, audio: false });
      if (this.state.mode !== 'camera') { // the user switched to images meanwhile
        for (const t of s.getTracks()) t.stop();
        demo.camera.state = 'idle';
        return;
      }
      this.stream = s;
      const track = s.getVideoTracks()[0];
      track.addEventListener('ended', () => {
        if (this.stream === s) this.failed(Object.assign(new Error('the camera was disconnected'), { name: 'Ended' }));
      });
      this.video.srcObject = s;
      await this.video.play().catch(() => {});
      demo.camera.state = 'live';
      demo.camera.label = track.label || 'camera';
      demo.source = 'camera';
      demo.sourceName = demo.camera.label;
      this.stage.message(demo.ready ? '' : 'Loading model…');
      this.hooks.onLive();
      this.token++;
      this.scheduleFrame(this.token);
      await this.listCameras(track.getSettings().deviceId);
    } catch (e) {
      this.failed(e);
    }
  }

  stop() {
    this.token++;
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    this.video.srcObject = null;
  }

  pause() {
    this.video.pause();
  }

  resume() {
    this.video.play().catch(() => {});
  }

  failed(e) {
    const demo = this.demo;
    this.stop();
    const [state, message] = cameraFailure(e);
    demo.camera.state = state;
    demo.camera.message = message;
    this.notice.querySelector('.notice-text').textContent = message;
    this.notice.hidden = false;
    this.retry.hidden = state === 'unsupported';
    this.hooks.onFailed();
  }

  async listCameras(currentId) {
    let cams = [];
    try {
      cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
    } catch { /* keep the picker hidden */ }
    this.demo.camera.devices = cams.length;
    const sel = this.select;
    sel.replaceChildren();
    cams.forEach((c, i) => {
      const o = document.createElement('option');
      o.value = c.deviceId;
      o.textContent = c.label || `Camera ${i + 1}`;
      if (c.deviceId === currentId) o.selected = true;
      sel.append(o);
    });
    sel.hidden = cams.length < 2 || this.state.mode !== 'camera';
  }

  /** The centre-crop guide over the video. */
  layout() {
    const v = this.video;
    this.stage.cropGuide(v.videoWidth, v.videoHeight, v.videoWidth !== v.videoHeight);
  }

  scheduleFrame(token) {
    if (token !== this.token) return;
    if (hasFrameCallback()) {
      this.video.requestVideoFrameCallback(() => this.onFrame(token));
    } else {
      // Fallback: poll once per display frame, act only when the video advanced.
      requestAnimationFrame(() => {
        const v = this.video;
        const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
        const stamp = q && q.totalVideoFrames ? q.totalVideoFrames : v.currentTime;
        if (stamp === this.lastVideoStamp) return this.scheduleFrame(token);
        this.lastVideoStamp = stamp;
        this.onFrame(token);
      });
    }
  }

  onFrame(token) {
    if (token !== this.token) return;
    this.scheduleFrame(token);
    // Never more than one frame in flight. A frame that arrives meanwhile is not
    // kept: we only note it, and grab the video's newest frame when the worker is free.
    if (this.busy || this.engine.busy) this.frameWaiting = true;
    else this.capture(token);
  }

  async capture(token) {
    const v = this.video;
    const demo = this.demo;
    this.frameWaiting = false;
    if (demo.frozen || !demo.ready || this.state.mode !== 'camera' || v.readyState < 2 || !v.videoWidth) return;
    this.busy = true;
    const capturedAt = performance.now();
    try {
      const addTo = this.hooks.frameTag(v);
      const bmp = await createImageBitmap(v);
      const res = await this.engine.classify(bmp, 3, addTo);
      if (res.added != null) this.hooks.onAdded(res);
      // Drop a result that finished after the user froze or left the camera.
      if (token === this.token && !demo.frozen && this.state.mode === 'camera') this.hooks.onResult(res, capturedAt);
    } catch (e) {
      if (token === this.token) this.hooks.onError('Classification failed', e);
    } finally {
      this.busy = false;
    }
    if (this.frameWaiting && token === this.token && !this.engine.busy) this.capture(token);
  }
}
