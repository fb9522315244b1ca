// Before the SDK tests: put the default model next to the built .wasm files
// (js/dist/), as `npm pack` would. Without a wasm build the tests skip.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { JS } from './helpers.mjs';

export default function globalSetup() {
  if (!existsSync(resolve(JS, 'dist/mnasnet.wasm'))) return;
  execFileSync(process.execPath, [resolve(JS, 'scripts/prepare-dist.mjs')], { stdio: 'inherit' });
}
