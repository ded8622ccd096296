/**
 * @module deploy/nginx/render
 * Renders the nginx configuration of a deployment (issue 16; deploy/README.md) from the
 * committed templates in deploy/nginx/, the built pages of out/ and the deployment's variables.
 * Pure: files in, files out; scripts/nginx-render.ts does the I/O. Reuses lib/security/csp.ts
 * for the policy and its companion headers (exactly what server/static.ts sends), lib/config.ts
 * for validating the settings written into config.json, and lib/storage/routers.ts (the one
 * parser of MICTLANX_ROUTERS) for the routers.
 *
 * Path prefixes on the app's origin:
 * - `/rory/manager/clustering/{secure,test}` → `http://RORY_MANAGER_IP_ADDR:RORY_MANAGER_PORT/clustering/…`
 * - `/rory/workers/<worker id>/<port>/<route>` → `http://<host>:<port>/<route>`, where host is the
 *   worker id itself (a name on the deployment network, e.g. upstream's `rory-worker-0`) or
 *   RORY_WORKER_HOST for every worker (like upstream's TESTING mode); only ids and ports matching
 *   RORY_WORKER_ID_PATTERN / RORY_WORKER_PORT_PATTERN are proxied.
 * - `/mictlanx/<router id>/api/v4/…` → `MICTLANX_PROTOCOL://host:port/api/v4/…` of that router.
 * The generated config.json points the app at these prefixes (RORY_MANAGER_URL,
 * RORY_WORKER_URL_TEMPLATE, MICTLANX_ROUTER_URLS), so its CSP needs only connect-src 'self'.
 */
import { SETTING_KEYS, validateSettings, type RawSettings, type SettingKey, type Settings } from '../../lib/config';
import { API_RESPONSE_CSP, appSecurityHeaders, buildCsp, CSP_REPORT_PATH, pageHashes } from '../../lib/security/csp';
import { parseRouterList, type MictlanxRouter } from '../../lib/storage/routers';

/** The path prefixes the proxy serves the cloud under (and config.json points the app at). */
export const PREFIX = {
  manager: '/rory/manager',
  workers: '/rory/workers',
  routers: '/mictlanx',
} as const;

export const WORKER_URL_TEMPLATE = `${PREFIX.workers}/{worker_id}/{worker_port}`;

/** Defaults: upstream's compose names and ports (spec/protocol.md §2, §10; spec/mictlanx.md §1). */
export const RENDER_DEFAULTS = {
  RORY_MANAGER_IP_ADDR: 'rory-manager-0',
  RORY_MANAGER_PORT: '6000',
  MICTLANX_ROUTERS: 'mictlanx-router-0:mictlanx-router-0:60666',
  MICTLANX_PROTOCOL: 'http',
  RORY_WORKER_ID_PATTERN: 'rory-worker-[0-9]+',
  RORY_WORKER_PORT_PATTERN: '[0-9]{1,5}',
  NGINX_LISTEN: '8080',
  NGINX_SERVER_NAMES: 'localhost 127.0.0.1',
  NGINX_MAX_UPLOAD: '1g',
} as const;

/** Variables of the deployment (environment), upstream names where they exist (D6). */
export type RenderEnv = Readonly<Record<string, string | undefined>>;

export interface RenderOptions {
  /** The static export to serve (absolute). */
  readonly root: string;
  /** Where the rendered files live (absolute): nginx.conf, includes, config.json. */
  readonly confDir: string;
  /** Writable directory for the pid, temp files and the CSP report socket (absolute). */
  readonly runDir: string;
  readonly errorLog: string;
  readonly accessLog: string;
  /** Where CSP violation reports are logged, one JSON line each. */
  readonly cspLog: string;
  /** `user` directive (only meaningful when nginx starts as root); omitted when undefined. */
  readonly user?: string;
  readonly workerProcesses?: number | 'auto';
  /** Path of ngx_http_brotli_filter_module.so when it is installed; brotli is off without it. */
  readonly brotliModule?: string;
  /** Name servers of the deployment network (resolv.conf); needed when an upstream is a name. */
  readonly nameservers?: readonly string[];
}

/** An HTML page of the static export: its path under the root (`/jobs/index.html`) and its text. */
export interface Page {
  readonly path: string;
  readonly html: string;
}

