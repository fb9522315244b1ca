// Tiny static file server for the Chromium benchmarks. Loopback only.
//   /node_modules/<p>  -> <repo>/node_modules/<p>
//   /repo/<p>          -> <repo>/<p>
//   /testdata/<p>      -> MNAS_TESTDATA/<p>
//   /tmp/<p>           -> the harness's temporary directory
// Responses are never cached (each measurement must compile the wasm cold) and
// carry COOP/COEP so the page is cross-origin isolated (5 µs timer resolution
// instead of 100 µs).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.json': 'application/json', '.wasm': 'application/wasm', '.map': 'application/json',
};

export function startServer({ repoRoot, testdata, tmpDir }) {
  const roots = {
    node_modules: path.join(repoRoot, 'node_modules'),
    repo: repoRoot,
    testdata,
    tmp: tmpDir,
  };
  const log = [];
  const server = http.createServer((req, res) => {
    let status = 200;
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const parts = decodeURIComponent(url.pathname).split('/').filter(Boolean);
      const base = roots[parts[0]];
      const file = base ? path.resolve(base, ...parts.slice(1)) : null;
      if (!file || (file !== base && !file.startsWith(base + path.sep)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
        status = 404;
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
        return;
      }
      const st = fs.statSync(file);
      res.writeHead(200, {
        'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
        'Content-Length': st.size,
        'Cache-Control': 'no-store',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
      });
      if (req.method === 'HEAD') { res.end(); return; }
      fs.createReadStream(file).pipe(res);
    } catch (e) {
      status = 500;
      res.writeHead(500);
      res.end(String(e));
    } finally {
      log.push(`${status} ${req.url}`);
      if (log.length > 1000) log.shift();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        origin: `http://127.0.0.1:${port}`,
        log,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}
