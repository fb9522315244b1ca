// Adapter for our native CLI:  <bin> bench MODEL --runs N --warmup W --json
// It must print a JSON object with at least {min_ms, median_ms, load_ms}. The
// parser is tolerant: it takes the last JSON object in stdout and accepts a few
// spellings of each field. Optional fields used when present:
//   times_ms | runs_ms | times   (array of per-run latencies, pooled across rounds)
//   first_ms | first_inference_ms | first_run_ms
//   cold_start_ms                (otherwise load_ms is used)
//   peak_rss_kb | max_rss_kb | peak_rss_bytes | max_rss_bytes
//   max_rel_diff                 (if the CLI checks itself)
// Peak RSS otherwise comes from /usr/bin/time -f %M, else from /proc polling.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { MNAS_NATIVE_BIN, REPO_ROOT } from './config.mjs';
import { parseNpy } from './npy.mjs';

export function nativeBinPath() { return path.resolve(REPO_ROOT, MNAS_NATIVE_BIN); }

export function nativeUnavailableReason() {
  const bin = nativeBinPath();
  if (!fs.existsSync(bin)) return `${MNAS_NATIVE_BIN} not built (set MNAS_BIN to override)`;
  try { fs.accessSync(bin, fs.constants.X_OK); } catch { return `${MNAS_NATIVE_BIN} is not executable`; }
  return null;
}

function pick(obj, keys) {
  for (const k of keys) {
    const v = k.split('.').reduce((o, p) => (o == null ? undefined : o[p]), obj);
    if (v != null && v !== '') return v;
  }
  return undefined;
}
const num = (v) => (v == null || Number.isNaN(Number(v)) ? null : Number(v));

export function parseCliJson(stdout) {
  // Last balanced {...} block that parses.
  const ends = [];
  for (let i = stdout.length - 1; i >= 0; i--) if (stdout[i] === '}') ends.push(i);
  for (const end of ends) {
    let depth = 0;
    for (let i = end; i >= 0; i--) {
      if (stdout[i] === '}') depth++;
      else if (stdout[i] === '{' && --depth === 0) {
        try { return JSON.parse(stdout.slice(i, end + 1)); } catch { break; }
      }
    }
  }
  return null;
}

function vmHwmKb(pid) {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}

