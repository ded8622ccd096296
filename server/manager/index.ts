/**
 * @module server/manager
 * The local Rory Manager (spec/protocol.md §4): a worker registry and a round-robin load
 * balancer over the workers that registered themselves.
 *
 * Routes
 * - `GET|POST /clustering/test` → 200 `{"component_type":"manager"}` + `Component-Type: manager` (§4.1).
 * - `GET /clustering/secure` → 200 `{"worker_id","worker_port","service_time","worker_url"}` +
 *   `Service-Time` (§4.2). `worker_url` is our addition: the address the worker registered as
 *   reachable (its `Worker-Host`), so a browser need not resolve Docker names. With no worker
 *   registered: 503 JSON `{"error":"no workers registered",…}` (upstream crashes with a 500).
 *   `POST` → 403 (as upstream).
 * - `POST /workers/started` with `Worker-Id`, `Worker-Port` (and optionally our `Worker-Host`)
 *   → 204 (§4.3). Deviation (D9, issue 12 finding 2): the request must also carry
 *   `Authorization: Bearer <registration token>`, a secret generated when the cloud starts
 *   (server/cloud.ts), printed in the start banner and handed to in-process workers, never put
 *   into the app bundle or config.json. Without it → 401, with a wrong one → 403, and nothing
 *   is registered or overwritten: a web page or a local process without the token cannot
 *   redirect `/clustering/secure` to a worker of its own. Missing or invalid headers → 400
 *   JSON; no lock exists, so nothing can leak. A re-registration with the token overwrites
 *   the entry (a restarted worker). (Upstream's `GET` also registers; here it does not.)
 * - `GET /workers` → 200 JSON `{ "<id>": {"workerId","port","isStarted":true,"host"} }` (§4.4).
 *
 * Deviation: upstream's balancers never learn about registered workers (§13); this one
 * balances over exactly the registered set, in registration order.
 *
 * HTTP (CORS for allowed origins only, Host check, limits) is server/common/http.ts.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AccessPolicy, baseUrl, empty, HttpError, json, listen, route, type RequestContext } from '../common/http';

export interface RegisteredWorker {
  readonly workerId: string;
  readonly port: number;
  readonly isStarted: true;
  /** The host the worker said it is reachable at (our `Worker-Host` header); defaults to the id. */
  readonly host: string;
}

export interface ManagerOptions {
  readonly port?: number;
  readonly host?: string;
  /** Host put in `url` (what clients should use); defaults to `host`. */
  readonly publicHost?: string;
  readonly log?: (line: string) => void;
  /** Origins and Host names allowed (shared with the rest of the cloud). */
  readonly access?: AccessPolicy;
  /** Secret a worker must present to register; default: 32 random bytes, see `registrationToken`. */
  readonly registrationToken?: string;
}

export interface Manager {
  readonly url: string;
  readonly port: number;
  /** The secret `POST /workers/started` requires (`Authorization: Bearer <token>`). */
  readonly registrationToken: string;
  close(): Promise<void>;
  workers(): RegisteredWorker[];
}

const WORKER_ID = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$|^[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*$/;

/** A fresh registration token: 32 bytes from the OS CSPRNG, base64url. */
export function newRegistrationToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of a presented token with the expected one. */
function sameToken(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export async function createManager(opts: ManagerOptions = {}): Promise<Manager> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.registrationToken ?? newRegistrationToken();
  if (token.length < 16) throw new Error('the registration token must have at least 16 characters');
  const access = opts.access ?? new AccessPolicy();
  access.allowHost(opts.publicHost ?? host);
  const registry = new Map<string, RegisteredWorker>();
  let next = 0;
  const log = opts.log ?? (() => {});

  const test = () => json(200, { component_type: 'manager' }, { 'Component-Type': 'manager' });

  const secure = (ctx: RequestContext) => {
    const t0 = performance.now();
    const list = [...registry.values()];
    if (list.length === 0) {
      return json(503, {
        error: 'no workers registered',
        detail: 'No Rory worker has registered with this manager yet (POST /workers/started). Start a worker and retry.',
        service_time: (performance.now() - t0) / 1000,
      });
    }
    const w = list[next % list.length];
    next = (next + 1) % list.length;
    const serviceTime = (performance.now() - t0) / 1000;
    log(`assigned ${w.workerId} for ${ctx.header('Algorithm') ?? '?'}`);
    return json(
      200,
      { worker_id: w.workerId, worker_port: w.port, service_time: serviceTime, worker_url: baseUrl(w.host, w.port) },
      { 'Service-Time': String(serviceTime) },
    );
  };

  const started = (ctx: RequestContext) => {
    const auth = /^Bearer\s+(\S+)\s*$/i.exec(ctx.header('Authorization') ?? '')?.[1];
    if (auth === undefined) {
      throw new HttpError(401, 'worker registration needs Authorization: Bearer <registration token> (printed when the cloud starts)', {
        headers: { 'WWW-Authenticate': 'Bearer realm="rory-manager"' },
      });
    }
    if (!sameToken(auth, token)) throw new HttpError(403, 'wrong registration token: nothing was registered');
    const id = ctx.header('Worker-Id')?.trim();
    const portText = ctx.header('Worker-Port')?.trim();
    const workerHost = ctx.header('Worker-Host')?.trim();
    if (!id || !portText) {
      return json(400, { error: 'missing header', detail: 'Worker-Id and Worker-Port are required' });
    }
    if (!WORKER_ID.test(id)) return json(400, { error: 'invalid Worker-Id' });
    const port = Number(portText);
    if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) return json(400, { error: 'invalid Worker-Port' });
    if (workerHost !== undefined && workerHost !== '' && !HOST.test(workerHost)) return json(400, { error: 'invalid Worker-Host' });
    registry.set(id, { workerId: id, port, isStarted: true, host: workerHost || id });
    log(`registered ${id} at ${workerHost || id}:${port}`);
    return empty(204);
  };

  const server = await listen(
    [
      route(['GET', 'POST'], '/clustering/test', test),
      route('GET', '/clustering/secure', secure),
      route('POST', '/clustering/secure', () => empty(403)),
      route('POST', '/workers/started', started),
      route('GET', '/workers/started', () => {
        throw new HttpError(404, 'use POST to register');
      }),
      route('GET', '/workers', () => json(200, Object.fromEntries(registry))),
    ],
    opts.port ?? 0,
    host,
    { access, onError: (e, ctx) => log(`${ctx.method} ${ctx.path} failed: ${e instanceof Error ? e.message : String(e)}`) },
  );

  return {
    url: baseUrl(opts.publicHost ?? host, server.port),
    port: server.port,
    registrationToken: token,
    close: () => server.close(),
    workers: () => [...registry.values()],
  };
}
