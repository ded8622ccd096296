/**
 * @module server/processes
 * The local Rory cloud as compose runs it: one process per service (`server/service.ts router|
 * manager|worker`), configured by environment, with a fresh registration token. Used by the nginx
 * end-to-end suite and by benches that need workers on their own cores (in `startLocalCloud` every
 * service shares one event loop, so two workers there cannot compute in parallel).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** A child process with its output kept (for failure messages). */
export interface Proc {
  readonly child: ChildProcess;
  readonly output: string[];
}

export function start(cmd: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(cmd, args, { cwd: process.cwd(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (b: Buffer) => {
    output.push(b.toString('utf8'));
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output };
}

/** Resolves with the URL of the `ready <role> <url>` line of a service. */
export function ready(p: Proc, role: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${role} did not start within ${timeoutMs} ms:\n${p.output.join('')}`)), timeoutMs);
    p.child.stdout?.on('data', (b: Buffer) => {
      text += b.toString('utf8');
      const m = new RegExp(`^ready ${role} (\\S+)$`, 'm').exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    p.child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited with ${code}:\n${p.output.join('')}`));
    });
  });
}

export async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      p.child.kill('SIGKILL');
      resolve();
    }, 5_000);
    p.child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.child.kill(signal);
  });
}

export interface Services {
  readonly routerUrl: string;
  readonly managerUrl: string;
  readonly workerUrls: readonly string[];
  readonly registrationToken: string;
  close(): Promise<void>;
}

const SERVICE = ['--import', 'tsx', 'server/service.ts'];

/** The local cloud as compose runs it: one process per service, the token from the environment. */
export async function startServices(dataDir: string, workers = 2): Promise<Services> {
  const registrationToken = randomBytes(32).toString('base64url');
  const common = { NODE_HOST: '127.0.0.1', NODE_PORT: '0', RORY_REGISTRATION_TOKEN: registrationToken };
  const procs: Proc[] = [];
  const close = async () => {
    for (const p of procs.reverse()) await stop(p);
  };
  try {
    const router = start(process.execPath, [...SERVICE, 'router'], { ...common, DATA_DIR: dataDir, RORY_REGISTRATION_TOKEN: '' });
    procs.push(router);
    const manager = start(process.execPath, [...SERVICE, 'manager'], common);
    procs.push(manager);
    const [routerUrl, managerUrl] = await Promise.all([ready(router, 'router'), ready(manager, 'manager')]);
    const r = new URL(routerUrl);
    const m = new URL(managerUrl);
    const workerProcs = Array.from({ length: workers }, (_, i) =>
      start(process.execPath, [...SERVICE, 'worker'], {
        ...common,
        NODE_ID: `rory-worker-${i}`,
        WORKER_PUBLIC_HOST: '127.0.0.1',
        RORY_MANAGER_IP_ADDR: m.hostname,
        RORY_MANAGER_PORT: m.port,
        MICTLANX_ROUTERS: `mictlanx-router-0:${r.hostname}:${r.port}`,
      }),
    );
    procs.push(...workerProcs);
    const workerUrls = await Promise.all(workerProcs.map((p) => ready(p, 'worker')));
    return { routerUrl, managerUrl, workerUrls, registrationToken, close };
  } catch (e) {
    await close();
    throw e;
  }
}

