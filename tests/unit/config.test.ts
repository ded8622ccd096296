import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
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

/** Settings of the browser app that upstream does not have (its env files ignore them). */
const BROWSER_VARIABLES = ['JOB_SIZE_BUDGET_MB'];

describe('settings schema', () => {
  it('covers every variable of the upstream client table (and the browser\'s own), each with help text', () => {
    expect([...SETTING_KEYS].sort()).toEqual([...UPSTREAM_VARIABLES, ...BROWSER_VARIABLES].sort());
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
