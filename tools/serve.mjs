#!/usr/bin/env node
// Tiny static server for the mnasnet-wasm web demo. Loopback only.
//   /            -> web/index.html      /<p>        -> web/<p>
//   /js/<p>      -> js/<p>   (the npm package: src/, dist/*.wasm, package.json)
//   /models/<p>  -> models/<p>
// The package and models keep their repository layout relative to each other,
// so paths the SDK computes from import.meta.url resolve as they do on disk.
//   node tools/serve.mjs [--port N] [--host H]     (env PORT; default 8080)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** Maps a URL path to a file inside one of the served roots, or null. */
function resolveFile(roots, urlPath) {
  let rel;
  try { rel = decodeURIComponent(urlPath); } catch { return null; }
  if (rel.includes('\0')) return null;
  const parts = rel.split('/').filter(Boolean);
  let base = roots.web, rest = parts;
  if (parts[0] === 'js' || parts[0] === 'models') { base = roots[parts[0]]; rest = parts.slice(1); }
  let file = path.resolve(base, ...rest);
  if (file !== base && !file.startsWith(base + path.sep)) return null;
  try {
    if (fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    return fs.statSync(file).isFile() ? file : null;
  } catch { return null; }
}

export function createServer({ root = REPO_ROOT, log = null } = {}) {
  const roots = { web: path.join(root, 'web'), js: path.join(root, 'js'), models: path.join(root, 'models') };
  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const headers = {
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      // Cross-origin isolation: everything the demo loads is same-origin.
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
    };
    const done = (status, body, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...headers, 'Content-Type': type });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (log) log(req.method, url.pathname, status);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return done(405, 'method not allowed\n');
    const file = resolveFile(roots, url.pathname);
    if (!file) return done(404, `not found: ${url.pathname}\n`);
    const st = fs.statSync(file);
    const type = TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ...headers, ETag: etag });
      res.end();
      if (log) log(req.method, url.pathname, 304);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': st.size, ETag: etag });
    if (req.method === 'HEAD') { res.end(); return; }
    fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
    if (log) log(req.method, url.pathname, 200);
  });
}

/** Starts the server; resolves to { server, port, url }. Port 0 picks a free one. */
export function serve({ port = 8080, host = '127.0.0.1', root, log } = {}) {
  const server = createServer({ root, log });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const p = server.address().port;
      resolve({ server, port: p, url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${p}/` });
    });
  });
}

function isMain() {
  try { return fs.realpathSync(process.argv[1] || '') === fileURLToPath(import.meta.url); } catch { return false; }
}

if (isMain()) {
  const argv = process.argv.slice(2);
  let port = Number(process.env.PORT || 8080), host = '127.0.0.1', quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    if (a === '--port' || a.startsWith('--port=')) port = Number(val());
    else if (a === '--host' || a.startsWith('--host=')) host = val();
    else if (a === '--quiet') quiet = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node tools/serve.mjs [--port N] [--host 127.0.0.1|localhost] [--quiet]   (env PORT)');
      process.exit(0);
    } else { console.error(`serve: unknown argument ${a}`); process.exit(2); }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) { console.error(`serve: bad port ${port}`); process.exit(2); }
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) { console.error('serve: only loopback hosts are allowed'); process.exit(2); }
  const log = quiet ? null : (m, p, s) => { if (s >= 400) console.log(`${s} ${m} ${p}`); };
  serve({ port, host, log }).then(({ port: p }) => {
    console.log(`mnasnet-wasm demo: http://localhost:${p}/`);
    if (!fs.existsSync(path.join(REPO_ROOT, 'js', 'dist'))) console.log('note: js/dist/ is missing — run `make wasm` first');
  }, (e) => { console.error(`serve: ${e.message}`); process.exit(1); });
}
