// The body of tests/js/threads-stress.test.mjs, run in a worker thread so
// that the test can watch it with a timeout: a run that hangs inside wasm
// blocks this thread, never the watcher. Reports progress after every run.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { MnasNet } from '../../../js/src/index.js';
import { kInternals } from '../../../js/src/mnasnet.js';
import { workerStats } from '../../../js/src/threads.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const { models, runs: RUNS, perCycle } = workerData;
const post = (m) => parentPort.postMessage(m);
const bits = (f) => new Uint32Array(Float32Array.from(f).buffer);
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

// Logits and gates of each model's inputs on the single-thread build.
function results(net, input) {
  const r = net.run(input);
  return [bits(r.logits), ...r.excitations.map((e) => bits(e.values))];
}
const refs = [];
for (const m of models) {
  const net = await MnasNet.load(m.model, { threads: 1 });
  refs.push(m.inputs.map((x) => results(net, x)));
  net.dispose();
}

const counts = [1, 2, 3, 4];
let runs = 0, mismatches = 0, cycles = 0, loads = 0;
const problems = [];
let rssBase = 0, rss = 0;
while (runs < RUNS) {
  const threads = [counts[cycles % 4], counts[(cycles + 1) % 4]];
  const nets = [];
  for (let k = 0; k < 2; k++) {
    nets.push(await MnasNet.load(models[k].model, { threads: threads[k] }));
    loads++;
    post({ type: 'progress', runs, what: `load ${loads}` });
  }
  if (workerStats.live !== threads[0] - 1 + threads[1] - 1) {
    problems.push(`cycle ${cycles}: ${workerStats.live} workers for ${threads.join(' + ')} threads`);
  }
  const marks = [];
  for (let i = 0; i < perCycle && runs < RUNS; i++) {
    const k = i % 2;
    const net = nets[k];
    // every eighth run on a model switches its thread count
    if (i % 16 >= 14) net.setThreads(1 + ((i + cycles) % net.info.threads));
    const j = (i >> 1) % models[k].inputs.length;
    const got = results(net, models[k].inputs[j]);
    if (!got.every((b, g) => same(b, refs[k][j][g]))) mismatches++;
    if (i < 2) {
      const { exports, memory } = net[kInternals]();
      marks[k] = { heap: exports.mnas_heap_in_use(), bytes: memory.buffer.byteLength };
    }
    runs++;
    post({ type: 'progress', runs, what: `run ${runs} (${models[k].name}, ${net.threads} threads)` });
  }
  for (let k = 0; k < 2; k++) {
    const { exports, memory } = nets[k][kInternals]();
    if (marks[k] && (exports.mnas_heap_in_use() !== marks[k].heap || memory.buffer.byteLength !== marks[k].bytes)) {
      problems.push(`cycle ${cycles}, ${models[k].name}: heap ${marks[k].heap} -> ${exports.mnas_heap_in_use()}, ` +
        `memory ${marks[k].bytes} -> ${memory.buffer.byteLength}`);
    }
    nets[k].dispose();
  }
  if (workerStats.live !== 0) problems.push(`cycle ${cycles}: ${workerStats.live} workers outlive their models`);
  cycles++;
  gc();
  rss = process.memoryUsage().rss;
  if (cycles === 4) rssBase = rss;
}
post({ type: 'done', runs, loads, cycles, mismatches, problems, rssBase, rss });
