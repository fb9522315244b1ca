// Threads in the SDK (Node, worker_threads): the threaded builds give the
// same logits and SE gates bit for bit as the single-thread build, for 1, 2,
// 3 and 4 threads on every model in $MNAS_TESTDATA/models and on the shipped
// model; the build and thread count picked, with the reason when fewer
// threads than asked were used and a warning only when threads were asked
// for explicitly; setThreads between runs; no worker outlives its model.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { jest } from '@jest/globals';
import { MnasNet } from '../../js/src/index.js';
import { kInternals } from '../../js/src/mnasnet.js';
import { workerStats } from '../../js/src/threads.js';
import { BACKEND, JS, TESTDATA, VARIANTS, describeIf, missing, readNpy, wasmMissing } from './helpers.mjs';

const threadedMissing = () =>
  missing(resolve(JS, 'dist/mnasnet-threads.wasm'), resolve(JS, 'dist/mnasnet-threads-relaxed.wasm'));
const manifestPath = resolve(TESTDATA, 'models/refs/manifest.json');
const skip = wasmMissing() || threadedMissing() || missing(manifestPath);
const manifest = skip ? { models: {} } : JSON.parse(readFileSync(manifestPath, 'utf8'));

/** Logits then every gate of each input row, as one Uint32Array (bits, not values). */
function resultBits(net, input) {
  const [n, ...shape] = input.shape;
  const per = shape.reduce((a, b) => a * b, 1);
  const out = [];
  for (let r = 0; r < n; r++) {
    const res = net.run(input.data.subarray(r * per, (r + 1) * per));
    out.push(...new Uint32Array(res.logits.buffer));
    for (const e of res.excitations) out.push(...new Uint32Array(Float32Array.from(e.values).buffer));
  }
  return Uint32Array.from(out);
}

// by tag: the test sandbox's realm has its own ArrayBuffer constructors
const bufferKind = (net) => Object.prototype.toString.call(net[kInternals]().memory.buffer).slice(8, -1);

function firstDifference(a, b) {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `result ${i}`;
  return null;
}

describeIf(describe, skip, 'threads: bit-identical results', () => {
  const cases = Object.entries(manifest.models).map(([name, m]) => ({
    name,
    model: resolve(TESTDATA, 'models', m.onnx),
    input: resolve(TESTDATA, 'models', m.refs, 'input.npy'),
  }));
  cases.push({
    name: 'shipped model',
    model: resolve(JS, 'dist/mnasnet_a1_cifar10.onnx'),
    input: resolve(TESTDATA, 'models/refs/mnasnet_a1_cifar10/input.npy'),
  });
  // The threaded builds are the SIMD builds plus atomics: each is held to
  // its single-thread counterpart.
  const pairs = VARIANTS.filter((v) => v !== 'scalar');

  for (const c of cases) {
    for (const wasm of pairs) {
      test(`${c.name} (${wasm}): 1 thread (single-thread build) = threaded build at 1, 2, 3, 4 threads`, async () => {
        const input = readNpy(c.input);
        const single = await MnasNet.load(c.model, { wasm, threads: 1 });
        expect(single.info.threads).toBe(1);
        expect(single.info.threadsReason).toBe(null);
        const want = resultBits(single, input);
        single.dispose();
        for (const threads of [2, 3, 4]) {
          const net = await MnasNet.load(c.model, { wasm, threads });
          expect(net.info.threads).toBe(threads);
          expect(net.info.backend).toBe(BACKEND[wasm]);
          expect(workerStats.live).toBe(threads - 1);
          expect(firstDifference(resultBits(net, input), want)).toBe(null);
          // the same model switched between 1 and all of its threads
          for (const t of [1, threads, 2]) {
            net.setThreads(t);
            expect(net.threads).toBe(t);
            expect(firstDifference(resultBits(net, input), want)).toBe(null);
          }
          net.dispose();
          expect(workerStats.live).toBe(0);
        }
      });
    }
  }
});

