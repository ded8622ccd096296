/**
 * @module server/static
 * Serves the static export (out/) through the common HTTP layer (server/common/http.ts: Host
 * check, same-origin only, bounded bodies, timeouts) with the app's security headers
 * (lib/security/csp.ts; issue 12 finding 4, docs/security-local-cloud.md):
 *
 * - every answer carries the Content-Security-Policy (HTML pages with the sha256 of their own
 *   inline scripts and styles; other files — the crypto worker scripts among them, whose policy
 *   comes from their own response — with the base policy), `X-Content-Type-Options: nosniff`,
 *   `Referrer-Policy: no-referrer`, `Cross-Origin-Opener-Policy: same-origin` and
 *   `frame-ancestors 'none'` / `X-Frame-Options: DENY`;
 * - `connect-src` is 'self' plus the cloud origins of the settings in `config.json` (manager and
 *   routers) plus `connectSrc` (the workers, other clouds); both may change after start;
 * - the CSP meta tag that `scripts/csp-meta.ts` writes into the HTML for header-less hosts is
 *   removed here (the header carries the complete policy; two policies would intersect);
 * - violation reports (`report-uri /csp-report`) are kept (`cspReports`) and logged with what
 *   to do, e.g. a blocked connection to a cloud the server was not told about.
 *
 * `/config.json` can be generated at run time so the app's default settings point at the local
 * Rory cloud's actual ports (deploy-time override).
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { DEFAULT_SETTINGS, validateSettings, type RawSettings, type Settings } from '../lib/config';
import { appSecurityHeaders, buildCsp, connectSources, CSP_REPORT_PATH, pageHashes, settingsOrigins, stripCspMeta, type CspInput } from '../lib/security/csp';
import { AccessPolicy, HttpError, baseUrl, empty, listen, route, type Reply, type RequestContext } from './common/http';

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

const MAX_REPORT_BYTES = 16 * 1024;
const MAX_KEPT_REPORTS = 200;

export interface StaticServerOptions {
  readonly root: string;
  readonly port?: number;
  readonly host?: string;
  /** When set, GET /config.json answers this object instead of the file in root. */
  readonly config?: () => unknown;
  /**
   * Origins the page may connect to besides 'self' and the manager/routers of the settings in
   * `config` (CSP connect-src): the workers, another cloud. Read on every request.
   */
  readonly connectSrc?: readonly string[] | (() => readonly string[]);
  /** Host names accepted besides 127.0.0.1, localhost, ::1 and `host`. */
  readonly allowedHosts?: readonly string[];
  /** Where CSP violation reports are logged (default: nowhere; they are kept in `cspReports`). */
  readonly log?: (line: string) => void;
}

/** One CSP violation report, as the browser sent it (report-uri format), reduced. */
export interface CspReport {
  readonly documentUri: string;
  readonly directive: string;
  readonly blockedUri: string;
  readonly sourceFile?: string;
  readonly lineNumber?: number;
}

export interface StaticServer {
  readonly url: string;
  readonly port: number;
  /** Violation reports received so far (at most the last 200). */
  readonly cspReports: CspReport[];
  /** The connect-src origins in force right now. */
  connectSrc(): string[];
  close(): Promise<void>;
}

/** The settings a `config.json` body yields (defaults < deployment), as lib/settings-store reads it. */
export function deploymentSettings(config: unknown): Settings {
  if (config === undefined || config === null) return DEFAULT_SETTINGS;
  const raw = (typeof config === 'object' && 'settings' in config ? (config as { settings: unknown }).settings : config) as RawSettings;
  const r = validateSettings(raw ?? {});
  return r.ok ? r.settings : DEFAULT_SETTINGS;
}

const sha256Base64 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

