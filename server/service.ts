/**
 * @module server/service
 * One service of the local Rory cloud per process, configured by environment variables: the
 * entry point of the Node services image (deploy/Dockerfile.services, deploy/compose.yaml) and
 * of the nginx end-to-end suite, which starts the cloud with exactly these commands
 * (issue 16; deploy/README.md). `npm start` keeps running everything in one process
 * (server/start.ts); this is the same code (server/mictlanx, server/manager, server/worker)
 * split so that compose can run and scale the pieces.
 *
 *   node --import tsx server/service.ts router|manager|worker
 *
 * Environment (upstream names where upstream has one, spec/protocol.md §10):
 * - all: NODE_HOST (bind address, default 0.0.0.0), NODE_PORT (router 63666, manager 6001,
 *   worker 9000; 0 = a free port), ALLOW_HOSTS (more Host names accepted, e.g. the compose
 *   service name; D9 Host check);
 * - router: DATA_DIR (default /data);
 * - manager and worker: the registration token in RORY_REGISTRATION_TOKEN_FILE (a Docker
 *   secret) or RORY_REGISTRATION_TOKEN; required, at least 16 characters, never logged;
 * - worker: NODE_ID (default: this machine's host name, which is the container's name on a
 *   Docker network), WORKER_PUBLIC_HOST (what the Manager hands out as worker_url; default
 *   NODE_ID), RORY_MANAGER_IP_ADDR + RORY_MANAGER_PORT, MICTLANX_ROUTERS (id:host:port, parsed
 *   by lib/storage/routers.ts), MICTLANX_BUCKET_ID (default rory).
 *
 * Browser origins: none are allowed. Browsers reach these services only through the nginx
 * origin, which checks Origin itself and does not forward it (deploy/nginx/proxy-common.conf).
 * Prints one line `ready <role> <url>` once listening (and, for a worker, registered).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseRouterList } from '../lib/storage/routers';
import { AccessPolicy } from './common/http';
import { createManager } from './manager';
import { createMictlanxRouter } from './mictlanx';
import { createWorker } from './worker';

type Role = 'router' | 'manager' | 'worker';
const DEFAULT_PORTS: Record<Role, number> = { router: 63666, manager: 6001, worker: 9000 };

class ConfigError extends Error {}

const env = (name: string) => {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
};

function port(name: string, fallback: number): number {
  const text = env(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n > 65535) throw new ConfigError(`${name} must be a port number (got ${JSON.stringify(text)})`);
  return n;
}

function token(): string {
  const file = env('RORY_REGISTRATION_TOKEN_FILE');
  let value: string | undefined;
  if (file) {
    try {
      value = readFileSync(file, 'utf8').trim();
    } catch {
      throw new ConfigError(`RORY_REGISTRATION_TOKEN_FILE: cannot read ${file}`);
    }
  } else value = env('RORY_REGISTRATION_TOKEN');
  if (!value || value.length < 16) {
    throw new ConfigError('the worker registration token is missing or shorter than 16 characters: set RORY_REGISTRATION_TOKEN (e.g. openssl rand -base64 32) or RORY_REGISTRATION_TOKEN_FILE');
  }
  return value;
}

async function main() {
  const role = process.argv[2] as Role;
  if (!['router', 'manager', 'worker'].includes(role)) throw new ConfigError('usage: server/service.ts router|manager|worker');
  const host = env('NODE_HOST') ?? '0.0.0.0';
  const listenPort = port('NODE_PORT', DEFAULT_PORTS[role]);
  const access = new AccessPolicy({ hosts: (env('ALLOW_HOSTS') ?? '').split(/[\s,]+/).filter(Boolean) });
  const log = (line: string) => console.log(`[${role}] ${line}`);
  let close: () => Promise<void>;
  let url: string;

  if (role === 'router') {
    const router = await createMictlanxRouter({ dataDir: resolve(env('DATA_DIR') ?? '/data'), port: listenPort, host, access });
    close = () => router.close();
    url = router.url;
  } else if (role === 'manager') {
    const manager = await createManager({ port: listenPort, host, access, registrationToken: token(), log });
    close = () => manager.close();
    url = manager.url;
  } else {
    const registrationToken = token();
    const nodeId = env('NODE_ID') ?? hostname();
    const managerHost = env('RORY_MANAGER_IP_ADDR') ?? 'manager';
    const managerPort = port('RORY_MANAGER_PORT', DEFAULT_PORTS.manager);
    const routers = parseRouterList(env('MICTLANX_ROUTERS') ?? 'mictlanx-router-0:router:63666', 'http');
    const worker = await createWorker({
      port: listenPort,
      host,
      publicHost: env('WORKER_PUBLIC_HOST') ?? nodeId,
      managerUrl: `http://${managerHost}:${managerPort}`,
      nodeId,
      access,
      registrationToken,
      store: { routers, bucket: env('MICTLANX_BUCKET_ID') ?? 'rory', producerId: nodeId },
      log,
    });
    close = () => worker.close();
    await worker.registered;
    url = worker.url;
  }
  console.log(`ready ${role} ${url}`);
  const stop = async () => {
    await close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: NodeJS.ErrnoException) => {
  if (e.code === 'EADDRINUSE') console.error(`NODE_PORT ${process.env.NODE_PORT ?? ''} is already in use.`);
  else console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
