// Load errors that say what to do: a file that is not a model (text, an
// image, a Git LFS pointer) or is cut short is named as such before the C
// reader sees it, a misspelt build lists the valid ones, a value of the wrong
// type is named with its type; and none of these checks refuses a real model.
// Also options.baseUrl: the builds and the default model from another folder,
// the build still picked automatically.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MnasNet, MnasNetError } from '../../js/src/index.js';
import { bestVariant } from '../../js/src/loader.js';
import { modelProblem, walkModel } from '../../js/src/sniff.js';
import { BACKEND, JS, ROOT, TESTDATA, describeIf, encodePng, wasmMissing } from './helpers.mjs';

const modelPath = resolve(JS, 'dist/mnasnet_a1_cifar10.onnx');

async function loadError(model, options) {
  try {
    const net = await MnasNet.load(model, options);
    net.dispose();
  } catch (e) {
    expect(e).toBeInstanceOf(MnasNetError);
    return `${e.code} ${e.message}`;
  }
  throw new Error('load() did not reject');
}

describeIf(describe, wasmMissing(), 'load errors', () => {
  let bytes;
  beforeAll(() => {
    bytes = new Uint8Array(readFileSync(modelPath));
  });

  test('a README, a PNG, a Git LFS pointer, a PyTorch checkpoint given as the model', async () => {
    const readme = resolve(ROOT, 'README.md');
    expect(await loadError(readme)).toBe(`E_MODEL_FORMAT ${readme}: not an ONNX model: this is text ("# mnasnet-wasm")`);
    expect(await loadError(encodePng(2, 2, 2, 8, new Array(12).fill(7)))).toBe('E_MODEL_FORMAT model: not an ONNX model: this is a PNG image');
    const lfs = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 5249856\n';
    expect(await loadError(new TextEncoder().encode(lfs))).toBe(
      'E_MODEL_FORMAT model: not an ONNX model: this is a Git LFS pointer file; fetch the real file (git lfs pull)',
    );
    expect(await loadError(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0]))).toBe(
      'E_MODEL_FORMAT model: not an ONNX model: this is a ZIP archive (a PyTorch .pt/.pth checkpoint is one: export the model to ONNX)',
    );
  });

  test('a truncated model: N of at least M bytes, M its graph field promises', async () => {
    for (const n of [bytes.length >> 1, 100, bytes.length - 1]) {
      const msg = await loadError(bytes.slice(0, n));
      const m = /^E_MODEL_FORMAT model: truncated ONNX file: (\d+) of at least (\d+) bytes \(field (\d+) \((\w+)\) at byte \d+ needs \d+ bytes, \d+ are left\); download or copy it again$/.exec(msg);
      expect([n, m && m.slice(1)]).toEqual([n, [String(n), expect.any(String), expect.any(String), expect.any(String)]]);
      expect(Number(m[2])).toBeGreaterThan(n);
      expect(Number(m[2])).toBeLessThanOrEqual(bytes.length);
    }
    // cut inside the graph, the message names it and the size it needs
    expect(await loadError(bytes.slice(0, 1000))).toMatch(/field 7 \(graph\) at byte \d+ needs/);
  });

  test('random bytes: not an ONNX model, with the byte at fault', async () => {
    let s = 1;
    const random = Uint8Array.from({ length: 4096 }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 255);
    expect(await loadError(random)).toMatch(/^E_MODEL_FORMAT model: not an ONNX model \(byte \d+: .+\)$/);
  });

  test('every reference model passes the outer check (no false alarm) and is a whole file', () => {
    const dir = resolve(TESTDATA, 'models');
    const files = [modelPath, ...(existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.onnx')).map((f) => join(dir, f)) : [])];
    if (files.length === 1) console.warn(`SKIP the reference models: ${dir} not found`);
    for (const f of files) {
      const b = readFileSync(f);
      expect([f, walkModel(b), modelProblem(b)]).toEqual([f, null, null]);
    }
  });

  test('options: a misspelt build lists the valid ones; wrong types are named', async () => {
    const builds = "'auto', 'relaxed', 'simd' or 'scalar'";
    expect(await loadError(bytes, { wasm: 'fast' })).toBe(`E_ARGUMENT options.wasm: 'fast' is not a build; expected ${builds}, or the URL of a .wasm file`);
    expect(await loadError(bytes, { wasm: 'SIMD' })).toMatch(/^E_ARGUMENT options.wasm: 'SIMD' is not a build;/);
    expect(await loadError(bytes, { wasm: 42 })).toBe(`E_ARGUMENT options.wasm: expected ${builds} or the URL of a .wasm file, got number 42`);
    expect(await loadError(bytes, { sourceSize: '32' })).toBe("E_ARGUMENT options.sourceSize: expected an integer >= 0, got the string '32'");
    expect(await loadError(bytes, { mean: 'imagenet', std: [1, 1, 1] })).toBe(
      "E_ARGUMENT options.mean: expected 3 finite numbers, got the string 'imagenet'",
    );
    expect(await loadError(bytes, { baseUrl: 7 })).toBe(
      'E_ARGUMENT options.baseUrl: expected the URL (in Node also the path) of the folder that holds the .wasm files, got number 7',
    );
    expect(await loadError(42)).toBe('E_ARGUMENT model: expected a URL, a path or ONNX bytes, got number 42');
    expect(await loadError(bytes, 'fast')).toBe("E_ARGUMENT options: expected an object, got the string 'fast'");
  });

  test('options.baseUrl: the builds and the default model come from that folder, the build still picked at run time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnasnet-base-'));
    try {
      // every build name holds the scalar build: a load that reports 'scalar'
      // with the automatic choice read its .wasm from here
      for (const f of ['mnasnet.wasm', 'mnasnet-relaxed.wasm', 'mnasnet-scalar.wasm']) copyFileSync(resolve(JS, 'dist/mnasnet-scalar.wasm'), join(dir, f));
      copyFileSync(modelPath, join(dir, 'mnasnet_a1_cifar10.onnx'));
      for (const baseUrl of [dir, `${dir}/`, pathToFileURL(dir), pathToFileURL(dir).href]) {
        const net = await MnasNet.load(undefined, { baseUrl, threads: 1 });
        expect(net.info.backend).toBe('scalar');
        expect(net.info.labels).toHaveLength(10);
        net.dispose();
      }
      // the threaded builds are looked up there too
      expect(await loadError(undefined, { baseUrl: dir, threads: 2 })).toMatch(/^E_IO wasm: cannot read .*mnasnet-threads[-a-z]*\.wasm: ENOENT/);
      for (const f of ['mnasnet-threads.wasm', 'mnasnet-threads-relaxed.wasm']) copyFileSync(resolve(JS, 'dist', f), join(dir, f));
      const threaded = await MnasNet.load(undefined, { baseUrl: dir, threads: 2 });
      expect(threaded.info.threads).toBe(2);
      threaded.dispose();
      // without baseUrl: the package's own builds, the fastest this Node runs
      const own = await MnasNet.load();
      expect(own.info.backend).toBe(BACKEND[bestVariant()]);
      own.dispose();
      expect(await loadError(undefined, { baseUrl: join(dir, 'nowhere') })).toMatch(/^E_IO wasm: cannot read .*nowhere\/mnasnet[-a-z]*\.wasm: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
