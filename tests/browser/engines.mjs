// One small interface over the three browser engines the tests run in, all
// from Debian packages (tools/setup-deps.sh browser): Chromium and Firefox
// ESR through puppeteer-core (CDP and WebDriver BiDi), WebKitGTK (Safari's
// engine) through WebKitWebDriver driving MiniBrowser under Xvfb, spoken to
// with WebDriver classic over HTTP. The tests only need: open a URL,
// evaluate a function in the page, wait for a condition, screenshot, close.
//
//   const { engine, reason } = await startEngine('firefox', { camera: true });
//   if (!engine) -> skip with `reason`
//   const page = await engine.open(url);
//   await page.waitFor(() => window.ready, null, 30_000, 'the page');
//   const v = await page.eval((x) => x + 1, 41);
//   await page.screenshot(file); await page.close(); await engine.close();
//
// Env: CHROMIUM_PATH, FIREFOX_PATH, MINIBROWSER_PATH override the binaries.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ENGINES = ['chromium', 'firefox', 'webkit'];
export const ENGINE_NAMES = { chromium: 'Chromium', firefox: 'Firefox ESR', webkit: 'WebKitGTK' };

/** Debian's Chromium, and the flags every test starts it with (headless is added per launcher). */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', '--mute-audio',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

function onPath(cmd) {
  for (const d of (process.env.PATH || '').split(path.delimiter)) {
    if (d && fs.existsSync(path.join(d, cmd))) return path.join(d, cmd);
  }
  return null;
}

function firstExisting(...files) {
  return files.find((f) => f && fs.existsSync(f)) || null;
}

/** MiniBrowser ships inside libwebkit2gtk-4.x-0, under the multiarch lib folder. */
function findMiniBrowser() {
  if (process.env.MINIBROWSER_PATH) return firstExisting(process.env.MINIBROWSER_PATH);
  for (const lib of ['/usr/lib', '/usr/libexec']) {
    let dirs = [];
    try { dirs = fs.readdirSync(lib); } catch { continue; }
    for (const arch of ['', ...dirs]) {
      for (const api of ['webkit2gtk-4.1', 'webkit2gtk-4.0', 'webkitgtk-6.0']) {
        const f = path.join(lib, arch, api, 'MiniBrowser');
        if (fs.existsSync(f)) return f;
      }
    }
  }
  return null;
}

/** Error text of a failed evaluation, without puppeteer's long stack. */
const brief = (e) => String(e?.message || e).split('\n')[0];

/**
 * A page over a function `evalFn(fnSource, arg)` running `(fnSource)(arg)`
 * in the page and resolving to its JSON-able value.
 */