export async function startStaticServer(opts: StaticServerOptions): Promise<StaticServer> {
  const root = resolve(opts.root);
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const cspReports: CspReport[] = [];
  const pages = new Map<string, { key: string; html: string; hashes: ReturnType<typeof pageHashes> }>();
  let config: unknown;
  if (opts.config === undefined) {
    const file = await readFile(join(root, 'config.json'), 'utf8').catch(() => undefined);
    try {
      config = file === undefined ? undefined : JSON.parse(file);
    } catch {
      config = undefined;
    }
  }
  const currentConfig = () => (opts.config ? opts.config() : config);

  const connectSrc = () => {
    const extra = typeof opts.connectSrc === 'function' ? opts.connectSrc() : (opts.connectSrc ?? []);
    return connectSources([...settingsOrigins(deploymentSettings(currentConfig())), ...extra]);
  };
  const headersFor = (hashes: Omit<CspInput, 'connectSrc'> = {}) =>
    appSecurityHeaders(buildCsp({ connectSrc: connectSrc(), reportUri: CSP_REPORT_PATH, ...hashes }, 'header'));

  /** An HTML page without its meta CSP, with the hashes of its inline code (cached per file version). */
  const page = async (file: string) => {
    const s = await stat(file);
    const key = `${s.mtimeMs}:${s.size}`;
    const hit = pages.get(file);
    if (hit?.key === key) return hit;
    const html = stripCspMeta(await readFile(file, 'utf8'));
    const entry = { key, html, hashes: pageHashes(html, sha256Base64) };
    pages.set(file, entry);
    return entry;
  };

  const serve = async (ctx: RequestContext): Promise<Reply> => {
    if (ctx.path === '/config.json' && opts.config) {
      return { status: 200, headers: { ...headersFor(), 'Content-Type': MIME['.json'] }, body: JSON.stringify(opts.config()) };
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(ctx.path);
    } catch {
      throw new HttpError(400, 'malformed percent-encoding in the path');
    }
    const file = await resolveFile(root, pathname);
    if (!file || extname(file) === '.html') {
      const status = file ? 200 : 404;
      const p = await page(file ?? join(root, '404.html')).catch(() => null);
      if (!p) return { status, headers: { ...headersFor(), 'Content-Type': MIME['.txt'] }, body: 'Not found' };
      return { status, headers: { ...headersFor(p.hashes), 'Content-Type': MIME['.html'] }, body: p.html };
    }
    const type = ctx.path === '/clustering/test' ? MIME['.json'] : (MIME[extname(file)] ?? 'application/octet-stream');
    const handle = await open(file, 'r');
    return {
      status: 200,
      headers: { ...headersFor(), 'Content-Type': type },
      stream: { chunks: handle.createReadStream({ autoClose: false }), close: () => handle.close() },
    };
  };

  const report = async (ctx: RequestContext): Promise<Reply> => {
    let body: unknown;
    try {
      body = JSON.parse((await ctx.readBody()).toString('utf8'));
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, 'a CSP report must be JSON');
    }
    const r = (body as { 'csp-report'?: Record<string, unknown> })?.['csp-report'];
    if (!r || typeof r !== 'object') throw new HttpError(400, 'expected {"csp-report": {...}}');
    const str = (k: string) => (typeof r[k] === 'string' ? (r[k] as string).slice(0, 500) : '');
    const entry: CspReport = {
      documentUri: str('document-uri'),
      directive: str('effective-directive') || str('violated-directive'),
      blockedUri: str('blocked-uri'),
      ...(str('source-file') ? { sourceFile: str('source-file') } : {}),
      ...(typeof r['line-number'] === 'number' ? { lineNumber: r['line-number'] } : {}),
    };
    cspReports.push(entry);
    if (cspReports.length > MAX_KEPT_REPORTS) cspReports.shift();
    log(describeReport(entry, connectSrc()));
    return empty(204);
  };

  const server = await listen(
    [route(['GET'], '/*', serve), route('POST', CSP_REPORT_PATH, report, { maxBodyBytes: MAX_REPORT_BYTES })],
    opts.port ?? 0,
    host,
    {
      access: new AccessPolicy({ hosts: opts.allowedHosts }),
      allowSameOrigin: true,
      headers: { 'Cache-Control': 'no-cache' },
      errorBody: (_status, message) => message,
    },
  );
  return {
    url: baseUrl(host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, server.port),
    port: server.port,
    cspReports,
    connectSrc,
    close: () => server.close({ now: true }),
  };
}

/** A log line saying what was blocked and what to do about it. */
export function describeReport(r: CspReport, connectSrc: readonly string[]): string {
  if (r.directive === 'connect-src') {
    let origin = r.blockedUri;
    try {
      origin = new URL(r.blockedUri).origin;
    } catch {
      /* keep as sent */
    }
    return (
      `CSP blocked a connection from the app (${r.documentUri}) to ${origin}: the page may only connect to ` +
      `${['itself', ...connectSrc].join(', ')}. If ${origin} is a Rory cloud you use, restart with --connect-src ${origin}.`
    );
  }
  return `CSP blocked ${r.blockedUri || 'inline code'} (${r.directive}) on ${r.documentUri}${r.sourceFile ? ` from ${r.sourceFile}:${r.lineNumber ?? '?'}` : ''}.`;
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