export interface Templates {
  readonly 'nginx.conf.template': string;
  readonly 'locations.conf': string;
  readonly 'mime.conf': string;
  readonly 'proxy-common.conf': string;
}

/** The rendered files, by name (all go into `confDir`). */
export type RenderedFiles = Record<string, string>;

export class RenderError extends Error {
  override readonly name = 'RenderError';
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const SIZE = /^[1-9][0-9]{0,5}[kmg]?$/i;
const NGINX_UNSAFE = /["'\\$;{}\s]/;

/** A regular expression the operator gave, checked to be safe inside a quoted nginx map key. */
function pattern(name: string, value: string): string {
  if (value.length === 0 || value.length > 200 || /["'\\$^\s;()]/.test(value.replace(/\\[.\-dw]/g, ''))) {
    throw new RenderError(`${name} must be a simple regular expression (classes, quantifiers, |) without quotes, anchors, spaces, parentheses or $ (got ${JSON.stringify(value.slice(0, 80))})`);
  }
  try {
    new RegExp(`^(${value})$`);
  } catch {
    throw new RenderError(`${name} is not a valid regular expression: ${JSON.stringify(value.slice(0, 80))}`);
  }
  return value;
}

function host(name: string, value: string): string {
  if (!HOST.test(value)) throw new RenderError(`${name} must be a host name or IPv4 address (got ${JSON.stringify(value.slice(0, 80))})`);
  return value;
}

/** `value` as an nginx double-quoted string; refuses anything that could end or interpolate it. */
function quoted(value: string): string {
  if (/["\\$\n\r]/.test(value)) throw new RenderError('a generated value contains a quote, backslash, $ or newline');
  return `"${value}"`;
}

/** The policy of each page (header delivery, with report-uri), keyed by its path, plus the base policy. */
export function pagePolicies(pages: readonly Page[], sha256Base64: (text: string) => string): { base: string; byPath: Map<string, string> } {
  const base = buildCsp({ connectSrc: [], reportUri: CSP_REPORT_PATH }, 'header');
  const byPath = new Map<string, string>();
  for (const p of pages) {
    if (!/^\/[A-Za-z0-9._~/-]*\.html$/.test(p.path)) throw new RenderError(`unexpected page path ${JSON.stringify(p.path)} in the static export`);
    byPath.set(p.path, buildCsp({ connectSrc: [], reportUri: CSP_REPORT_PATH, ...pageHashes(p.html, sha256Base64) }, 'header'));
  }
  return { base, byPath };
}

/** The settings the deployment's config.json sets: the proxy prefixes plus any setting given in env. */
export function deploymentConfig(env: RenderEnv, routers: readonly MictlanxRouter[]): { settings: Partial<Record<SettingKey, string | number | boolean>>; validated: Settings } {
  const raw: RawSettings = {};
  for (const k of SETTING_KEYS) {
    const v = env[k];
    if (v !== undefined && v !== '') raw[k] = v;
  }
  raw.RORY_MANAGER_IP_ADDR = env.RORY_MANAGER_IP_ADDR || RENDER_DEFAULTS.RORY_MANAGER_IP_ADDR;
  raw.RORY_MANAGER_PORT = env.RORY_MANAGER_PORT || RENDER_DEFAULTS.RORY_MANAGER_PORT;
  raw.MICTLANX_ROUTERS = env.MICTLANX_ROUTERS || RENDER_DEFAULTS.MICTLANX_ROUTERS;
  raw.MICTLANX_PROTOCOL = env.MICTLANX_PROTOCOL || RENDER_DEFAULTS.MICTLANX_PROTOCOL;
  raw.RORY_MANAGER_URL = PREFIX.manager;
  raw.RORY_WORKER_URL_TEMPLATE = WORKER_URL_TEMPLATE;
  raw.MICTLANX_ROUTER_URLS = routers.map((r) => `${r.id}=${PREFIX.routers}/${r.id}`).join(' ');
  const r = validateSettings(raw);
  if (!r.ok) {
    throw new RenderError(`invalid settings for config.json: ${Object.entries(r.errors).map(([k, m]) => `${k}: ${m}`).join('; ')}`);
  }
  // Only what was set explicitly goes into config.json; everything else keeps the app's defaults.
  const settings: Partial<Record<SettingKey, string | number | boolean>> = {};
  for (const k of Object.keys(raw) as SettingKey[]) settings[k] = r.settings[k];
  return { settings, validated: r.settings };
}

/**
 * The values `$uri` takes when nginx serves the page at `path`: try_files
 * `$uri $uri/index.html` turns `/jobs/` into `/jobs//index.html` and `/jobs` into
 * `/jobs/index.html`.
 */
export function uriAliases(path: string): string[] {
  const m = /^(.*\/)index\.html$/.exec(path);
  if (!m) return [path];
  const dir = m[1];
  return [...new Set([path, `${dir}/index.html`, ...(dir === '/' ? [] : [`${dir.slice(0, -1)}`])])];
}

function fill(template: string, values: Record<string, string>, file: string): string {
  const out = template.replace(/\{\{([A-Z_]+)\}\}/g, (m, name: string) => {
    if (!(name in values)) throw new RenderError(`${file}: unknown placeholder ${m}`);
    return values[name];
  });
  return out;
}

/** One proxied location block (Manager route or router path). */
function proxyBlock(opts: { match: string; methods: string; upstreamVar: string; upstream: string; scheme: string; path: string; maxBody?: string; readTimeout: string; streaming?: boolean }): string {
  return [
    `location ${opts.match} {`,
    '    if ($rory_origin_ok = 0) { return 403; }',
    `    limit_except ${opts.methods} { deny all; }`,
    ...(opts.maxBody ? [`    client_max_body_size ${opts.maxBody};`] : []),
    ...(opts.streaming ? ['    proxy_request_buffering off;', '    proxy_buffering off;'] : []),
    '    include proxy-common.conf;',
    ...(opts.scheme === 'https' ? ['    proxy_ssl_server_name on;'] : []),
    `    proxy_read_timeout ${opts.readTimeout};`,
    `    proxy_send_timeout ${opts.readTimeout};`,
    // A variable target is resolved when a request comes (the resolver of rory-maps.conf), so
    // nginx starts even when an upstream is not up yet.
    `    set $${opts.upstreamVar} ${quoted(opts.upstream)};`,
    `    proxy_pass ${opts.scheme}://$${opts.upstreamVar}${opts.path};`,
    '}',
  ].join('\n');
}

/**
 * Renders every file of the configuration.
 * @throws RenderError naming the bad variable
 */
export function renderNginx(input: { env: RenderEnv; options: RenderOptions; templates: Templates; pages: readonly Page[]; sha256Base64: (text: string) => string }): RenderedFiles {
  const { env, options: o, templates } = input;
  for (const [name, p] of Object.entries({ root: o.root, confDir: o.confDir, runDir: o.runDir, errorLog: o.errorLog, accessLog: o.accessLog, cspLog: o.cspLog })) {
    if (!p.startsWith('/') || NGINX_UNSAFE.test(p)) throw new RenderError(`${name} must be an absolute path without spaces, quotes, $ or ; (got ${JSON.stringify(p)})`);
  }
  if (!input.pages.some((p) => p.path === '/index.html')) throw new RenderError(`no index.html in ${o.root}: run npm run build first`);

  const protocol = env.MICTLANX_PROTOCOL || RENDER_DEFAULTS.MICTLANX_PROTOCOL;
  if (protocol !== 'http' && protocol !== 'https') throw new RenderError('MICTLANX_PROTOCOL must be http or https');
  let routers: MictlanxRouter[];
  try {
    routers = parseRouterList(env.MICTLANX_ROUTERS || RENDER_DEFAULTS.MICTLANX_ROUTERS, protocol);
  } catch (e) {
    throw new RenderError(`MICTLANX_ROUTERS: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (new Set(routers.map((r) => r.id)).size !== routers.length) throw new RenderError('MICTLANX_ROUTERS lists a router id twice');
  const managerHost = host('RORY_MANAGER_IP_ADDR', env.RORY_MANAGER_IP_ADDR || RENDER_DEFAULTS.RORY_MANAGER_IP_ADDR);
  const managerPort = Number(env.RORY_MANAGER_PORT || RENDER_DEFAULTS.RORY_MANAGER_PORT);
  if (!Number.isInteger(managerPort) || managerPort < 1 || managerPort > 65535) throw new RenderError('RORY_MANAGER_PORT must be a port number');
  const workerIdPattern = pattern('RORY_WORKER_ID_PATTERN', env.RORY_WORKER_ID_PATTERN || RENDER_DEFAULTS.RORY_WORKER_ID_PATTERN);
  const workerPortPattern = pattern('RORY_WORKER_PORT_PATTERN', env.RORY_WORKER_PORT_PATTERN || RENDER_DEFAULTS.RORY_WORKER_PORT_PATTERN);
  const workerHost = env.RORY_WORKER_HOST ? host('RORY_WORKER_HOST', env.RORY_WORKER_HOST) : undefined;
  const listen = env.NGINX_LISTEN || RENDER_DEFAULTS.NGINX_LISTEN;
  if (!/^((\d{1,3}\.){3}\d{1,3}:|\[[0-9a-fA-F:]+\]:)?\d{1,5}$/.test(listen)) throw new RenderError('NGINX_LISTEN must be a port or address:port (e.g. 8080 or 127.0.0.1:8080)');
  const serverNames = (env.NGINX_SERVER_NAMES || RENDER_DEFAULTS.NGINX_SERVER_NAMES).split(/[\s,]+/).filter(Boolean);
  for (const n of serverNames) if (!HOST.test(n) && !/^\*\.[A-Za-z0-9.-]+$/.test(n)) throw new RenderError(`NGINX_SERVER_NAMES: ${JSON.stringify(n)} is not a host name`);
  const maxUpload = env.NGINX_MAX_UPLOAD || RENDER_DEFAULTS.NGINX_MAX_UPLOAD;
  if (!SIZE.test(maxUpload)) throw new RenderError('NGINX_MAX_UPLOAD must be a size such as 1g or 512m');

  const config = deploymentConfig(env, routers);

  // Upstreams that are names need a resolver (Docker's embedded DNS on the deployment network).
  const upstreamHosts = [managerHost, ...routers.map((r) => r.host), ...(workerHost ? [workerHost] : [])];
  const needsResolver = !workerHost || upstreamHosts.some((h) => !IPV4.test(h));
  const nameservers = (o.nameservers ?? []).filter((n) => IPV4.test(n) || /^[0-9a-fA-F:]+$/.test(n)).map((n) => (n.includes(':') ? `[${n}]` : n));
  if (needsResolver && nameservers.length === 0) {
    throw new RenderError('an upstream is a host name but no name server was found (resolv.conf): set NGINX_RESOLVER, or use IP addresses');
  }

  // ---- rory-maps.conf
  const { base, byPath } = pagePolicies(input.pages, input.sha256Base64);
  const maps: string[] = [
    '# Generated by scripts/nginx-render.ts: do not edit, do not commit.',
    '',
    '# The CSP of each page (sha256 of its inline scripts and styles, lib/security/csp.ts); other files get the base policy.',
    'map $uri $rory_csp {',
    `    default ${quoted(base)};`,
    ...[...byPath.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([path, policy]) => uriAliases(path).map((uri) => `    ${quoted(uri)} ${quoted(policy)};`)),
    '}',
    '',
    '# Requests to the cloud must come from this site: no Origin (same-origin GET) or this Host, and not a cross-site fetch.',
    'map "$http_origin|$http_host" $rory_same_origin {',
    '    "~^\\|" 1;',
    '    "~^https?://([^/|]+)\\|\\1$" 1;',
    '    default 0;',
    '}',
    'map $http_sec_fetch_site $rory_fetch_site_ok {',
    '    "cross-site" 0;',
    '    "same-site" 0;',
    '    default 1;',
    '}',
    'map "$rory_same_origin$rory_fetch_site_ok" $rory_origin_ok {',
    '    "11" 1;',
    '    default 0;',
    '}',
    '',
    workerHost
      ? `# Every worker id maps to ${workerHost} (like upstream's TESTING mode); the port comes from the Manager's answer.`
      : '# A worker id is its host name on the deployment network; the port comes from the Manager\'s answer.',
    'map "$rory_wid|$rory_wport" $rory_worker_upstream {',
    workerHost
      ? `    "~^(${workerIdPattern})\\|(?<rory_wp>${workerPortPattern})$" "${workerHost}:$rory_wp";`
      : `    "~^(?<rory_wh>${workerIdPattern})\\|(?<rory_wp>${workerPortPattern})$" "$rory_wh:$rory_wp";`,
    '    default "";',
    '}',
  ];
  if (needsResolver) maps.push('', `resolver ${nameservers.join(' ')} valid=10s ipv6=off;`, 'resolver_timeout 5s;');

  // ---- rory-upstreams.conf
  const upstreams: string[] = ['# Generated by scripts/nginx-render.ts: do not edit, do not commit.', '', '# The Rory Manager: only the two routes the browser calls (registration stays on the deployment network).'];
  for (const route of ['secure', 'test']) {
    upstreams.push(
      proxyBlock({
        match: `= ${PREFIX.manager}/clustering/${route}`,
        methods: 'GET',
        upstreamVar: 'rory_manager',
        upstream: `${managerHost}:${managerPort}`,
        scheme: 'http',
        path: `/clustering/${route}`,
        readTimeout: '60s',
      }),
    );
  }
  routers.forEach((r, i) => {
    const up = `${r.host}:${r.port}`;
    const scheme = r.protocol;
    upstreams.push(
      '',
      `# MictlanX router ${r.id} (${scheme}://${up}). Chunk uploads may be large and are streamed.`,
      proxyBlock({
        match: `~ "^${PREFIX.routers}/${r.id}(?<rory_rpath>/api/v4/buckets/data/[A-Za-z0-9_-]+/chunked)$"`,
        methods: 'POST',
        upstreamVar: `rory_router_${i}`,
        upstream: up,
        scheme,
        path: '$rory_rpath',
        maxBody: maxUpload,
        readTimeout: '600s',
        streaming: true,
      }),
      proxyBlock({
        match: `~ "^${PREFIX.routers}/${r.id}(?<rory_rpath>/api/v4/[A-Za-z0-9._/-]*)$"`,
        methods: 'GET POST DELETE',
        upstreamVar: `rory_router_${i}`,
        upstream: up,
        scheme,
        path: '$rory_rpath$is_args$args',
        maxBody: '1m',
        readTimeout: '600s',
        streaming: true,
      }),
    );
  });

  // ---- headers
  const header = (name: string, value: string) => `add_header ${name} ${quoted(value)} always;`;
  const appHeaders = Object.entries(appSecurityHeaders('$rory_csp')).map(([k, v]) => (k === 'Content-Security-Policy' ? `add_header ${k} $rory_csp always;` : header(k, v)));
  const apiHeaders = [
    header('Content-Security-Policy', API_RESPONSE_CSP),
    header('X-Content-Type-Options', 'nosniff'),
    header('Cross-Origin-Resource-Policy', 'same-origin'),
    header('Referrer-Policy', 'no-referrer'),
    header('Cache-Control', 'no-store'),
  ];
  const generated = (lines: string[]) => ['# Generated by scripts/nginx-render.ts (lib/security/csp.ts): do not edit, do not commit.', ...lines, ''].join('\n');

  // ---- main files
  const mainDirectives = [...(o.user ? [`user ${o.user};`] : []), ...(o.brotliModule ? [`load_module ${o.brotliModule};`] : [])].join('\n');
  const httpDirectives = o.brotliModule
    ? '    brotli on;\n    brotli_comp_level 5;\n    brotli_min_length 1024;\n    brotli_types text/css text/javascript application/javascript application/json application/wasm image/svg+xml text/plain;'
    : '    # brotli: Debian package libnginx-mod-http-brotli-filter not installed.';
  const values: Record<string, string> = {
    MAIN_DIRECTIVES: mainDirectives,
    HTTP_DIRECTIVES: httpDirectives,
    WORKER_PROCESSES: String(o.workerProcesses ?? 'auto'),
    RUN_DIR: o.runDir,
    CONF_DIR: o.confDir,
    ERROR_LOG: o.errorLog,
    ACCESS_LOG: o.accessLog,
    CSP_LOG: o.cspLog,
    LISTEN: listen,
    SERVER_NAMES: serverNames.join(' '),
    ROOT: o.root,
  };
  return {
    'nginx.conf': fill(templates['nginx.conf.template'], values, 'nginx.conf.template'),
    'locations.conf': fill(templates['locations.conf'], values, 'locations.conf'),
    'mime.conf': templates['mime.conf'],
    'proxy-common.conf': templates['proxy-common.conf'],
    'rory-maps.conf': maps.join('\n') + '\n',
    'rory-upstreams.conf': upstreams.join('\n') + '\n',
    'rory-headers-app.conf': generated(appHeaders),
    'rory-headers-api.conf': generated(apiHeaders),
    'config.json': JSON.stringify({ settings: config.settings }, null, 2) + '\n',
  };
}
