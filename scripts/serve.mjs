// A tiny static server for the page: correct MIME types (application/wasm), the page's Content-Security-Policy as
// a header, loopback only, and compression (br, else gzip) of text, JSON, wasm and model files for clients that
// accept it. Used by `./build.sh serve` and by the end-to-end tests (import { startServer }).
import http from 'node:http';
import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.webmanifest': 'application/manifest+json',
};

export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/** The extensions worth compressing: text, JSON, wasm and weights (images are compressed already). */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.svg', '.txt', '.safetensors', '.bin', '.idx', '.webmanifest']);

/** Compressed bodies by `encoding:file`, kept while the file's size and mtime are unchanged. */
const packed = new Map();

/** The encoding to use for this request and file: 'br', 'gzip' or null. */
export function pickEncoding(acceptEncoding, ext, size) {
  if (!COMPRESSIBLE.has(ext) || size < 256) return null;
  const accepted = String(acceptEncoding || '')
    .split(',')
    .map((s) => s.trim().split(';')[0].toLowerCase());
  if (accepted.includes('br')) return 'br';
  if (accepted.includes('gzip')) return 'gzip';
  return null;
}

function compressed(file, st, encoding) {
  const key = `${encoding}:${file}`;
  const hit = packed.get(key);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.body;
  const raw = fs.readFileSync(file);
  // Quality 5 (br) / level 6 (gzip): most of the gain at a fraction of the CPU of the maximum levels.
  const body =
    encoding === 'br'
      ? zlib.brotliCompressSync(raw, {
          params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
        })
      : zlib.gzipSync(raw, { level: 6 });
  packed.set(key, { size: st.size, mtimeMs: st.mtimeMs, body });
  return body;
}

/** Starts the server; resolves to { server, port, url }. Port 0 picks a free port. */
export function startServer({ root, port = 0, host = '127.0.0.1', quiet = true } = {}) {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = path.resolve(base, '.' + pathname);
    if (file !== base && !file.startsWith(base + path.sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
        if (!quiet) console.log(`404 ${pathname}`);
        return;
      }
      const ext = path.extname(file).toLowerCase();
      const encoding = pickEncoding(req.headers['accept-encoding'], ext, st.size);
      let body = null;
      if (encoding) {
        try {
          body = compressed(file, st, encoding);
        } catch {
          body = null;
        }
      }
      const headers = {
        'Content-Type': MIME[ext] || 'application/octet-stream',
        'Content-Length': body ? body.length : st.size,
        'Content-Security-Policy': CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-cache',
        Vary: 'Accept-Encoding',
      };
      if (body) headers['Content-Encoding'] = encoding;
      res.writeHead(200, headers);
      if (req.method === 'HEAD') return res.end();
      if (body) return res.end(body);
      fs.createReadStream(file).pipe(res);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const p = server.address().port;
      resolve({ server, port: p, url: `http://${host}:${p}/` });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const root = opt('--root', process.cwd());
  const port = Number(opt('--port', process.env.PORT || 8000));
  const { url } = await startServer({ root, port, quiet: false });
  console.log(`Adversarial Lab is served at ${url}  (Ctrl+C stops it)`);
}
