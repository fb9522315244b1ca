// Runs one measurement in a fresh headless Chromium (fresh --user-data-dir, so
// nothing is cached between measurements) and reads the renderer's peak RSS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './config.mjs';

let playwright = null;
async function pw() {
  if (!playwright) playwright = await import('playwright-core');
  return playwright.chromium ?? playwright.default.chromium;
}

export function chromiumUnavailableReason() {
  if (!fs.existsSync(CHROMIUM_PATH)) return `${CHROMIUM_PATH} not found (set CHROMIUM_PATH)`;
  return null;
}

let versionCache;
export async function chromiumVersion() {
  if (versionCache !== undefined) return versionCache;
  try {
    const { execFileSync } = await import('node:child_process');
    versionCache = execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20000 }).trim();
  } catch { versionCache = null; }
  return versionCache;
}

// ---- /proc helpers (Linux) ----
function procList() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // Zygote children rewrite their argv into one space-separated string.
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split(/[\0 ]/);
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.push({ pid: Number(d), ppid, cmd });
    } catch { /* process gone */ }
  }
  return out;
}
function statusKb(pid, key) {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}
/** Peak RSS (VmHWM) of the renderer processes of the browser using userDataDir. */
function rendererPeakRss(userDataDir) {
  if (process.platform !== 'linux') return null;
  const procs = procList();
  const root = procs.find((p) => p.cmd.some((a) => a === `--user-data-dir=${userDataDir}`) && !p.cmd.some((a) => a.startsWith('--type=')));
  if (!root) return null;
  const desc = new Set([root.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) if (!desc.has(p.pid) && desc.has(p.ppid)) { desc.add(p.pid); grew = true; }
  }
  let best = null;
  for (const p of procs) {
    if (!desc.has(p.pid) || !p.cmd.includes('--type=renderer')) continue;
    const hwm = statusKb(p.pid, 'VmHWM');
    if (hwm != null && (best == null || hwm > best)) best = hwm;
  }
  return best == null ? null : best * 1024;
}

/**
 * spec: the page spec (see page.mjs) ; server: { origin } ; timeoutMs.
 */
export async function runInChromium(spec, server, { timeoutMs = 300000, verbose = false } = {}) {
  const chromium = await pw();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnas-bench-chromium-'));
  let context;
  const consoleLines = [];
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60000,
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.on('console', (m) => { consoleLines.push(`${m.type()}: ${m.text()}`); if (verbose) console.error(`  [page] ${m.text()}`); });
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(timeoutMs);
    await page.goto(`${server.origin}/repo/tools/bench/page.html`, { waitUntil: 'load' });
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
    let timer;
    const res = await Promise.race([
      page.evaluate((s) => window.runBench(s), spec),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs); }),
    ]).finally(() => clearTimeout(timer));
    res.peak_rss_bytes = rendererPeakRss(userDataDir);
    if (res.status !== 'ok' && consoleLines.length) res.console = consoleLines.slice(-5);
    return res;
  } catch (e) {
    return { engine: spec.engine, model: spec.model, status: 'error',
      reason: `chromium: ${String(e?.message ?? e).split('\n')[0]}`, console: consoleLines.slice(-5) };
  } finally {
    try { await context?.close(); } catch { /* ignore */ }
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}
