import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  baseUrlProblem,
  managerUrl,
  parseRouterUrls,
  resolveBaseUrl,
  workerUrlTemplate,
  SETTING_KEYS,
  SETTING_SPECS,
  parseEnvFile,
  routerEndpoints,
  serializeEnvFile,
  validateSettings,
  type Settings,
} from '@/lib/config';

const UPSTREAM_VARIABLES = [
  'NODE_ID', 'NODE_IP_ADDR', 'NODE_PORT', 'RORY_MANAGER_IP_ADDR', 'RORY_MANAGER_PORT', 'MAX_WORKERS', 'MAX_ITERATIONS',
  'WORKER_TIMEOUT', 'RORY_DEBUG', 'LIU_SECURITY_LEVEL', 'LIU_DECIMALS', 'LIU_ROUND', 'LIU_SEED', 'CKKS_DECIMALS', 'CKKS_ROUND',
  'PUBKEY_FILENAME', 'SECRET_KEY_FILENAME', 'NUM_CHUNKS', 'MICTLANX_ROUTERS', 'MICTLANX_BUCKET_ID', 'MICTLANX_TIMEOUT',
  'MICTLANX_MAX_RETRIES', 'MICTLANX_PROTOCOL', 'SOURCE_PATH', 'SINK_PATH', 'LOG_PATH', 'KEYS_PATH', 'ENV_FILE_PATH',
];
/** Settings this app adds for proxied deployments (issue 16, deploy/README.md); empty = unset. */
const DEPLOYMENT_VARIABLES = ['RORY_MANAGER_URL', 'RORY_WORKER_URL_TEMPLATE', 'MICTLANX_ROUTER_URLS'];

/** Settings of the browser app that upstream does not have (its env files ignore them). */
const BROWSER_VARIABLES = ['JOB_SIZE_BUDGET_MB'];