describeIf(describe, wasmMissing() || threadedMissing(), 'threads: what the SDK picks', () => {
  const model = resolve(JS, 'dist/mnasnet_a1_cifar10.onnx');
  let warn;
  beforeEach(() => {
    warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  });
  afterEach(() => {
    warn.mockRestore();
    expect(workerStats.live).toBe(0);
  });

  test('automatic: the threaded build on min(4, processors) threads in Node', async () => {
    const { availableParallelism } = await import('node:os');
    const net = await MnasNet.load(model);
    const want = Math.min(4, availableParallelism());
    expect(net.info.threads).toBe(want);
    expect(net.threads).toBe(want);
    expect(net.info.threadsReason).toBe(want === 1 ? 'automatic: one processor' : null);
    expect(bufferKind(net)).toBe('SharedArrayBuffer');
    net.dispose();
    expect(warn).not.toHaveBeenCalled();
  });

  test('a script run with `node --input-type=module -e` gets its threads too', async () => {
    const { execFileSync } = await import('node:child_process');
    const { pathToFileURL } = await import('node:url');
    const script = `const { MnasNet } = await import(${JSON.stringify(pathToFileURL(resolve(JS, 'src/index.js')).href)});
      const net = await MnasNet.load(undefined, { threads: 2 });
      const r = net.classify({ data: new Uint8Array(32 * 32 * 4).fill(90), width: 32, height: 32 });
      console.log(JSON.stringify({ threads: net.info.threads, label: typeof r.top[0].label }));
      net.dispose();`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ threads: 2, label: 'string' });
  });

  test('threads: 1 runs the single-thread build', async () => {
    const net = await MnasNet.load(model, { threads: 1 });
    expect(net.info.threads).toBe(1);
    expect(bufferKind(net)).toBe('ArrayBuffer');
    expect(() => net.setThreads(2)).toThrow(/1\.\.1/);
    net.setThreads(1);
    net.dispose();
    expect(warn).not.toHaveBeenCalled();
  });

  test('the scalar build has no threads: a reason, and a warning only when threads were asked for', async () => {
    const auto = await MnasNet.load(model, { wasm: 'scalar' });
    expect(auto.info.threads).toBe(1);
    auto.dispose();
    const asked = await MnasNet.load(model, { wasm: 'scalar', threads: 2 });
    expect(asked.info.threads).toBe(1);
    expect(asked.info.threadsReason).toMatch(/scalar build has no threads/);
    asked.dispose();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/2 threads asked for, running on 1: the scalar build has no threads/);
  });

  test('a module of the caller\'s own: threaded when it is a threaded build', async () => {
    const threaded = await MnasNet.load(model, { wasm: resolve(JS, 'dist/mnasnet-threads.wasm'), threads: 3 });
    expect(threaded.info.threads).toBe(3);
    threaded.dispose();
    const single = await MnasNet.load(model, { wasm: resolve(JS, 'dist/mnasnet.wasm'), threads: 3 });
    expect(single.info.threads).toBe(1);
    expect(single.info.threadsReason).toMatch(/single-thread build/);
    single.dispose();
    expect(warn).toHaveBeenCalledTimes(1);
  });

  test('bad thread counts are refused before anything loads', async () => {
    for (const threads of [-1, 1.5, 65, '2', true]) {
      await expect(MnasNet.load(model, { threads })).rejects.toMatchObject({ code: 'E_ARGUMENT' });
    }
    const net = await MnasNet.load(model, { threads: 2 });
    for (const n of [0, 3, 1.5]) expect(() => net.setThreads(n)).toThrow(/setThreads: expected an integer 1\.\.2/);
    net.dispose();
    expect(() => net.threads).toThrow(/disposed/);
    expect(() => net.setThreads(1)).toThrow(/disposed/);
    net.dispose(); // idempotent
  });

  test('a load that fails ends the workers it started, wherever it fails', async () => {
    const settle = () => new Promise((r) => setTimeout(r, 100));
    // the model cannot be read: the workers are still booting
    await expect(MnasNet.load('/nonexistent/model.onnx', { threads: 3 })).rejects.toMatchObject({ code: 'E_IO' });
    await settle();
    expect(workerStats.live).toBe(0);
    // the engine rejects the bytes: the workers are instantiating the module
    await expect(MnasNet.load(new Uint8Array([8, 1, 18, 0]), { threads: 3 })).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
    await settle();
    expect(workerStats.live).toBe(0);
    // and a good model still loads on its threads afterwards
    const net = await MnasNet.load(model, { threads: 3 });
    expect(net.info.threads).toBe(3);
    net.dispose();
  });

  test('dispose right after load, before any run: every worker leaves and ends', async () => {
    for (let i = 0; i < 10; i++) {
      const net = await MnasNet.load(model, { threads: 4 });
      expect(workerStats.live).toBe(3);
      net.dispose();
      expect(workerStats.live).toBe(0);
    }
  });

  test('dispose returns every byte a threaded model took, the workers\' stacks included', async () => {
    const net = await MnasNet.load(model, { threads: 2 });
    const { exports, baseline } = net[kInternals]();
    net.classify({ data: new Uint8Array(640 * 480 * 4), width: 640, height: 480 });
    net.dispose();
    expect(exports.mnas_heap_in_use()).toBe(baseline);
  });
});
