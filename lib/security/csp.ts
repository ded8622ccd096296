/**
 * @module security/csp
 * The app's Content-Security-Policy and its companion headers, built in one place (issue 12
 * finding 4; docs/security-local-cloud.md). Used by server/static.ts (response headers),
 * scripts/csp-meta.ts (the meta-tag copy written into out/*.html after `next build`) and by any
 * other deployment (nginx, a CDN) that wants the same policy. Pure: no I/O, no Node modules;
 * hashing is passed in.
 *
 * The policy: `default-src 'self'`; scripts from 'self' plus the sha256 of each inline script
 * of the page (Next's bootstrap `self.__next_f.push(...)`), never 'unsafe-inline';
 * `'wasm-unsafe-eval'` so node-seal's WASM compiles (no 'unsafe-eval': zod runs jitless, see
 * next.config.js); workers from 'self'; `connect-src` 'self' plus the cloud's origins only
 * (manager, MictlanX routers, workers); styles from 'self' plus hashes of inline `<style>`
 * blocks and (with 'unsafe-hashes') of `style=""` attributes in the built HTML;
 * `object-src 'none'`, `base-uri 'self'`, `form-action 'self'`, and — only as a header, browsers
 * ignore it in a meta tag — `frame-ancestors 'none'` (anti-framing: no click-jacking of Approve).
 */
import { managerUrl, routerEndpoints, type Settings } from '../config';

export interface CspInput {
  /** Origins the page and its workers may connect to besides 'self' (the Rory cloud). */
  readonly connectSrc: readonly string[];
  /** `'sha256-…'` sources of the page's inline `<script>` elements. */
  readonly scriptHashes?: readonly string[];
  /** `'sha256-…'` sources of the page's inline `<style>` elements. */
  readonly styleHashes?: readonly string[];
  /** `'sha256-…'` sources of `style="…"` attribute values (allowed through 'unsafe-hashes'). */
  readonly styleAttrHashes?: readonly string[];
  /** Where browsers POST violation reports (header only). */
  readonly reportUri?: string;
}

/** `header`: everything. `meta`: without the directives browsers ignore in a meta tag. */
export type CspDelivery = 'header' | 'meta';

/** CSP of the local cloud's own answers (JSON, object bytes): nothing may run or render there. */
export const API_RESPONSE_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

/** Where server/static.ts collects violation reports. */
export const CSP_REPORT_PATH = '/csp-report';

const HASH_SOURCE = /^'sha(256|384|512)-[A-Za-z0-9+/]+={0,2}'$/;

/**
 * The CSP source expression of an origin (`http://127.0.0.1:6001`), or null when CSP cannot
 * express it: only http(s)/ws(s) origins with a DNS name or IPv4 host (CSP host-source has no
 * IPv6 literals; WHATWG URLs allow `;` and `,` in host names, which would end a directive).
 */
export function connectSource(origin: string): string | null {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return null;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) return null;
  // DNS names (punycode) and IPv4 only: nothing that could end a source or a directive (; , ').
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(u.hostname)) return null;
  return u.origin;
}

/** Sorted, de-duplicated CSP sources of `origins`; unusable ones are dropped (see `connectSource`). */
export function connectSources(origins: readonly string[]): string[] {
  return [...new Set(origins.map(connectSource).filter((s): s is string => s !== null))].sort();
}

/** The cloud origins a page with these settings talks to directly: the manager and every router. */
export function settingsOrigins(s: Settings): string[] {
  return [managerUrl(s), ...routerEndpoints(s).map((r) => r.baseUrl)];
}

/**
 * Builds the policy string.
 * @example buildCsp({ connectSrc: ['http://127.0.0.1:6001'] }, 'header')
 */
export function buildCsp(input: CspInput, delivery: CspDelivery): string {
  for (const h of [...(input.scriptHashes ?? []), ...(input.styleHashes ?? []), ...(input.styleAttrHashes ?? [])]) {
    if (!HASH_SOURCE.test(h)) throw new TypeError(`not a CSP hash source: ${h}`);
  }
  const uniq = (xs: readonly string[] = []) => [...new Set(xs)];
  const styleAttr = uniq(input.styleAttrHashes);
  const directives: [string, string[]][] = [
    ['default-src', ["'self'"]],
    ['script-src', ["'self'", "'wasm-unsafe-eval'", ...uniq(input.scriptHashes)]],
    ['worker-src', ["'self'"]],
    ['connect-src', ["'self'", ...connectSources(input.connectSrc)]],
    ['style-src', ["'self'", ...uniq(input.styleHashes), ...(styleAttr.length ? ["'unsafe-hashes'", ...styleAttr] : [])]],
    ['font-src', ["'self'"]],
    ['object-src', ["'none'"]],
    ['base-uri', ["'self'"]],
    ['form-action', ["'self'"]],
  ];
  if (delivery === 'header') {
    directives.push(['frame-ancestors', ["'none'"]]);
    if (input.reportUri) directives.push(['report-uri', [input.reportUri]]);
  }
  return directives.map(([name, sources]) => `${name} ${sources.join(' ')}`).join('; ');
}

