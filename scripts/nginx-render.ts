/**
 * Renders the nginx configuration of a deployment (issue 16; deploy/README.md): fills the
 * templates of deploy/nginx/ and writes, into --conf-dir, nginx.conf and its includes (the
 * per-page CSP of the pages in --root, the upstream addresses) plus the app's config.json.
 * The Docker image runs it at container start, the nginx test suite before starting nginx:
 *
 *   tsx scripts/nginx-render.ts --root out --conf-dir /run/rory/conf --run-dir /run/rory \
 *     [--user www-data] [--worker-processes auto] [--brotli auto|on|off] \
 *     [--error-log <file>] [--access-log <file>] [--csp-log <file>]
 *
 * Deployment variables (environment; deploy/README.md has the table): RORY_MANAGER_IP_ADDR,
 * RORY_MANAGER_PORT, MICTLANX_ROUTERS, MICTLANX_PROTOCOL (the upstream names, D6: where the
 * proxy forwards to), RORY_WORKER_ID_PATTERN, RORY_WORKER_PORT_PATTERN, RORY_WORKER_HOST,
 * NGINX_LISTEN, NGINX_SERVER_NAMES, NGINX_MAX_UPLOAD, NGINX_RESOLVER, and any other app
 * setting (e.g. NUM_CHUNKS), copied into config.json after validation. Secrets (the worker
 * registration token) are never read here and never reach config.json.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RenderError, renderNginx, type Page, type Templates } from '../deploy/nginx/render';

const BROTLI_MODULE = '/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so';
const TEMPLATE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'nginx');

async function htmlPages(root: string, dir = root): Promise<Page[]> {
  const out: Page[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await htmlPages(root, p)));
    else if (e.name.endsWith('.html')) out.push({ path: `/${relative(root, p).split(sep).join('/')}`, html: await readFile(p, 'utf8') });
  }
  return out;
}

async function nameservers(): Promise<string[]> {
  if (process.env.NGINX_RESOLVER) return process.env.NGINX_RESOLVER.split(/[\s,]+/).filter(Boolean);
  const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]);
}

async function main() {
  const { values } = parseArgs({
    options: {
      root: { type: 'string', default: 'out' },
      'conf-dir': { type: 'string' },
      'run-dir': { type: 'string' },
      user: { type: 'string' },
      'worker-processes': { type: 'string', default: 'auto' },
      brotli: { type: 'string', default: 'auto' },
      'error-log': { type: 'string' },
      'access-log': { type: 'string' },
      'csp-log': { type: 'string' },
    },
  });
  if (!values['conf-dir'] || !values['run-dir']) throw new RenderError('--conf-dir and --run-dir are required');
  const root = resolve(values.root);
  const confDir = resolve(values['conf-dir']);
  const runDir = resolve(values['run-dir']);
  const brotli = values.brotli;
  if (!['auto', 'on', 'off'].includes(brotli)) throw new RenderError('--brotli must be auto, on or off');
  if (brotli === 'on' && !existsSync(BROTLI_MODULE)) throw new RenderError(`--brotli on: ${BROTLI_MODULE} is missing (apt-get install libnginx-mod-http-brotli-filter)`);
  const wp = values['worker-processes'];
  if (wp !== 'auto' && !/^[1-9]\d?$/.test(wp)) throw new RenderError('--worker-processes must be auto or a number');

  const templates = Object.fromEntries(
    await Promise.all((['nginx.conf.template', 'locations.conf', 'mime.conf', 'proxy-common.conf'] as const).map(async (n) => [n, await readFile(join(TEMPLATE_DIR, n), 'utf8')])),
  ) as unknown as Templates;
  if (!existsSync(join(root, 'index.html'))) throw new RenderError(`${root}/index.html is missing: run npm run build first`);
  const files = renderNginx({
    env: process.env,
    options: {
      root,
      confDir,
      runDir,
      errorLog: resolve(values['error-log'] ?? join(runDir, 'error.log')),
      accessLog: resolve(values['access-log'] ?? join(runDir, 'access.log')),
      cspLog: resolve(values['csp-log'] ?? join(runDir, 'csp-reports.log')),
      user: values.user,
      workerProcesses: wp === 'auto' ? 'auto' : Number(wp),
      brotliModule: brotli !== 'off' && existsSync(BROTLI_MODULE) ? BROTLI_MODULE : undefined,
      nameservers: await nameservers(),
    },
    templates,
    pages: await htmlPages(root),
    sha256Base64: (t) => createHash('sha256').update(t, 'utf8').digest('base64'),
  });
  await mkdir(confDir, { recursive: true });
  await mkdir(runDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(confDir, name), text);
  const settings = (JSON.parse(files['config.json']) as { settings: Record<string, unknown> }).settings;
  console.log(`nginx configuration written to ${confDir} (serving ${root}); config.json: ${JSON.stringify(settings)}`);
}

main().catch((e: unknown) => {
  console.error(`nginx-render: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
