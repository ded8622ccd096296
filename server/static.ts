/**
 * @module server/static
 * Serves the static export (out/) on loopback. `/config.json` can be generated at run time so
 * the app's default settings point at the local Rory cloud's actual ports (deploy-time override).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

export interface StaticServerOptions {
  readonly root: string;
  readonly port?: number;
  readonly host?: string;
  /** When set, GET /config.json answers this object instead of the file in root. */
  readonly config?: () => unknown;
}

export interface StaticServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startStaticServer(opts: StaticServerOptions): Promise<StaticServer> {
  const root = resolve(opts.root);
  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const headers = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache', 'Referrer-Policy': 'no-referrer' };
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
        return;
      }
      if (url.pathname === '/config.json' && opts.config) {
        res.writeHead(200, { ...headers, 'Content-Type': MIME['.json'] }).end(JSON.stringify(opts.config()));
        return;
      }
      const file = await resolveFile(root, decodeURIComponent(url.pathname));
      if (!file) {
        const notFound = join(root, '404.html');
        res.writeHead(404, { ...headers, 'Content-Type': MIME['.html'] });
        createReadStream(notFound).on('error', () => res.end('Not found')).pipe(res);
        return;
      }
      const type = url.pathname === '/clustering/test' ? MIME['.json'] : (MIME[extname(file)] ?? 'application/octet-stream');
      res.writeHead(200, { ...headers, 'Content-Type': type });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(500).end('Internal error');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

async function resolveFile(root: string, pathname: string): Promise<string | null> {
  const rel = normalize(pathname).replace(/^([/\\])+/, '');
  const base = join(root, rel);
  if (base !== root && !base.startsWith(root + sep)) return null; // path traversal
  for (const candidate of [base, join(base, 'index.html'), `${base}.html`]) {
    try {
      const s = await stat(candidate);
      if (s.isFile()) return candidate;
    } catch {
      /* next candidate */
    }
  }
  return null;
}
