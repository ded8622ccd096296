/**
 * Harness of the nginx end-to-end suite (issue 16; deploy/README.md): starts the local Rory
 * cloud as separate processes with the commands the Node services image runs
 * (`node --import tsx server/service.ts router|manager|worker`, configured by environment as in
 * deploy/compose.yaml), renders the repository's nginx configuration for loopback with
 * scripts/nginx-render.ts (the command the app image runs at start) and starts Debian's nginx
 * on a free port, serving out/ and proxying the cloud. Nothing here listens on a fixed port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

/** A child process with its output kept (for failure messages). */
interface Proc {
  readonly child: ChildProcess;
  readonly output: string[];
}

function start(cmd: string, args: string[], env: Record<string, string>): Proc {
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
function ready(p: Proc, role: string, timeoutMs = 60_000): Promise<string> {
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

async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface NginxUnderTest {
  readonly url: string;
  readonly confDir: string;
  /** The settings of the generated config.json. */
  readonly config: Record<string, unknown>;
  /** CSP violation reports nginx logged (report-uri), parsed. */
  cspReports(): Promise<unknown[]>;
  errorLog(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Renders deploy/nginx/ for loopback (every worker id at 127.0.0.1, like upstream's TESTING
 * mode) and starts nginx in the foreground on a free port.
 */
export async function startNginx(opts: { root: string; services: Pick<Services, 'routerUrl' | 'managerUrl'>; env?: Record<string, string> }): Promise<NginxUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'rory-nginx-'));
  // nginx's worker processes run as nobody when the test runs as root: let them in.
  await chmod(dir, 0o755);
  const confDir = join(dir, 'conf');
  const runDir = join(dir, 'run');
  const port = await freePort();
  const r = new URL(opts.services.routerUrl);
  const m = new URL(opts.services.managerUrl);
  const env = {
    RORY_MANAGER_IP_ADDR: m.hostname,
    RORY_MANAGER_PORT: m.port,
    MICTLANX_ROUTERS: `mictlanx-router-0:${r.hostname}:${r.port}`,
    RORY_WORKER_HOST: '127.0.0.1',
    NGINX_LISTEN: `127.0.0.1:${port}`,
    NGINX_SERVER_NAMES: '127.0.0.1 localhost',
    ...opts.env,
  };
  const render = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/nginx-render.ts', '--root', opts.root, '--conf-dir', confDir, '--run-dir', runDir, '--worker-processes', '1'], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (render.status !== 0) throw new Error(`nginx-render failed:\n${render.stdout}\n${render.stderr}`);
  const nginx = start(NGINX, ['-e', join(runDir, 'error.log'), '-c', join(confDir, 'nginx.conf'), '-g', 'daemon off;'], {});
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`${url}/clustering/test`).then((res) => res.ok, () => false);
    if (ok) break;
    if (nginx.child.exitCode !== null || Date.now() > deadline) {
      await stop(nginx);
      const log = await readFile(join(runDir, 'error.log'), 'utf8').catch(() => '');
      throw new Error(`nginx did not start:\n${nginx.output.join('')}\n${log}`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  const config = (JSON.parse(await readFile(join(confDir, 'config.json'), 'utf8')) as { settings: Record<string, unknown> }).settings;
  return {
    url,
    confDir,
    config,
    async cspReports() {
      const text = await readFile(join(runDir, 'csp-reports.log'), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const entry = JSON.parse(line) as { report: string };
          try {
            return JSON.parse(entry.report) as unknown;
          } catch {
            return entry.report;
          }
        });
    },
    errorLog: () => readFile(join(runDir, 'error.log'), 'utf8').catch(() => ''),
    async close() {
      // SIGQUIT: graceful shutdown of the master and its workers.
      await stop(nginx, 'SIGQUIT');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
