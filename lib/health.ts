/**
 * @module health
 * Health probes for the Status page: the Rory Manager (`/clustering/test`), each MictlanX
 * router (`/api/v4/peers/stats`) and the app itself. A failed probe says why: timeout, CORS
 * (the server answered but the browser may not read it), refused/unreachable, or an HTTP error.
 */

export type ProbeFailure = 'timeout' | 'cors' | 'refused' | 'http' | 'invalid';

export type ProbeResult =
  | { readonly ok: true; readonly latencyMs: number; readonly body: unknown }
  | { readonly ok: false; readonly latencyMs: number; readonly reason: ProbeFailure; readonly detail: string };

export interface ProbeOptions {
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** Checks the JSON body; return an error text when it is not what the service should answer. */
  readonly expect?: (body: unknown) => string | null;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export async function probe(url: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const f = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const t0 = now();
  try {
    const res = await f(url, { signal: AbortSignal.timeout(timeoutMs), cache: 'no-store' });
    const latencyMs = now() - t0;
    if (!res.ok) return { ok: false, latencyMs, reason: 'http', detail: `HTTP ${res.status} ${res.statusText}`.trim() };
    let body: unknown = undefined;
    try {
      body = await res.json();
    } catch {
      return { ok: false, latencyMs, reason: 'invalid', detail: 'the answer is not JSON — is this the right service and port?' };
    }
    const problem = opts.expect?.(body);
    if (problem) return { ok: false, latencyMs, reason: 'invalid', detail: problem };
    return { ok: true, latencyMs, body };
  } catch (e) {
    const latencyMs = now() - t0;
    const name = (e as { name?: string })?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return { ok: false, latencyMs, reason: 'timeout', detail: `no answer within ${Math.round(timeoutMs / 1000)} s` };
    }
    // fetch() reports CORS refusals and refused connections with the same TypeError. A no-cors
    // request succeeds (opaque response) when the server is up but sends no CORS headers.
    if (typeof window !== 'undefined') {
      try {
        await f(url, { mode: 'no-cors', signal: AbortSignal.timeout(timeoutMs), cache: 'no-store' });
        return {
          ok: false,
          latencyMs,
          reason: 'cors',
          detail: 'the server answered but does not allow this origin (CORS). Put it behind a CORS-enabling proxy (see README).',
        };
      } catch {
        /* fall through: unreachable */
      }
    }
    return { ok: false, latencyMs, reason: 'refused', detail: 'connection refused or host unreachable — is the service running at this address?' };
  }
}

export const expectComponent = (type: string) => (body: unknown) =>
  body && typeof body === 'object' && (body as { component_type?: unknown }).component_type === type
    ? null
    : `expected {"component_type":"${type}"} — is this the right service and port?`;

export const expectRouterStats = (body: unknown) =>
  body && typeof body === 'object' && !Array.isArray(body) ? null : 'unexpected answer from /api/v4/peers/stats';

/** The app's own health, in the shape of the upstream client's `/clustering/test`. */
export interface SelfCheck {
  readonly component_type: 'client';
  readonly status: 'ready' | 'degraded';
  readonly problems: readonly string[];
}

export function selfCheck(): SelfCheck {
  const problems: string[] = [];
  if (!globalThis.crypto?.subtle) problems.push('WebCrypto is unavailable (open the app over https or from localhost).');
  if (typeof indexedDB === 'undefined') problems.push('IndexedDB is unavailable (private mode or storage disabled).');
  if (typeof Worker === 'undefined') problems.push('Web Workers are unavailable.');
  if (typeof WebAssembly === 'undefined') problems.push('WebAssembly is unavailable (needed for CKKS).');
  return { component_type: 'client', status: problems.length ? 'degraded' : 'ready', problems };
}
