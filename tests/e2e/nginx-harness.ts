/**
 * Harness of the nginx end-to-end suite (issue 16; deploy/README.md): starts the local Rory
 * cloud as separate processes with the commands the Node services image runs
 * (`node --import tsx server/service.ts router|manager|worker`, configured by environment as in
 * deploy/compose.yaml), renders the repository's nginx configuration for loopback with
 * scripts/nginx-render.ts (the command the app image runs at start) and starts Debian's nginx
 * on a free port, serving out/ and proxying the cloud. Nothing here listens on a fixed port.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, stop, type Services } from '@/server/processes';

export { startServices, type Services } from '@/server/processes';
import { freePort } from '../helpers/net';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

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
