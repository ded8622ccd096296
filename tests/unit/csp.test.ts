/**
 * lib/security/csp.ts (issue 12 finding 4): the policy string for header and meta delivery, the
 * hash sources of a page's inline code (golden vector from the CSP hash example on MDN), the
 * meta tag placement, connect-src origins derived from settings, and the connect check a
 * settings form can use.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, validateSettings } from '@/lib/config';
import {
  appSecurityHeaders,
  buildCsp,
  connectSource,
  connectSources,
  inlineContent,
  isConnectAllowed,
  pageHashes,
  settingsOrigins,
  stripCspMeta,
  withCspMeta,
} from '@/lib/security/csp';

const sha256 = (t: string) => createHash('sha256').update(t, 'utf8').digest('base64');

/** Directive name → its sources. */
function directives(policy: string): Map<string, string[]> {
  return new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));
}

describe('buildCsp', () => {
  const input = {
    connectSrc: ['http://127.0.0.1:6001', 'http://127.0.0.1:63666/', 'http://127.0.0.1:6001'],
    scriptHashes: ["'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"],
    reportUri: '/csp-report',
  };

  it('header: strict sources, anti-framing, reports; no unsafe-inline or unsafe-eval', () => {
    const d = directives(buildCsp(input, 'header'));
    expect(d.get('default-src')).toEqual(["'self'"]);
    expect(d.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'", "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"]);
    expect(d.get('worker-src')).toEqual(["'self'"]);
    expect(d.get('connect-src')).toEqual(["'self'", 'http://127.0.0.1:6001', 'http://127.0.0.1:63666']);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'self'"]);
    expect(d.get('form-action')).toEqual(["'self'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('report-uri')).toEqual(['/csp-report']);
    const all = [...d.values()].flat();
    expect(all).not.toContain("'unsafe-inline'");
    expect(all).not.toContain("'unsafe-eval'");
    expect(all).not.toContain('*');
  });

  it('meta: the same policy without frame-ancestors and report-uri (ignored in meta tags)', () => {
    const header = directives(buildCsp(input, 'header'));
    const meta = directives(buildCsp(input, 'meta'));
    expect(meta.has('frame-ancestors')).toBe(false);
    expect(meta.has('report-uri')).toBe(false);
    for (const [k, v] of meta) expect(header.get(k)).toEqual(v);
  });

  it('style attributes need unsafe-hashes, and only then', () => {
    expect(directives(buildCsp({ connectSrc: [] }, 'header')).get('style-src')).toEqual(["'self'"]);
    const withAttr = directives(buildCsp({ connectSrc: [], styleHashes: ["'sha256-AAAA'"], styleAttrHashes: ["'sha256-BBBB'"] }, 'header'));
    expect(withAttr.get('style-src')).toEqual(["'self'", "'sha256-AAAA'", "'unsafe-hashes'", "'sha256-BBBB'"]);
  });

  it('refuses anything that is not a hash source where hashes go', () => {
    expect(() => buildCsp({ connectSrc: [], scriptHashes: ["'unsafe-inline'"] }, 'header')).toThrow(/not a CSP hash source/);
    expect(() => buildCsp({ connectSrc: [], styleHashes: ["'sha256-x'; script-src *"] }, 'header')).toThrow(/not a CSP hash source/);
  });

  it('no connect origin can inject a directive (property)', () => {
    const hostile = fc.oneof(
      fc.string(),
      fc.tuple(fc.constantFrom('http://', 'https://', 'ws://'), fc.string({ unit: fc.constantFrom('a', '1', '.', '-', ';', ',', "'", ' ', '*', ':', '/', '%3B') })).map(([s, h]) => s + h),
    );
    fc.assert(
      fc.property(fc.array(hostile, { maxLength: 5 }), (origins) => {
        const d = directives(buildCsp({ connectSrc: origins }, 'header'));
        expect([...d.keys()]).toEqual(['default-src', 'script-src', 'worker-src', 'connect-src', 'style-src', 'font-src', 'object-src', 'base-uri', 'form-action', 'frame-ancestors']);
        for (const s of d.get('connect-src')!.slice(1)) expect(s).toMatch(/^(https?|wss?):\/\/[^\s;,']+$/);
      }),
    );
  });

  it('companion headers', () => {
    expect(appSecurityHeaders('x')).toEqual({
      'Content-Security-Policy': 'x',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
    });
  });
});

describe('connect origins', () => {
  it('from settings: the manager and every router (https drops the port as the client does)', () => {
    expect(settingsOrigins(DEFAULT_SETTINGS)).toEqual(['http://127.0.0.1:6001', 'http://127.0.0.1:63666']);
    const r = validateSettings({ RORY_MANAGER_IP_ADDR: 'rory.example', RORY_MANAGER_PORT: 8443, MICTLANX_ROUTERS: 'a:r1.example:60666 b:r2.example:60667', MICTLANX_PROTOCOL: 'https' });
    expect(r.ok).toBe(true);
    if (r.ok) expect(settingsOrigins(r.settings)).toEqual(['http://rory.example:8443', 'https://r1.example', 'https://r2.example']);
  });

  it('sources: origins only, default ports dropped, IPv6 and non-http dropped', () => {
    expect(connectSource('http://127.0.0.1:9000/clustering/test?x=1')).toBe('http://127.0.0.1:9000');
    expect(connectSource('https://a.example:443')).toBe('https://a.example');
    expect(connectSource('http://[::1]:6001')).toBeNull();
    expect(connectSource('javascript:alert(1)')).toBeNull();
    expect(connectSource('data:text/plain,x')).toBeNull();
    expect(connectSource('not a url')).toBeNull();
    expect(connectSource("http://a;script-src,'unsafe-inline':1")).toBeNull();
    expect(connectSources(['http://b:1', 'http://a:1', 'http://b:1/'])).toEqual(['http://a:1', 'http://b:1']);
  });

  it('isConnectAllowed: the page itself and listed origins only', () => {
    const list = ['http://127.0.0.1:6001', 'http://127.0.0.1:63666'];
    expect(isConnectAllowed('http://127.0.0.1:6001/clustering/secure', 'http://127.0.0.1:3000', list)).toBe(true);
    expect(isConnectAllowed('http://127.0.0.1:3000/config.json', 'http://127.0.0.1:3000', list)).toBe(true);
    expect(isConnectAllowed('http://localhost:6001/clustering/secure', 'http://127.0.0.1:3000', list)).toBe(false);
    expect(isConnectAllowed('http://127.0.0.1:6002/', 'http://127.0.0.1:3000', list)).toBe(false);
    expect(isConnectAllowed('https://evil.example/', 'http://127.0.0.1:3000', list)).toBe(false);
  });
});

describe('inline content and hashes', () => {
  const page = [
    '<!DOCTYPE html><html><head><meta charSet="utf-8"/><meta name="viewport" content="width=device-width"/>',
    '<script src="/_next/static/chunks/main.js" async=""></script>',
    "<script>alert('Hello, world.');</script>",
    '<script type="application/json" id="data">{"a":1}</script>',
    '<style>body{margin:0}</style>',
    '</head><body><div style="font-family:&quot;Segoe UI&quot;;margin:0 20px">x</div><span style=\'display:inline-block\'></span>',
    '<script>(self.__next_f=self.__next_f||[]).push([0])</script></body></html>',
  ].join('');

  it('finds inline scripts (not src, not data blocks), style blocks, decoded style attributes', () => {
    expect(inlineContent(page)).toEqual({
      scripts: ["alert('Hello, world.');", '(self.__next_f=self.__next_f||[]).push([0])'],
      styles: ['body{margin:0}'],
      styleAttrs: ['font-family:"Segoe UI";margin:0 20px', 'display:inline-block'],
    });
  });

  it("hashes as browsers do: MDN's alert('Hello, world.') vector", () => {
    // https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Content-Security-Policy/script-src (hash example)
    expect(pageHashes(page, sha256).scriptHashes?.[0]).toBe("'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='");
    expect(pageHashes(page, sha256).styleAttrHashes).toHaveLength(2);
  });

  it('meta tag goes right after the charset, before every script, replaces an older one, and strips cleanly', () => {
    const policy = buildCsp({ connectSrc: ['http://127.0.0.1:6001'], ...pageHashes(page, sha256) }, 'meta');
    const once = withCspMeta(page, policy);
    const twice = withCspMeta(once, policy);
    expect(twice).toBe(once);
    const metaAt = once.indexOf('<meta http-equiv="Content-Security-Policy"');
    expect(metaAt).toBeGreaterThan(once.indexOf('<meta charSet="utf-8"/>'));
    expect(metaAt).toBeLessThan(once.indexOf('<script'));
    expect(once).toContain(`content="${policy.replace(/"/g, '&quot;')}"`);
    expect(stripCspMeta(once)).toBe(page);
    // Inserting the tag does not change what is hashed.
    expect(pageHashes(once, sha256)).toEqual(pageHashes(page, sha256));
    expect(() => withCspMeta('<p>no head</p>', policy)).toThrow(/no <head>/);
  });
});
