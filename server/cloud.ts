/**
 * @module server/cloud
 * Starts the whole local Rory cloud on one host: a MictlanX-compatible router, a Manager and N
 * Workers wired together (spec/protocol.md §2: router, manager :6001 (upstream 6000 is a port
 * browsers refuse), workers :9000…). Each worker gets its own MictlanX client on the router and
 * registers with the manager; the function resolves once every worker is registered. Used by
 * `npm start`, tests and benches.
 *
 * D9 (issue 12 finding 2, docs/security-local-cloud.md): the three services share one
 * `AccessPolicy` — browser origins allowed to call them (the app's own origin, given at start
 * or later with `allowOrigin` once the static server listens, plus configured extras) and the
 * Host names they answer to — and the manager requires a registration token generated here
 * (or passed in), which the in-process workers receive and nothing else does.
 */
import { AccessPolicy } from './common/http';
import { createMictlanxRouter } from './mictlanx';
import { createManager, newRegistrationToken, type Manager } from './manager';
import { createWorker, type Worker } from './worker';

export interface LocalCloudOptions {
  /** Directory for the router's stored chunks. */
  readonly dataDir: string;
  /** 0 = a free port (defaults 0). */
  readonly routerPort?: number;
  readonly managerPort?: number;
  /** One entry per worker (0 = a free port). Default: two workers on free ports. */
  readonly workerPorts?: readonly number[];
  /** Bind address (default 127.0.0.1); also the address handed out to clients. */
  readonly host?: string;
  readonly bucket?: string;
  readonly log?: (line: string) => void;
  /** Browser origins allowed to use the cloud (the app's origin); more can be added with `allowOrigin`. */
  readonly allowedOrigins?: readonly string[];
  /** Host names the services answer to besides 127.0.0.1, localhost, ::1 and `host`. */
  readonly allowedHosts?: readonly string[];
  /** Worker registration secret; default: generated (32 random bytes). */
  readonly registrationToken?: string;
}

export interface LocalCloud {
  readonly routerUrl: string;
  readonly routerPort: number;
  readonly managerUrl: string;
  readonly workerUrls: readonly string[];
  readonly bucket: string;
  readonly manager: Manager;
  readonly workers: readonly Worker[];
  /** What an external worker must send as `Authorization: Bearer <token>` to register. */
  readonly registrationToken: string;
  /** The origins and Host names the services accept (live: reflects later `allowOrigin` calls). */
  readonly access: AccessPolicy;
  /** Allows a browser origin (e.g. the static app server's, once it listens). */
  allowOrigin(...origins: string[]): void;
  close(): Promise<void>;
}

/**
 * The origins a browser sees an app under when it is served on host:port: on a loopback or
 * wildcard address both http://127.0.0.1:port and http://localhost:port (and [::1] for IPv6).
 */
export function appOrigins(host: string, appPort: number): string[] {
  const loopback = ['127.0.0.1', 'localhost', '0.0.0.0', '::', '::1'].includes(host);
  const names = loopback ? ['127.0.0.1', 'localhost', ...(host === '::' || host === '::1' ? ['[::1]'] : [])] : [host.includes(':') ? `[${host}]` : host];
  return names.map((n) => `http://${n}:${appPort}`);
}

export async function startLocalCloud(opts: LocalCloudOptions): Promise<LocalCloud> {
  const host = opts.host ?? '127.0.0.1';
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const bucket = opts.bucket ?? 'rory';
  const log = opts.log;
  const access = new AccessPolicy({ origins: opts.allowedOrigins, hosts: [publicHost, ...(opts.allowedHosts ?? [])] });
  const registrationToken = opts.registrationToken ?? newRegistrationToken();
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    const router = await createMictlanxRouter({ dataDir: opts.dataDir, port: opts.routerPort ?? 0, host, access });
    closers.push(() => router.close());
    const manager = await createManager({
      port: opts.managerPort ?? 0,
      host,
      publicHost,
      access,
      registrationToken,
      log: log && ((l) => log(`[manager] ${l}`)),
    });
    closers.push(() => manager.close());
    const workers: Worker[] = [];
    const ports = opts.workerPorts ?? [0, 0];
    for (let i = 0; i < ports.length; i++) {
      const nodeId = `rory-worker-${i}`;
      const w = await createWorker({
        port: ports[i],
        host,
        publicHost,
        managerUrl: manager.url,
        nodeId,
        access,
        registrationToken,
        store: { routers: [{ id: 'mictlanx-router-0', host: publicHost, port: router.port, protocol: 'http' }], bucket, producerId: nodeId },
        log: log && ((l) => log(`[${nodeId}] ${l}`)),
      });
      closers.push(() => w.close());
      workers.push(w);
    }
    await Promise.all(workers.map((w) => w.registered));
    return {
      routerUrl: router.url,
      routerPort: router.port,
      managerUrl: manager.url,
      workerUrls: workers.map((w) => w.url),
      bucket,
      manager,
      workers,
      registrationToken,
      access,
      allowOrigin: (...origins) => access.allowOrigin(...origins),
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