describe('settings schema', () => {
  it('covers every variable of the upstream client table (and the app\'s own), each with help text', () => {
    expect([...SETTING_KEYS].sort()).toEqual([...UPSTREAM_VARIABLES, ...DEPLOYMENT_VARIABLES, ...BROWSER_VARIABLES].sort());
    for (const k of DEPLOYMENT_VARIABLES) expect(DEFAULT_SETTINGS[k as keyof Settings]).toBe('');
    for (const spec of SETTING_SPECS) {
      expect(spec.help.length).toBeGreaterThan(10);
      if (spec.applicability !== 'used') expect(spec.note, spec.key).toBeTruthy();
    }
  });

  it('has the upstream defaults (D6)', () => {
    expect(DEFAULT_SETTINGS).toMatchObject({
      NUM_CHUNKS: 4, MAX_ITERATIONS: 10, WORKER_TIMEOUT: 300, MICTLANX_BUCKET_ID: 'rory', LIU_SECURITY_LEVEL: 128,
      MICTLANX_TIMEOUT: 120, MICTLANX_MAX_RETRIES: 10, LIU_DECIMALS: 6, LIU_ROUND: false, LIU_SEED: 123, CKKS_DECIMALS: 2,
      CKKS_ROUND: false, PUBKEY_FILENAME: 'pubkey', SECRET_KEY_FILENAME: 'secretkey', MICTLANX_PROTOCOL: 'http', MAX_WORKERS: 2,
      RORY_MANAGER_PORT: 6001, NODE_ID: 'rory-client-0', JOB_SIZE_BUDGET_MB: 1000,
    });
    expect(validateSettings({})).toEqual({ ok: true, settings: DEFAULT_SETTINGS });
  });

  it('reports one clear message per invalid field', () => {
    const r = validateSettings({ NUM_CHUNKS: '0', LIU_SECURITY_LEVEL: '100', MICTLANX_ROUTERS: 'a:b', MICTLANX_BUCKET_ID: '_bad', RORY_DEBUG: 'yes', MAX_ITERATIONS: '2.5' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual({
      NUM_CHUNKS: 'Number of chunks must be at least 1',
      LIU_SECURITY_LEVEL: 'must be 128, 192 or 256',
      MICTLANX_ROUTERS: expect.stringContaining('id:host:port'),
      MICTLANX_BUCKET_ID: expect.stringContaining('letters and digits'),
      RORY_DEBUG: 'must be 0 or 1',
      MAX_ITERATIONS: 'Max iterations must be a whole number',
    });
  });

  it('refuses ports browsers will not fetch from (upstream manager port 6000)', () => {
    const r = validateSettings({ RORY_MANAGER_PORT: '6000', MICTLANX_ROUTERS: 'r0:127.0.0.1:6666' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.RORY_MANAGER_PORT).toMatch(/browsers refuse/);
    expect(r.errors.MICTLANX_ROUTERS).toMatch(/browsers refuse/);
  });

  it('rejects router ports out of range', () => {
    const r = validateSettings({ MICTLANX_ROUTERS: 'r0:127.0.0.1:70000' });
    expect(r.ok).toBe(false);
  });

  it('derives router endpoints, dropping the port for https as the Python client does', () => {
    expect(routerEndpoints({ MICTLANX_ROUTERS: 'r0:127.0.0.1:63666, r1:h2:1', MICTLANX_PROTOCOL: 'http' }).map((r) => r.baseUrl)).toEqual([
      'http://127.0.0.1:63666',
      'http://h2:1',
    ]);
    expect(routerEndpoints({ MICTLANX_ROUTERS: 'r0:storage.example:443', MICTLANX_PROTOCOL: 'https' })[0].baseUrl).toBe('https://storage.example');
  });
});

describe('.client.env', () => {
  it('parses comments, quotes, export prefixes, inline comments and CRLF', () => {
    const r = parseEnvFile(
      '\uFEFF# comment\r\nexport NODE_ID="a b"\r\nLIU_SEED=\'77\'\r\nNUM_CHUNKS=8 # eight\r\n\r\nFOO=bar\r\nnot a pair\r\nSINK_PATH="unterminated\r\n',
    );
    expect(r.values).toEqual({ NODE_ID: 'a b', LIU_SEED: '77', NUM_CHUNKS: '8' });
    expect(r.ignored).toEqual(['FOO']);
    expect(r.malformed).toEqual([
      { line: 7, reason: 'expected KEY=VALUE' },
      { line: 8, reason: 'unterminated quote in SINK_PATH' },
    ]);
  });

  it('round-trips every variable through export and import', () => {
    const custom: Settings = {
      ...DEFAULT_SETTINGS,
      NODE_ID: 'dataowner #1',
      RORY_DEBUG: true,
      LIU_SECURITY_LEVEL: 256,
      MICTLANX_ROUTERS: 'r0:10.0.0.1:63666 r1:10.0.0.2:63667',
      SOURCE_PATH: '/data/with space',
      KEYS_PATH: 'C:\\keys\\"quoted"',
    };
    const parsed = parseEnvFile(serializeEnvFile(custom));
    expect(Object.keys(parsed.values).sort()).toEqual([...SETTING_KEYS].sort());
    expect(validateSettings(parsed.values)).toEqual({ ok: true, settings: custom });
  });

  it('round-trips arbitrary valid settings (property)', () => {
    const settingsArb = fc.record({
      NODE_ID: fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() === s && s.trim().length > 0 && !/[\r\n]/.test(s)),
      MAX_ITERATIONS: fc.integer({ min: 1, max: 1000 }),
      NUM_CHUNKS: fc.integer({ min: 1, max: 1024 }),
      LIU_SECURITY_LEVEL: fc.constantFrom(128, 192, 256),
      RORY_DEBUG: fc.boolean(),
      SINK_PATH: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() === s && s.length > 0 && !/[\r\n]/.test(s)),
    });
    fc.assert(
      fc.property(settingsArb, (partial) => {
        const s = { ...DEFAULT_SETTINGS, ...partial } as Settings;
        const back = validateSettings(parseEnvFile(serializeEnvFile(s)).values);
        expect(back).toEqual({ ok: true, settings: s });
      }),
    );
  });
});

describe('proxied deployment settings (issue 16)', () => {
  const proxied = {
    RORY_MANAGER_IP_ADDR: 'rory-manager-0',
    RORY_MANAGER_PORT: '6000',
    RORY_MANAGER_URL: '/rory/manager/',
    RORY_WORKER_URL_TEMPLATE: '/rory/workers/{worker_id}/{worker_port}',
    MICTLANX_ROUTERS: 'mictlanx-router-0:mictlanx-router-0:60666 mictlanx-router-1:mictlanx-router-1:60666',
    MICTLANX_ROUTER_URLS: 'mictlanx-router-0=/mictlanx/mictlanx-router-0, mictlanx-router-1=https://store.example/mictlanx/r1',
  };

  it('addresses the Manager, the Workers and the routers by base URL, resolved against the page origin', () => {
    const r = validateSettings(proxied);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const s = r.settings;
    expect(s.RORY_MANAGER_URL).toBe('/rory/manager');
    expect(managerUrl(s, 'https://app.example')).toBe('https://app.example/rory/manager');
    expect(workerUrlTemplate(s, 'https://app.example')).toBe('https://app.example/rory/workers/{worker_id}/{worker_port}');
    const routers = routerEndpoints(s, 'https://app.example');
    expect(routers.map((x) => [x.id, x.baseUrl, x.proxied])).toEqual([
      ['mictlanx-router-0', 'https://app.example/mictlanx/mictlanx-router-0', true],
      ['mictlanx-router-1', 'https://store.example/mictlanx/r1', true],
    ]);
    // The upstream variables keep their meaning (the proxy's targets) and their host:port form.
    expect(routers[0].host).toBe('mictlanx-router-0');
    expect(routers[0].port).toBe(60666);
  });

  it('keeps the upstream variables working as before when the new ones are empty (D6)', () => {
    const s = { ...DEFAULT_SETTINGS };
    expect(managerUrl(s, 'https://app.example')).toBe('http://127.0.0.1:6001');
    expect(workerUrlTemplate(s)).toBeUndefined();
    expect(routerEndpoints(s, 'https://app.example')).toEqual([
      { id: 'mictlanx-router-0', host: '127.0.0.1', port: 63666, protocol: 'http', baseUrl: 'http://127.0.0.1:63666', proxied: false },
    ]);
  });

  it('allows upstream manager port 6000 only behind a Manager URL (the browser never fetches it)', () => {
    expect(validateSettings({ RORY_MANAGER_PORT: '6000' }).ok).toBe(false);
    expect(validateSettings({ RORY_MANAGER_PORT: '6000', RORY_MANAGER_URL: '/rory/manager' }).ok).toBe(true);
    const r = validateSettings({ RORY_MANAGER_URL: 'http://proxy.example:6000/rory' });
    expect(r.ok ? '' : r.errors.RORY_MANAGER_URL).toMatch(/browsers refuse/);
  });

  it('refuses unusable base URLs with a message saying what to write', () => {
    for (const bad of ['rory/manager', '//evil.example/x', 'ftp://h/x', 'http://u:p@h/x', 'http://h/x?y=1', 'http://h/x#f', '/a/../b', '/a b', 'javascript:alert(1)']) {
      const r = validateSettings({ RORY_MANAGER_URL: bad });
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.errors.RORY_MANAGER_URL, bad).toMatch(/path on this site|http\(s\) URL/);
    }
    for (const good of ['/rory/manager', 'https://app.example', 'http://10.0.0.5:8080/rory/manager/']) expect(baseUrlProblem(good), good).toBeNull();
  });

  it('checks the worker URL template: {worker_id} required, no other placeholder', () => {
    const err = (v: string) => {
      const r = validateSettings({ RORY_WORKER_URL_TEMPLATE: v });
      return r.ok ? null : r.errors.RORY_WORKER_URL_TEMPLATE;
    };
    expect(err('/rory/workers/{worker_id}/{worker_port}')).toBeNull();
    expect(err('http://{worker_id}:{worker_port}')).toBeNull();
    expect(err('/rory/workers/')).toMatch(/\{worker_id\}/);
    expect(err('/rory/{worker_id}/{host}')).toMatch(/only placeholders/);
    expect(err('/rory/{worker_id}?x=1')).toMatch(/path on this site/);
  });

  it('router URLs must name routers of MICTLANX_ROUTERS, once each, as id=url', () => {
    const e = (v: string, routers = 'r0:h:63666 r1:h:63667') => {
      const r = validateSettings({ MICTLANX_ROUTERS: routers, MICTLANX_ROUTER_URLS: v });
      return r.ok ? null : (r.errors.MICTLANX_ROUTER_URLS ?? JSON.stringify(r.errors));
    };
    expect(e('r0=/m/r0 r1=/m/r1')).toBeNull();
    expect(e('r9=/m/r9')).toMatch(/not in the router list.*r9/);
    expect(e('r0=/m/a r0=/m/b')).toMatch(/listed twice/);
    expect(e('/m/r0')).toMatch(/router-id=url/);
    expect(e('r0=m/r0')).toMatch(/URL of r0/);
    expect(parseRouterUrls('')).toEqual({ ok: true, urls: [] });
  });

  it('resolves paths against an origin and leaves absolute URLs alone (property)', () => {
    const seg = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 4 }), fc.constantFrom('https://app.example', 'http://127.0.0.1:8080'), (segs, origin) => {
        const path = `/${segs.join('/')}`;
        expect(baseUrlProblem(path)).toBeNull();
        expect(resolveBaseUrl(`${path}/`, origin)).toBe(`${origin}${path}`);
        expect(resolveBaseUrl(`https://x.example${path}`, origin)).toBe(`https://x.example${path}`);
        expect(resolveBaseUrl(path, undefined)).toBe(path);
      }),
    );
  });

  it('round-trips the new settings through .client.env', () => {
    const r = validateSettings(proxied);
    if (!r.ok) throw new Error('invalid');
    expect(validateSettings(parseEnvFile(serializeEnvFile(r.settings)).values)).toEqual(r);
  });
});
