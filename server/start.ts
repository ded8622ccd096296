/**
 * `npm start`: builds are done by the npm script; this serves the static app on loopback together
 * with the local Rory cloud (MictlanX-compatible router, Manager, two Workers), and writes the
 * cloud's addresses into the app's `config.json` so the default settings point at it.
 * `npm run cloud` (--cloud-only) starts the cloud alone. Ctrl-C shuts everything down cleanly.
 *
 * Options (all optional): --port 3000 --host 127.0.0.1 --router-port 63666 --manager-port 6001
 * --worker-ports 9000,9001 --data-dir .data/cloud --cloud-only --no-cloud
 * Security (docs/security-local-cloud.md):
 *   --allow-origin <origin,...>  more browser origins allowed to use the cloud (the app's own
 *                                origin, http://127.0.0.1:<port> and http://localhost:<port>, always is)
 *   --allow-host <name,...>      more Host names the servers answer to (DNS-rebinding guard)
 *   --connect-src <origin,...>   more origins the app's CSP lets the page connect to (another cloud)
 * The worker registration token is generated at start and printed here, nowhere else.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BROWSER_BLOCKED_PORTS } from '../lib/config';
import { appOrigins, startLocalCloud } from './cloud';
import { startStaticServer } from './static';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    host: { type: 'string', default: '127.0.0.1' },
    'router-port': { type: 'string', default: '63666' },
    'manager-port': { type: 'string', default: '6001' },
    'worker-ports': { type: 'string', default: '9000,9001' },
    'data-dir': { type: 'string', default: join('.data', 'cloud') },
    'cloud-only': { type: 'boolean', default: false },
    'no-cloud': { type: 'boolean', default: false },
    'allow-origin': { type: 'string', multiple: true, default: [] },
    'allow-host': { type: 'string', multiple: true, default: [] },
    'connect-src': { type: 'string', multiple: true, default: [] },
  },
});

const port = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number (got ${text})`);
  if (BROWSER_BLOCKED_PORTS.has(n)) throw new Error(`--${name} ${n}: browsers (and Node's fetch) refuse to connect to this port. Choose another one.`);
  return n;
};

/** Comma- or space-separated lists, flags repeatable. */
const list = (xs: readonly string[]) => xs.flatMap((x) => x.split(/[\s,]+/)).filter(Boolean);

async function main() {
  const host = values.host;
  const closers: (() => Promise<void>)[] = [];
  let config: (() => unknown) | undefined;
  const lines: string[] = [];
  const extraOrigins = list(values['allow-origin']);
  const extraHosts = list(values['allow-host']);
  const connectExtra = list(values['connect-src']);
  const appPort = port('port', values.port);

  let cloud: Awaited<ReturnType<typeof startLocalCloud>> | undefined;
  if (!values['no-cloud']) {
    cloud = await startLocalCloud({
      dataDir: resolve(values['data-dir']),
      host,
      routerPort: port('router-port', values['router-port']),
      managerPort: port('manager-port', values['manager-port']),
      workerPorts: values['worker-ports'].split(',').map((p) => port('worker-ports', p.trim())),
      // The app's own origin (known here unless --port 0; then added once the app listens).
      allowedOrigins: [...(appPort > 0 ? appOrigins(host, appPort) : []), ...extraOrigins],
      allowedHosts: extraHosts,
    });
    closers.push(() => cloud!.close());
    const router = new URL(cloud.routerUrl);
    const manager = new URL(cloud.managerUrl);
    config = () => ({
      settings: {
        RORY_MANAGER_IP_ADDR: manager.hostname,
        RORY_MANAGER_PORT: Number(manager.port),
        MICTLANX_ROUTERS: `mictlanx-router-0:${router.hostname}:${router.port}`,
        MICTLANX_PROTOCOL: 'http',
      },
    });
    lines.push(`  MictlanX router  ${cloud.routerUrl}`, `  Rory Manager     ${cloud.managerUrl}`);
    cloud.workerUrls.forEach((u, i) => lines.push(`  Rory Worker ${i}    ${u}`));
  }

  let appUrl: string | undefined;
  let connectSrc: string[] = connectExtra;
  if (!values['cloud-only']) {
    const app = await startStaticServer({
      root: join(process.cwd(), 'out'),
      port: appPort,
      host,
      config,
      connectSrc: [...(cloud?.workerUrls ?? []), ...connectExtra],
      allowedHosts: extraHosts,
      log: (line) => console.warn(`[app] ${line}`),
    });
    closers.push(() => app.close());
    appUrl = app.url;
    connectSrc = app.connectSrc();
    cloud?.allowOrigin(...appOrigins(host, app.port));
    lines.unshift(`  Rory Data Owner  ${app.url}/   ← open this in your browser`);
  }
  if (cloud) {
    lines.push(
      '',
      `  Origins allowed to use the cloud: ${cloud.access.allowedOrigins.join(', ')}`,
      `  Worker registration token: ${cloud.registrationToken}`,
      '    (an external worker registers with Authorization: Bearer <token>; it changes at every start)',
    );
  }
  if (appUrl) lines.push(`  The app may connect to (CSP connect-src): 'self' ${connectSrc.join(' ')}`);

  console.log(`\n${lines.join('\n')}\n\n  Press Ctrl-C to stop.\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nShutting down…');
    for (const close of closers.reverse()) await close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: NodeJS.ErrnoException) => {
  if (e.code === 'EADDRINUSE') {
    console.error(`A port is already in use (${e.message}). Stop the other program or choose ports, e.g. npm start -- --port 3100 --manager-port 6100`);
  } else console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