function makePage(evalFn, screenshotFn, closeFn) {
  const page = {
    eval: (fn, arg = null) => evalFn(fn.toString(), arg),
    async waitFor(fn, arg, timeout, what) {
      const t0 = Date.now();
      let last = null;
      for (;;) {
        try {
          if (await evalFn(fn.toString(), arg)) return;
          last = null;
        } catch (e) {
          last = e; // navigation in progress, or a page that never gets there
        }
        if (Date.now() - t0 > timeout) {
          const state = await evalFn((() => JSON.stringify(window.__demo ? {
            ready: window.__demo.ready, frames: window.__demo.frames, error: window.__demo.error,
            camera: window.__demo.camera, lastTop: window.__demo.lastTop,
          } : { readyState: document.readyState })).toString(), null).catch(() => '?');
          throw new Error(`timed out after ${timeout} ms waiting for ${what}; page state ${state}${last ? `; last error ${brief(last)}` : ''}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** Clicks an element through the DOM (the same in every engine). */
    click: (selector) => evalFn(((sel) => {
      const e = document.querySelector(sel);
      if (!e) throw new Error(`no element ${sel}`);
      e.click();
      return true;
    }).toString(), selector),
    screenshot: screenshotFn,
    close: closeFn,
  };
  return page;
}

// ------------------------------------------------------------ puppeteer

async function startPuppeteer(name, { camera }) {
  let puppeteer;
  try {
    puppeteer = (await import('puppeteer-core')).default;
  } catch (e) {
    return { reason: `puppeteer-core is not installed (npm ci): ${brief(e)}` };
  }
  let options;
  if (name === 'chromium') {
    const exe = firstExisting(CHROMIUM);
    if (!exe) return { reason: `${CHROMIUM} not found (tools/setup-deps.sh browser, or set CHROMIUM_PATH)` };
    const args = [...CHROMIUM_ARGS];
    if (camera) args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream');
    options = { browser: 'chrome', executablePath: exe, headless: true, args };
  } else {
    const exe = process.env.FIREFOX_PATH ? firstExisting(process.env.FIREFOX_PATH) : firstExisting('/usr/bin/firefox-esr', '/usr/bin/firefox');
    if (!exe) return { reason: `${process.env.FIREFOX_PATH || 'firefox-esr'} not found (tools/setup-deps.sh browser, or set FIREFOX_PATH)` };
    const prefs = {
      // a generated video stream as the camera, granted without a prompt
      'media.navigator.streams.fake': camera,
      'media.navigator.permission.disabled': camera,
    };
    options = { browser: 'firefox', executablePath: exe, headless: true, extraPrefsFirefox: prefs };
  }
  let browser;
  try {
    browser = await puppeteer.launch({ ...options, timeout: 60_000, protocolTimeout: 120_000 });
  } catch (e) {
    return { reason: `${ENGINE_NAMES[name]} did not start: ${brief(e)}` };
  }
  const version = (await browser.version()).replace(/^[^/]*\//, '').replace(/^HeadlessChrome\//, '');
  const engine = {
    name, label: ENGINE_NAMES[name], version,
    async open(url) {
      const p = await browser.newPage();
      const problems = [];
      p.on('pageerror', (e) => problems.push(`page error: ${brief(e)}`));
      p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
      await p.setViewport({ width: 1280, height: 900 });
      await p.goto(url, { waitUntil: 'load', timeout: 60_000 });
      const page = makePage(
        // The function's source goes in as text so every engine evaluates the same thing.
        (src, arg) => p.evaluate((s, a) => (0, eval)(`(${s})`)(a), src, arg),
        async (file) => fs.writeFileSync(file, await p.screenshot({ fullPage: true })),
        () => p.close(),
      );
      page.problems = problems;
      return page;
    },
    close: () => browser.close().catch(() => {}),
  };
  return { engine };
}

// ------------------------------------------------------------ WebKitGTK

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Xvfb on a display it picks itself (-displayfd); resolves to { proc, display }. */
function startXvfb() {
  return new Promise((resolve, reject) => {
    const proc = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    const timer = setTimeout(() => { proc.kill(); reject(new Error(`Xvfb gave no display in 10 s: ${err.trim()}`)); }, 10_000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdio[3].on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve({ proc, display: `:${out.trim()}` });
      }
    });
    proc.once('error', (e) => { clearTimeout(timer); reject(e); });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`Xvfb exited (${code}): ${err.trim()}`)); });
  });
}

async function wd(base, method, url, body, timeoutMs = 150_000) {
  const res = await fetch(base + url, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((e) => {
    throw new Error(`WebDriver ${method} ${url}: ${e.name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : e.message}`);
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || json.value?.error) {
    const v = json.value || {};
    throw new Error(`WebDriver ${method} ${url}: ${v.error || res.status} ${v.message || ''}`.trim());
  }
  return json.value;
}

async function startWebKit({ camera }) {
  const driver = onPath('WebKitWebDriver');
  if (!driver) return { reason: 'WebKitWebDriver not found (Debian package webkit2gtk-driver; tools/setup-deps.sh browser)' };
  const mini = findMiniBrowser();
  if (!mini) return { reason: 'MiniBrowser not found (Debian package libwebkit2gtk-4.1-0; set MINIBROWSER_PATH)' };
  if (!onPath('Xvfb')) return { reason: 'Xvfb not found (Debian package xvfb; tools/setup-deps.sh browser)' };
  const procs = [];
  const stop = () => { for (const p of procs.reverse()) if (p.exitCode === null) p.kill(); };
  try {
    const x = await startXvfb();
    procs.push(x.proc);
    const port = await freePort();
    const env = { ...process.env, DISPLAY: x.display };
    delete env.WAYLAND_DISPLAY;
    const drv = spawn(driver, [`--port=${port}`, '--host=127.0.0.1'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    procs.push(drv);
    let drvErr = '';
    drv.stderr.on('data', (d) => { drvErr = (drvErr + d).slice(-2000); });
    const base = `http://127.0.0.1:${port}`;
    const t0 = Date.now();
    for (;;) {
      const ok = await wd(base, 'GET', '/status', undefined, 2_000).then((v) => v.ready !== false, () => false);
      if (ok) break;
      if (drv.exitCode !== null || Date.now() - t0 > 10_000) throw new Error(`WebKitWebDriver did not answer: ${drvErr.trim()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // MiniBrowser takes WebKitSettings as options: mock capture devices stand in for a camera.
    const args = ['--automation', ...(camera ? ['--enable-mock-capture-devices=true', '--enable-media-stream=true'] : [])];
    const session = await wd(base, 'POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: mini, args } } },
    }, 30_000).catch((e) => { throw new Error(`${e.message} ${drvErr.trim()}`.trim()); });
    const sid = `/session/${session.sessionId}`;
    await wd(base, 'POST', `${sid}/timeouts`, { script: 120_000, pageLoad: 60_000 });
    await wd(base, 'POST', `${sid}/window/rect`, { width: 1280, height: 900 }).catch(() => {});
    const version = session.capabilities.browserVersion || '?';
    const engine = {
      name: 'webkit', label: ENGINE_NAMES.webkit, version,
      // WebDriver classic drives one window: a page is that window at a URL.
      async open(url) {
        await wd(base, 'POST', `${sid}/url`, { url });
        const script = `const done = arguments[arguments.length - 1];
          Promise.resolve().then(() => (${'$'}{SRC})(arguments[0])).then(
            (v) => done({ ok: true, v: v === undefined ? null : v }),
            (e) => done({ ok: false, e: String((e && e.message) || e) }));`;
        const page = makePage(
          async (src, arg) => {
            const r = await wd(base, 'POST', `${sid}/execute/async`, { script: script.replace('${SRC}', () => src), args: [arg] });
            if (!r.ok) throw new Error(r.e);
            return r.v;
          },
          async (file) => fs.writeFileSync(file, Buffer.from(await wd(base, 'GET', `${sid}/screenshot`), 'base64')),
          () => wd(base, 'POST', `${sid}/url`, { url: 'about:blank' }).catch(() => {}),
        );
        page.problems = []; // WebDriver classic reports no page errors
        return page;
      },
      async close() {
        await wd(base, 'DELETE', sid).catch(() => {});
        stop();
      },
    };
    return { engine };
  } catch (e) {
    stop();
    return { reason: `WebKitGTK did not start: ${brief(e)}` };
  }
}

/** { engine } or { reason } when the engine cannot start here. */
export function startEngine(name, { camera = false } = {}) {
  if (name === 'webkit') return startWebKit({ camera });
  if (name === 'chromium' || name === 'firefox') return startPuppeteer(name, { camera });
  throw new Error(`unknown engine ${name}`);
}
