/**
 * @module server/cloud
 * Starts the whole local Rory cloud on one host: a MictlanX-compatible router, a Manager and N
 * Workers wired together (spec/protocol.md §2: router, manager :6001 (upstream 6000 is a port browsers refuse), workers :9000…). Each
 * worker gets its own MictlanX client on the router and registers with the manager; the
 * function resolves once every worker is registered. Used by `npm start`, tests and benches.
 */
import { createMictlanxRouter } from './mictlanx';
import { createManager, type Manager } from './manager';
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
}

export interface LocalCloud {
  readonly routerUrl: string;
  readonly routerPort: number;
  readonly managerUrl: string;
  readonly workerUrls: readonly string[];
  readonly bucket: string;
  readonly manager: Manager;
  readonly workers: readonly Worker[];
  close(): Promise<void>;
}

export async function startLocalCloud(opts: LocalCloudOptions): Promise<LocalCloud> {
  const host = opts.host ?? '127.0.0.1';
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const bucket = opts.bucket ?? 'rory';
  const log = opts.log;
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    const router = await createMictlanxRouter({ dataDir: opts.dataDir, port: opts.routerPort ?? 0, host });
    closers.push(() => router.close());
    const manager = await createManager({ port: opts.managerPort ?? 0, host, publicHost, log: log && ((l) => log(`[manager] ${l}`)) });
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
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
