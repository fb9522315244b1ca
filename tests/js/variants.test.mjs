// Which .wasm the SDK picks without options, in a fresh Node that has not
// been given the V8 flag the other test files set: Node 20 has SIMD but not
// relaxed SIMD, so 'auto' must pick mnasnet.wasm and an explicit 'relaxed'
// must fail with a plain error naming the build to use instead.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JS, wasmMissing } from './helpers.mjs';

const script = `
const { MnasNet } = await import(${JSON.stringify(pathToFileURL(resolve(JS, 'dist/mnasnet.js')).href)});
const { RELAXED_PROBE } = await import(${JSON.stringify(pathToFileURL(resolve(JS, 'src/loader.js')).href)});
const out = { relaxed: WebAssembly.validate(RELAXED_PROBE) };
const net = await MnasNet.load();
out.backend = net.info.backend;
net.dispose();
try { await MnasNet.load(undefined, { wasm: 'relaxed' }); out.explicit = 'loaded'; }
catch (e) { out.explicit = e.code + ': ' + e.message; }
console.log(JSON.stringify(out));
`;

(wasmMissing() ? test.skip : test)("a runtime's default build, and 'relaxed' where it is missing", () => {
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  if (out.relaxed) {
    expect(out.backend).toBe('wasm-relaxed-simd');
    expect(out.explicit).toBe('loaded');
  } else {
    expect(out.backend).toBe('wasm-simd128');
    expect(out.explicit).toBe('E_ARGUMENT: this runtime has no WebAssembly relaxed SIMD; use wasm: "simd"');
  }
});
