// Node built-ins for the Node builds (dist/mnasnet.node.js, dist/mnasnet.cjs):
// stands in for platform.js there (js/scripts/prepare-dist.mjs swaps it), so
// that Node 18 and 20 before 20.16, which lack process.getBuiltinModule,
// read files and decode PNGs too. Never part of the browser build.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The Node built-in module `name` ('node:fs', ...). */
export function builtin(name) {
  return require(name);
}

export const BUILTIN_HINT = '';
