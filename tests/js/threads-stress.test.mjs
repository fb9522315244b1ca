// Stress: 2,000 runs alternating two models, each loaded with 1-4 threads
// in turn and switched between thread counts, loaded and disposed every 50
// runs (80 loads), each run under a timeout. Every result must equal the
// single-thread build's bit for bit; per model the heap and wasm memory
// stay flat after its first runs; the worker count is exactly the models'
// threads while they live and 0 after dispose; and the process does not
// grow across cycles (instances and workers are really let go).
// MNAS_STRESS_RUNS changes the run count.
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { JS, TESTDATA, describeIf, missing, readNpy, wasmMissing } from './helpers.mjs';

const RUNS = Number(process.env.MNAS_STRESS_RUNS || 2000);
const PER_CYCLE = 50;
const RUN_TIMEOUT_MS = 30000; // a load of a 4-thread model on a busy 2-core machine takes ~1 s
const RSS_GROWTH_MAX = 200 * 2 ** 20; // two models' instances and workers are ~100 MB; a leak grows by that per cycle

const tinynet = resolve(TESTDATA, 'models/tinynet_e.onnx');
const skip = wasmMissing() || missing(resolve(JS, 'dist/mnasnet-threads.wasm'), tinynet);

describeIf(describe, skip, 'threads stress', () => {
  test(`${RUNS} runs over two models, 1-4 threads, loads and disposes in between`, async () => {
    const row = (x, r) => {
      const per = x.data.length / x.shape[0];
      return x.data.slice(r * per, (r + 1) * per);
    };
    const cifar = readNpy(resolve(TESTDATA, 'models/refs/mnasnet_a1_cifar10/input.npy'));
    const tiny = readNpy(resolve(TESTDATA, 'models/refs/tinynet_e/input.npy'));
    const models = [
      { name: 'shipped model', model: resolve(JS, 'dist/mnasnet_a1_cifar10.onnx'), inputs: [0, 1, 2].map((r) => row(cifar, r)) },
      { name: 'tinynet_e', model: tinynet, inputs: [0, 1].map((r) => row(tiny, r)) },
    ];
    const worker = new Worker(new URL('./workers/threads-stress.mjs', import.meta.url), {
      workerData: { models, runs: RUNS, perCycle: PER_CYCLE },
    });
    const out = await new Promise((done, fail) => {
      let last = 'start';
      let timer;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          worker.terminate();
          fail(new Error(`no progress for ${RUN_TIMEOUT_MS / 1000} s after ${last}: a run or load hangs`));
        }, RUN_TIMEOUT_MS);
      };
      arm();
      worker.on('message', (m) => {
        if (m.type === 'progress') {
          last = m.what;
          arm();
        } else if (m.type === 'done') {
          clearTimeout(timer);
          done(m);
        }
      });
      worker.on('error', (e) => {
        clearTimeout(timer);
        fail(e);
      });
    });
    await worker.terminate();
    console.log(
      `threads stress: ${out.runs} runs, ${out.loads} loads and disposes over ${out.cycles} cycles, ` +
        `${out.mismatches} results differing from one thread's, ${out.problems.length} problems; ` +
        `RSS ${(out.rssBase / 2 ** 20).toFixed(0)} MiB after 4 cycles, ${(out.rss / 2 ** 20).toFixed(0)} MiB at the end`,
    );
    expect(out.runs).toBe(RUNS);
    expect(out.mismatches).toBe(0);
    expect(out.problems).toEqual([]);
    expect(out.rss - out.rssBase).toBeLessThan(RSS_GROWTH_MAX);
  });
});
