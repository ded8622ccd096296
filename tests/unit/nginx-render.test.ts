/**
 * deploy/nginx/render.ts (issue 16): the rendered configuration for the two deployments of
 * deploy/README.md (compose with the local cloud, the app in front of an upstream Rory), the
 * per-page CSP built by lib/security/csp.ts, the generated config.json (validated, no
 * secrets), and clear refusals of bad deployment variables (nothing that could inject nginx
 * directives gets through). tests/e2e/nginx.test.ts runs the result in a real nginx.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateSettings } from '@/lib/config';
import { buildCsp, CSP_REPORT_PATH, pageHashes } from '@/lib/security/csp';
import { RenderError, renderNginx, uriAliases, type RenderEnv, type RenderOptions, type Templates } from '@/deploy/nginx/render';

const templates = Object.fromEntries(
  ['nginx.conf.template', 'locations.conf', 'mime.conf', 'proxy-common.conf'].map((n) => [n, readFileSync(join(process.cwd(), 'deploy', 'nginx', n), 'utf8')]),
) as unknown as Templates;
const sha256 = (t: string) => createHash('sha256').update(t, 'utf8').digest('base64');
const pages = [
  { path: '/index.html', html: '<html><head><meta charset="utf-8"/></head><body><script>self.__next_f.push([1])</script></body></html>' },
  { path: '/jobs/index.html', html: '<html><head></head><body><script>self.__next_f.push([2])</script><div style="color:red"></div></body></html>' },
  { path: '/404.html', html: '<html><head></head><body><script>x()</script></body></html>' },
];
const options: RenderOptions = { root: '/srv/rory/out', confDir: '/run/rory/conf', runDir: '/run/rory', errorLog: '/dev/stderr', accessLog: '/dev/stdout', cspLog: '/run/rory/csp.log', nameservers: ['127.0.0.11'] };
const render = (env: RenderEnv, extra: Partial<RenderOptions> = {}) => renderNginx({ env, options: { ...options, ...extra }, templates, pages, sha256Base64: sha256 });
const renderError = (env: RenderEnv, extra: Partial<RenderOptions> = {}) => {
  try {
    render(env, extra);
  } catch (e) {
    if (e instanceof RenderError) return e.message;
    throw e;
  }
  return null;
};

const COMPOSE: RenderEnv = {
  RORY_MANAGER_IP_ADDR: 'manager',
  RORY_MANAGER_PORT: '6001',
  MICTLANX_ROUTERS: 'mictlanx-router-0:router:63666',
  RORY_WORKER_ID_PATTERN: '[0-9a-f]{12}',
  RORY_WORKER_PORT_PATTERN: '9000',
  NUM_CHUNKS: '8',
  RORY_REGISTRATION_TOKEN: 'secret-token-never-rendered-0123456789',
};

describe('nginx configuration rendering', () => {
  it('upstream defaults: rory-manager-0:6000, mictlanx-router-0:60666, workers rory-worker-N by DNS', () => {
    const f = render({});
    expect(f['rory-upstreams.conf']).toContain('set $rory_manager "rory-manager-0:6000";');
    expect(f['rory-upstreams.conf']).toContain('proxy_pass http://$rory_manager/clustering/secure;');
    expect(f['rory-upstreams.conf']).toContain('set $rory_router_0 "mictlanx-router-0:60666";');
    expect(f['rory-maps.conf']).toContain('"~^(?<rory_wh>rory-worker-[0-9]+)\\|(?<rory_wp>[0-9]{1,5})$" "$rory_wh:$rory_wp";');
    expect(f['rory-maps.conf']).toContain('resolver 127.0.0.11 valid=10s ipv6=off;');
    const settings = JSON.parse(f['config.json']).settings;
    // Upstream's port 6000 is fine here: the browser talks to /rory/manager, the proxy to 6000.
    expect(settings).toMatchObject({ RORY_MANAGER_IP_ADDR: 'rory-manager-0', RORY_MANAGER_PORT: 6000, RORY_MANAGER_URL: '/rory/manager' });
    expect(validateSettings(settings).ok).toBe(true);
  });

  it('compose: service names, container-id workers on port 9000, app settings copied, no secret anywhere', () => {
    const f = render(COMPOSE);
    expect(f['rory-maps.conf']).toContain('"~^(?<rory_wh>[0-9a-f]{12})\\|(?<rory_wp>9000)$" "$rory_wh:$rory_wp";');
    expect(JSON.parse(f['config.json'])).toEqual({
      settings: {
        NUM_CHUNKS: 8,
        RORY_MANAGER_IP_ADDR: 'manager',
        RORY_MANAGER_PORT: 6001,
        MICTLANX_ROUTERS: 'mictlanx-router-0:router:63666',
        MICTLANX_PROTOCOL: 'http',
        RORY_MANAGER_URL: '/rory/manager',
        RORY_WORKER_URL_TEMPLATE: '/rory/workers/{worker_id}/{worker_port}',
        MICTLANX_ROUTER_URLS: 'mictlanx-router-0=/mictlanx/mictlanx-router-0',
      },
    });
    for (const [name, text] of Object.entries(f)) {
      expect(text, name).not.toContain('secret-token');
      expect(text, name).not.toMatch(/\{\{[A-Z_]+\}\}/);
    }
  });

  it('each page gets its own policy under every $uri nginx gives it; other files the base policy', () => {
    const maps = render(COMPOSE)['rory-maps.conf'];
    for (const p of pages) {
      const policy = buildCsp({ connectSrc: [], reportUri: CSP_REPORT_PATH, ...pageHashes(p.html, sha256) }, 'header');
      for (const uri of uriAliases(p.path)) expect(maps).toContain(`"${uri}" "${policy}";`);
    }
    expect(uriAliases('/jobs/index.html')).toEqual(['/jobs/index.html', '/jobs//index.html', '/jobs']);
    expect(uriAliases('/index.html')).toEqual(['/index.html', '//index.html']);
    expect(uriAliases('/404.html')).toEqual(['/404.html']);
    expect(maps).toContain(`default "${buildCsp({ connectSrc: [], reportUri: CSP_REPORT_PATH }, 'header')}";`);
    expect(maps).toContain("connect-src 'self';");
    const headers = render(COMPOSE)['rory-headers-app.conf'];
    expect(headers).toContain('add_header Content-Security-Policy $rory_csp always;');
    expect(headers).toContain('add_header X-Frame-Options "DENY" always;');
    expect(headers).toContain('add_header Cross-Origin-Opener-Policy "same-origin" always;');
  });

  it('loopback (tests, TESTING-like): every worker id at one host, IP upstreams need no resolver', () => {
    const f = render({ RORY_MANAGER_IP_ADDR: '127.0.0.1', RORY_MANAGER_PORT: '6001', MICTLANX_ROUTERS: 'mictlanx-router-0:127.0.0.1:63666', RORY_WORKER_HOST: '127.0.0.1', NGINX_LISTEN: '127.0.0.1:18080' }, { nameservers: [] });
    expect(f['rory-maps.conf']).toContain('"~^(rory-worker-[0-9]+)\\|(?<rory_wp>[0-9]{1,5})$" "127.0.0.1:$rory_wp";');
    expect(f['rory-maps.conf']).not.toContain('resolver ');
    expect(f['nginx.conf']).toContain('listen 127.0.0.1:18080;');
  });

  it('https routers, several of them, each under its own prefix with SNI; brotli and user only when asked', () => {
    const f = render({ MICTLANX_ROUTERS: 'r0:store-a.example:443 r1:store-b.example:443', MICTLANX_PROTOCOL: 'https' }, { user: 'www-data', brotliModule: '/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so' });
    expect(f['rory-upstreams.conf']).toContain('location ~ "^/mictlanx/r1(?<rory_rpath>/api/v4/[A-Za-z0-9._/-]*)$"');
    expect(f['rory-upstreams.conf']).toContain('proxy_pass https://$rory_router_1$rory_rpath$is_args$args;');
    expect(f['rory-upstreams.conf']).toContain('proxy_ssl_server_name on;');
    expect(JSON.parse(f['config.json']).settings.MICTLANX_ROUTER_URLS).toBe('r0=/mictlanx/r0 r1=/mictlanx/r1');
    expect(f['nginx.conf']).toMatch(/^user www-data;$/m);
    expect(f['nginx.conf']).toMatch(/^load_module \/usr\/lib\/nginx\/modules\/ngx_http_brotli_filter_module\.so;$/m);
    expect(f['nginx.conf']).toContain('brotli on;');
    expect(render({})['nginx.conf']).not.toMatch(/^user |brotli on/m);
  });

  it('refuses bad deployment variables with a message naming them', () => {
    expect(renderError({ MICTLANX_ROUTERS: 'r0:host' })).toMatch(/MICTLANX_ROUTERS.*id:host:port/);
    expect(renderError({ MICTLANX_ROUTERS: 'r0:a:1 r0:b:2' })).toMatch(/twice/);
    expect(renderError({ RORY_MANAGER_IP_ADDR: 'evil;include /etc/passwd' })).toMatch(/RORY_MANAGER_IP_ADDR/);
    expect(renderError({ RORY_WORKER_HOST: 'a b' })).toMatch(/RORY_WORKER_HOST/);
    expect(renderError({ NGINX_LISTEN: '80; include x' })).toMatch(/NGINX_LISTEN/);
    expect(renderError({ NGINX_SERVER_NAMES: 'ok.example bad;name' })).toMatch(/NGINX_SERVER_NAMES/);
    expect(renderError({ NGINX_MAX_UPLOAD: 'lots' })).toMatch(/NGINX_MAX_UPLOAD/);
    expect(renderError({ MICTLANX_PROTOCOL: 'ftp' })).toMatch(/MICTLANX_PROTOCOL/);
    expect(renderError({ NUM_CHUNKS: '0' })).toMatch(/config\.json.*NUM_CHUNKS/);
    expect(renderError({}, { nameservers: [] })).toMatch(/name server/);
    expect(renderError({}, { root: '/srv/my out' })).toMatch(/root must be an absolute path/);
    expect(() => renderNginx({ env: {}, options, templates, pages: pages.slice(1), sha256Base64: sha256 })).toThrow(/index\.html/);
  });

  it('worker patterns cannot break out of the nginx map (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (p) => {
        const env = { RORY_WORKER_ID_PATTERN: p || 'x', RORY_WORKER_HOST: '127.0.0.1' };
        const message = renderError(env);
        if (message === null) {
          const line = render(env)['rory-maps.conf'].split('\n').find((l) => l.includes('rory_wp>'))!;
          // One quoted key, one quoted value, nothing else on the line.
          expect(line).toMatch(/^ {4}"~\^\([^"$]*\)\\\|\(\?<rory_wp>\[0-9\]\{1,5\}\)\$" "127\.0\.0\.1:\$rory_wp";$/);
        } else expect(message).toMatch(/RORY_WORKER_ID_PATTERN/);
      }),
      { numRuns: 300 },
    );
  });
});