function writeNpyF32(file, data, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1; h[7] = 0;
  h.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function run(cmd, argv, timeoutMs) {
  return new Promise((resolve) => {
    let out = '', err = '';
    const p = spawn(cmd, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', (e) => { err += String(e); });
    p.on('close', (code, sig) => { clearTimeout(timer); resolve({ code: sig ? `signal ${sig}` : code, out, err }); });
  });
}

/**
 * Correctness gate for the CLI, like the JS engines' first-inference check:
 * `<bin> run MODEL in.npy --save-logits out.npy` on the benchmark input.
 * Returns { checked: true, max_rel_diff } or { checked: false, why }.
 */
export async function checkNative(spec, tmpDir, maxRelDiff) {
  const inPath = path.join(tmpDir, `${spec.model}.native-in.npy`);
  const outPath = path.join(tmpDir, `${spec.model}.native-out.npy`);
  writeNpyF32(inPath, spec.input, spec.inputShape);
  const r = await run(nativeBinPath(), ['run', spec.modelPath, inPath, '--threads', String(spec.threads ?? 1), '--save-logits', outPath], 120000);
  if (r.code !== 0 || !fs.existsSync(outPath)) {
    return { checked: false, why: `\`${MNAS_NATIVE_BIN} run ... --save-logits\` failed (${r.code}): ${r.err.trim().split('\n').slice(-1)[0] ?? ''}` };
  }
  const y = parseNpy(fs.readFileSync(outPath));
  return { checked: true, max_rel_diff: maxRelDiff(Float32Array.from(y.data, Number), spec.reference) };
}

export async function runNative(spec, { timeoutMs = 600000 } = {}) {
  const res = { engine: spec.engine, model: spec.model, status: 'ok' };
  const bin = nativeBinPath();
  const args = ['bench', spec.modelPath, '--runs', String(spec.runs), '--warmup', String(spec.warmup),
    '--threads', String(spec.threads ?? 1), '--json'];
  const useTime = fs.existsSync('/usr/bin/time');
  const cmd = useTime ? '/usr/bin/time' : bin;
  const argv = useTime ? ['-f', '@@MAXRSS_KB@@ %M', bin, ...args] : args;
  const t0 = performance.now();
  let stdout = '', stderr = '', polledKb = null;
  const code = await new Promise((resolve) => {
    const p = spawn(cmd, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const poll = setInterval(() => {
      // Without /usr/bin/time, sample the child's high-water mark.
      if (!useTime) { const k = vmHwmKb(p.pid); if (k != null) polledKb = Math.max(polledKb ?? 0, k); }
    }, 20);
    const timer = setTimeout(() => { p.kill('SIGKILL'); }, timeoutMs);
    p.on('error', (e) => { stderr += String(e); });
    p.on('close', (c, sig) => { clearInterval(poll); clearTimeout(timer); resolve(sig ? `signal ${sig}` : c); });
  });
  res.wall_ms = performance.now() - t0;
  const m = /@@MAXRSS_KB@@ (\d+)/.exec(stderr);
  if (code !== 0) {
    res.status = 'error';
    res.reason = `${MNAS_NATIVE_BIN} exited with ${code}: ${stderr.replace(/@@MAXRSS_KB@@ \d+/, '').trim().split('\n').slice(-3).join(' | ')}`;
    return res;
  }
  const j = parseCliJson(stdout);
  if (!j) { res.status = 'error'; res.reason = `no JSON object in ${MNAS_NATIVE_BIN} output: ${stdout.slice(0, 200)}`; return res; }
  res.cli_json = j;
  const times = pick(j, ['times_ms', 'runs_ms', 'times', 'latencies_ms']);
  if (Array.isArray(times) && times.length) res.times_ms = times.map(Number);
  res.min_ms = num(pick(j, ['min_ms', 'min', 'latency.min_ms', 'stats.min_ms']));
  res.median_ms = num(pick(j, ['median_ms', 'median', 'p50_ms', 'latency.median_ms', 'stats.median_ms']));
  res.load_ms = num(pick(j, ['load_ms', 'load', 'model_load_ms']));
  res.cold_start_ms = num(pick(j, ['cold_start_ms', 'cold_ms'])) ?? res.load_ms;
  res.first_inference_ms = num(pick(j, ['first_ms', 'first_inference_ms', 'first_run_ms']));
  res.max_rel_diff = num(pick(j, ['max_rel_diff']));
  const rssKb = num(pick(j, ['peak_rss_kb', 'max_rss_kb']));
  const rssB = num(pick(j, ['peak_rss_bytes', 'max_rss_bytes']));
  res.peak_rss_bytes = rssB ?? (rssKb != null ? rssKb * 1024 : null) ?? (m ? Number(m[1]) * 1024 : null) ?? (polledKb != null ? polledKb * 1024 : null);
  res.version = pick(j, ['version', 'mnas_version']) ?? null;
  if (!res.times_ms && (res.min_ms == null || res.median_ms == null)) {
    res.status = 'error';
    res.reason = `${MNAS_NATIVE_BIN} JSON lacks min_ms/median_ms (keys: ${Object.keys(j).join(', ')})`;
  }
  return res;
}

/** Optional: our per-layer times (`<bin> bench MODEL --per-layer --json`), tolerant parse. */
export async function runNativePerLayer(modelPath, { runs = 10, warmup = 2, threads = 1 } = {}) {
  if (nativeUnavailableReason()) return { status: 'unavailable', reason: nativeUnavailableReason() };
  const out = await new Promise((resolve) => {
    let s = '', e = '';
    const p = spawn(nativeBinPath(), ['bench', modelPath, '--per-layer', '--json', '--runs', String(runs), '--warmup', String(warmup), '--threads', String(threads)],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => { s += d; });
    p.stderr.on('data', (d) => { e += d; });
    p.on('error', (err) => resolve({ code: -1, s, e: String(err) }));
    p.on('close', (code) => resolve({ code, s, e }));
  });
  if (out.code !== 0) return { status: 'error', reason: `exit ${out.code}: ${out.e.trim().split('\n').slice(-2).join(' | ')}` };
  const j = parseCliJson(out.s);
  const arr = j && (pick(j, ['layers', 'per_layer', 'nodes', 'ops']) ?? (Array.isArray(j) ? j : null));
  if (!Array.isArray(arr)) return { status: 'error', reason: 'no layers/per_layer array in JSON' };
  const layers = arr.map((l, i) => ({
    name: String(pick(l, ['name', 'node', 'onnx_name', 'id']) ?? i),
    op: String(pick(l, ['op', 'op_type', 'type', 'kind']) ?? ''),
    us: num(pick(l, ['us', 'median_us', 'time_us', 'mean_us'])) ?? ((num(pick(l, ['ms', 'median_ms', 'time_ms', 'mean_ms'])) ?? NaN) * 1000),
    shape: pick(l, ['out_shape', 'output_shape', 'shape']) ?? null,
  }));
  return { status: 'ok', layers };
}
