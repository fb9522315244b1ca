// Node built-ins (fs, url, zlib) for the SDK, without an `import` a browser
// or a bundler would have to resolve. This is the version of src/ and of
// the default build (dist/mnasnet.js, what browsers and bundlers get): it
// asks process.getBuiltinModule (Node 20.16+, 22.3+) and finds nothing in a
// browser. The Node builds (dist/mnasnet.node.js, dist/mnasnet.cjs) put
// platform-node.js in its place, which works on every Node the package supports.

/** The Node built-in module `name` ('node:fs', ...), or null where there is none. */
export function builtin(name) {
  const get = typeof process === 'object' && process !== null ? process.getBuiltinModule : undefined;
  return typeof get === 'function' ? get(name) : null;
}

/** What to do when builtin() found nothing in a Node that needs it. */
export const BUILTIN_HINT =
  "this Node has no process.getBuiltinModule (added in 20.16 and 22.3): import 'mnasnet-wasm' by its package name so that Node picks the package's Node build";

/**
 * An optional peer dependency (jpeg-js) in Node, resolved from where the SDK
 * is, or null when it is not installed or there is no Node require (browsers).
 */
export function optionalPackage(name) {
  const mod = builtin('node:module');
  if (!mod) return null;
  const req = mod.createRequire(import.meta.url);
  try {
    return req(name);
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`'${name}'`)) return null;
    throw e;
  }
}
