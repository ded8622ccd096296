/**
 * The one MICTLANX_ROUTERS parser (lib/storage/routers.ts) and its two users: settings validation
 * and `routerEndpoints` in lib/config.ts, and `MictlanxClient.parseRouters` / `routerUrl`. Bad
 * entries give a CONFIG_INVALID error that names the entry and the expected form.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { routerEndpoints, validateSettings } from '@/lib/config';
import { MictlanxClient } from '@/lib/storage/mictlanx-client';
import { ROUTER_FORMAT_HINT, parseRouterList, parseRouterListSafe, routerUrl, splitRouterList } from '@/lib/storage/routers';

function configError(text: string): AppError {
  try {
    parseRouterList(text, 'http');
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseRouterList', () => {
  it('parses one or more entries separated by spaces, commas or newlines', () => {
    expect(parseRouterList('mictlanx-router-0:127.0.0.1:63666')).toEqual([{ id: 'mictlanx-router-0', host: '127.0.0.1', port: 63666, protocol: 'http' }]);
    expect(parseRouterList(' r0:a.example:1, r1:localhost:65535\nr2:b:80 ,,', 'https').map((r) => [r.id, r.host, r.port, r.protocol])).toEqual([
      ['r0', 'a.example', 1, 'https'],
      ['r1', 'localhost', 65535, 'https'],
      ['r2', 'b', 80, 'https'],
    ]);
    expect(splitRouterList(' a ,b\n\tc ')).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['', /list at least one router/],
    ['r0:host', /is not id:host:port/],
    ['r0:h:1:2', /is not id:host:port/],
    ['not a router', /each router must be written id:host:port.*"not" is not id:host:port/],
    ['r0:host:0', /ports must be between 1 and 65535 \(got "0"\)/],
    ['r0:host:70000', /ports must be between 1 and 65535/],
    ['r0:host:12a', /ports must be between/],
    ['r0::1', /"" is not a host name/],
    ['r0:-h:1', /"-h" is not a host name/],
    ['-r:h:1', /router id "-r" must be letters and digits/],
    ['r__0:h:1', /router id/],
    ['good:h:1 bad:h:0', /got "0"/],
  ])('refuses %j with a clear CONFIG_INVALID error', (text, reason) => {
    const e = configError(text);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(reason);
    expect(e.message.startsWith('MICTLANX_ROUTERS: ')).toBe(true);
    expect(e.userMessage).toMatch(/^The MictlanX router list is invalid: /);
    expect(e.userMessage).toContain('Write each router as id:host:port');
  });

  it('refuses a protocol other than http/https', () => {
    expect(parseRouterListSafe('r0:h:1', 'ftp' as 'http')).toEqual({ ok: false, problem: { entry: '', reason: 'the protocol must be http or https' } });
  });

  it('derives base URLs: https drops the port; baseUrl overrides and loses trailing slashes', () => {
    const [r] = parseRouterList('r0:10.0.0.1:60666');
    expect(routerUrl(r)).toBe('http://10.0.0.1:60666');
    expect(routerUrl({ ...r, protocol: 'https' })).toBe('https://10.0.0.1');
    expect(routerUrl({ ...r, baseUrl: 'https://proxy.example/mictlanx//' })).toBe('https://proxy.example/mictlanx');
  });
});

describe('lib/config and the client use the same parser', () => {
  const entryArb = fc.record({
    id: fc.stringMatching(/^[a-z0-9]{1,6}([-_][a-z0-9]{1,4})?$/),
    host: fc.oneof(fc.ipV4(), fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9](\.[a-z]{2,5})?$/)),
    port: fc.integer({ min: 1, max: 65535 }),
  });

  it('routerEndpoints = parseRouters + routerUrl for any valid list (property)', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 4 }), fc.constantFrom(' ', ',', ', ', '\n'), fc.constantFrom('http' as const, 'https' as const), (entries, sep, protocol) => {
        const text = entries.map((e) => `${e.id}:${e.host}:${e.port}`).join(sep);
        const fromConfig = routerEndpoints({ MICTLANX_ROUTERS: text, MICTLANX_PROTOCOL: protocol });
        const fromClient = MictlanxClient.parseRouters(text, protocol);
        expect(fromConfig.map(({ baseUrl: _b, proxied: _p, ...r }) => r)).toEqual(fromClient);
        expect(fromConfig.every((r) => !r.proxied)).toBe(true);
        expect(fromConfig.map((r) => r.baseUrl)).toEqual(fromClient.map(MictlanxClient.routerUrl));
        expect(fromClient).toEqual(entries.map((e) => ({ ...e, protocol })));
      }),
      { numRuns: 200 },
    );
  });

  it('settings validation reports the parser’s reason, and adds the browser port rule', () => {
    const bad = validateSettings({ MICTLANX_ROUTERS: 'r0:127.0.0.1:0' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.MICTLANX_ROUTERS).toBe('router ports must be between 1 and 65535 (got "0")');
    const shape = validateSettings({ MICTLANX_ROUTERS: 'not a router' });
    if (!shape.ok) expect(shape.errors.MICTLANX_ROUTERS?.startsWith(ROUTER_FORMAT_HINT)).toBe(true);
    else expect.unreachable();
    const blocked = validateSettings({ MICTLANX_ROUTERS: 'r0:127.0.0.1:6000' });
    expect(blocked.ok).toBe(false);
    if (!blocked.ok) expect(blocked.errors.MICTLANX_ROUTERS).toMatch(/browsers refuse/);
    // The client itself accepts blocked ports: Node (the local cloud's workers) may use them.
    expect(MictlanxClient.parseRouters('r0:127.0.0.1:6000')[0].port).toBe(6000);
  });

  it('routerEndpoints throws CONFIG_INVALID for a list that never passed validation', () => {
    expect(() => routerEndpoints({ MICTLANX_ROUTERS: 'r0:host', MICTLANX_PROTOCOL: 'http' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
