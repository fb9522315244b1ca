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

/**
 * An optional peer dependency (jpeg-js), resolved from where the SDK is
 * installed, or null when it is not installed. Synchronous, so that
 * classify(jpegBytes) stays synchronous in Node.
 */
export function optionalPackage(name) {
  try {
    return require(name);
  } catch (e) {
    // only the package itself missing; a broken install of it still throws
    if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`'${name}'`)) return null;
    throw e;
  }
}