/** The response headers the app is served with (besides caching and content type). */
export function appSecurityHeaders(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    // Legacy companion of frame-ancestors for browsers without CSP2.
    'X-Frame-Options': 'DENY',
  };
}

// ---------------------------------------------------------------------------------------------
// Inline content of a built HTML page, to hash.

export interface InlineContent {
  /** Text of each `<script>` without `src` (what the browser hashes: the raw text, not decoded). */
  readonly scripts: readonly string[];
  /** Text of each `<style>` element. */
  readonly styles: readonly string[];
  /** Each `style="…"` attribute value, entity-decoded (what the browser hashes). */
  readonly styleAttrs: readonly string[];
}

const ENTITIES: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>', nbsp: '\u00a0' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(cp) && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Finds the inline scripts, style blocks and style attributes of an HTML document. */
export function inlineContent(html: string): InlineContent {
  const scripts: string[] = [];
  const styles: string[] = [];
  const styleAttrs: string[] = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    if (/\bsrc\s*=/i.test(m[1])) continue;
    const type = /\btype\s*=\s*["']?([^"'\s>]+)/i.exec(m[1])?.[1]?.toLowerCase();
    // Data blocks (JSON, templates) are not executed and need no hash.
    if (type && !['text/javascript', 'module', 'application/javascript'].includes(type)) continue;
    scripts.push(m[2]);
  }
  for (const m of html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi)) styles.push(m[1]);
  for (const m of html.matchAll(/<[a-z][^>]*?\sstyle\s*=\s*("([^"]*)"|'([^']*)')/gi)) styleAttrs.push(decodeEntities(m[2] ?? m[3] ?? ''));
  return { scripts, styles, styleAttrs };
}

/**
 * The hash sources of a page. `sha256Base64` hashes UTF-8 text (Node: createHash; browsers:
 * crypto.subtle), so this module stays pure.
 */
export function pageHashes(html: string, sha256Base64: (text: string) => string): Pick<CspInput, 'scriptHashes' | 'styleHashes' | 'styleAttrHashes'> {
  const c = inlineContent(html);
  const src = (t: string) => `'sha256-${sha256Base64(t)}'`;
  return { scriptHashes: c.scripts.map(src), styleHashes: c.styles.map(src), styleAttrHashes: c.styleAttrs.map(src) };
}

const META_CSP = /<meta\s+http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>/gi;

/** Removes every CSP meta tag (the static server sends the full policy as a header instead). */
export function stripCspMeta(html: string): string {
  return html.replace(META_CSP, '');
}

/**
 * Puts `<meta http-equiv="Content-Security-Policy" content="…">` into the head, right after the
 * charset declaration (it must precede every script it governs), replacing an older one.
 */
export function withCspMeta(html: string, policy: string): string {
  const tag = `<meta http-equiv="Content-Security-Policy" content="${policy.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"/>`;
  const clean = stripCspMeta(html);
  const charset = /<meta\s+charset\s*=\s*["']?[^"'>]*["']?\s*\/?>/i.exec(clean);
  if (charset) return clean.slice(0, charset.index + charset[0].length) + tag + clean.slice(charset.index + charset[0].length);
  const head = /<head\b[^>]*>/i.exec(clean);
  if (!head) throw new TypeError('the page has no <head>');
  return clean.slice(0, head.index + head[0].length) + tag + clean.slice(head.index + head[0].length);
}

/**
 * Whether a page under `policyConnectSrc` (the `connect-src` origins besides 'self') may fetch
 * `url`; lets a settings form warn before a cloud address is saved that the policy would block.
 */
export function isConnectAllowed(url: string, pageOrigin: string, policyConnectSrc: readonly string[]): boolean {
  const target = connectSource(url);
  if (target === null) return false;
  return target === connectSource(pageOrigin) || connectSources(policyConnectSrc).includes(target);
}
