/**
 * server/common/http.ts, the pure parts of D9 (issue 12 finding 2): origin normalisation, Host
 * header parsing and the access policy that decides which browser origins and Host names the
 * local cloud answers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessPolicy, headerSafe, hostName, normalizeOrigin } from '@/server/common/http';

describe('normalizeOrigin', () => {
  it('keeps scheme, host and non-default port, lower-cased', () => {
    expect(normalizeOrigin('http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000');
    expect(normalizeOrigin('HTTP://LocalHost:3000/')).toBe('http://localhost:3000');
    expect(normalizeOrigin('https://app.example:443')).toBe('https://app.example');
    expect(normalizeOrigin('http://[::1]:3000')).toBe('http://[::1]:3000');
  });

  it('refuses what is not an http(s) origin, naming it', () => {
    for (const bad of ['null', '', '*', 'file:///etc', 'http://a.example/path', 'http://u:p@a.example', 'http://a.example/?q', 'javascript:alert(1)']) {
      expect(() => normalizeOrigin(bad), bad).toThrow(/origin/);
    }
  });
});

describe('hostName', () => {
  it('drops the port, IPv6 brackets, case and a trailing dot', () => {
    expect(hostName('127.0.0.1:6001')).toBe('127.0.0.1');
    expect(hostName('LOCALHOST')).toBe('localhost');
    expect(hostName('localhost.:9000')).toBe('localhost');
    expect(hostName('[::1]:63666')).toBe('::1');
    expect(hostName('evil.example:6001')).toBe('evil.example');
  });
});

describe('AccessPolicy', () => {
  it('allows only configured origins, and more after start', () => {
    const p = new AccessPolicy({ origins: ['http://127.0.0.1:3000'] });
    expect(p.isOriginAllowed('http://127.0.0.1:3000')).toBe(true);
    expect(p.isOriginAllowed('http://127.0.0.1:3000/')).toBe(true);
    expect(p.isOriginAllowed('http://localhost:3000')).toBe(false);
    expect(p.isOriginAllowed('https://evil.example')).toBe(false);
    expect(p.isOriginAllowed('null')).toBe(false);
    expect(p.isOriginAllowed('http://127.0.0.1:30000')).toBe(false);
    p.allowOrigin('http://localhost:3000');
    expect(p.isOriginAllowed('http://localhost:3000')).toBe(true);
    expect(p.allowedOrigins).toEqual(['http://127.0.0.1:3000', 'http://localhost:3000']);
  });

  it('refuses to allow a malformed origin at configuration time', () => {
    expect(() => new AccessPolicy({ origins: ['*'] })).toThrow(/origin/);
  });

  it('answers loopback names and configured hosts; never wildcard binds; never anything else', () => {
    const p = new AccessPolicy({ hosts: ['rory.lan', '0.0.0.0'] });
    for (const ok of ['127.0.0.1:6001', 'localhost', 'LOCALHOST:9000', '[::1]:1', 'rory.lan:63666']) expect(p.isHostAllowed(ok), ok).toBe(true);
    for (const bad of ['evil.example', '0.0.0.0:6001', '127.0.0.1.evil.example', 'localhost.evil.example:9000', '']) expect(p.isHostAllowed(bad), bad).toBe(false);
  });

  it('no arbitrary Host or Origin is allowed by a fresh policy (property)', () => {
    const p = new AccessPolicy({ origins: ['http://127.0.0.1:3000'] });
    fc.assert(
      fc.property(fc.domain(), fc.integer({ min: 1, max: 65535 }), (domain, port) => {
        fc.pre(domain !== 'localhost');
        expect(p.isHostAllowed(`${domain}:${port}`)).toBe(false);
        expect(p.isOriginAllowed(`https://${domain}:${port}`)).toBe(false);
      }),
    );
  });
});

describe('headerSafe', () => {
  it('one printable ASCII line, clipped', () => {
    expect(headerSafe('a\r\nSet-Cookie: x')).toBe('a Set-Cookie: x');
    expect(headerSafe('✓ done')).toBe('? done');
    expect(headerSafe('x'.repeat(400), 10)).toBe('xxxxxxx...');
  });
});
