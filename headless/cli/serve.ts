/**
 * @module headless/cli/serve
 * `rory serve` and `rory cloud` (help.ts SERVE_HELP, CLOUD_HELP): start the Data Owner service or
 * the local cloud, print where they listen, and stop cleanly on Ctrl-C / SIGTERM.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BROWSER_BLOCKED_PORTS } from '@/lib/config';
import { startLocalCloud } from '@/server/cloud';
import { createRuntime } from '../jobs/runtime';
import { startService } from '../serve/service';
import type { CloudInfo } from '../cloud/child';
import { ENV_FILE_OPTION, intOption, listOption, loadConfig, UsageError, untilSignal } from './common';

/** The options `parseArgs` accepts (help.ts documents each; a unit test checks). */
export const SERVE_OPTIONS = {
  ...ENV_FILE_OPTION,
  port: { type: 'string' },
  host: { type: 'string' },
  'allow-host': { type: 'string', multiple: true, default: [] as string[] },
  quiet: { type: 'boolean', default: false },
} as const;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: SERVE_OPTIONS });
  const port = intOption('serve', 'port', values.port, 0, 65535);
  const config = loadConfig(values['env-file'], { NODE_PORT: port === undefined ? undefined : String(port), SERVER_IP_ADDR: values.host });
  const rt = await createRuntime(config);
  for (const n of rt.notes) console.error(`note: ${n}`);
  const s = config.settings;
  const svc = await startService(rt, {
    host: config.extras.serverIpAddr,
    port: s.NODE_PORT,
    allowHosts: listOption(values['allow-host']),
    accessLog: values.quiet ? undefined : (line) => console.log(line),
  });
  if (!(await stat(s.SOURCE_PATH).then((x) => x.isDirectory()).catch(() => false))) {
    console.error(`note: SOURCE_PATH ${s.SOURCE_PATH} is not a directory yet: requests will find no dataset until it exists.`);
  }
  const keys = await rt.keyFile.list();
  const ack = [...config.extras.acknowledged];
  console.log(
    [
      `rory serve: listening on ${svc.url}`,
      `  SOURCE_PATH ${s.SOURCE_PATH}   SINK_PATH ${s.SINK_PATH}   LOG_PATH ${s.LOG_PATH}`,
      `  KEYS_PATH ${rt.keyFile.file} (${keys.length} key${keys.length === 1 ? '' : 's'}${rt.keyFile.persistent ? '' : ', memory only'})`,
      `  manager http://${s.RORY_MANAGER_IP_ADDR}:${s.RORY_MANAGER_PORT}   MictlanX ${s.MICTLANX_ROUTERS} (bucket ${s.MICTLANX_BUCKET_ID})`,
      `  plaintext uploads acknowledged for: ${ack.length ? ack.join(', ') : 'none (those routes answer 403)'}`,
      '  Press Ctrl-C to stop.',
    ].join('\n'),
  );
  await untilSignal();
  console.log('rory serve: stopping');
  await svc.close();
  rt.close();
  return 0;
}

function cloudPort(name: string, v: string): number {
  const n = intOption('cloud', name, v, 0, 65535)!;
  if (BROWSER_BLOCKED_PORTS.has(n)) throw new UsageError('cloud', `--${name} ${n}: browsers (and Node's fetch) refuse to connect to this port; choose another one`);
  return n;
}

/** The options `parseArgs` accepts (help.ts documents each; a unit test checks). */
export const CLOUD_OPTIONS = {
  ...ENV_FILE_OPTION,
  host: { type: 'string', default: '127.0.0.1' },
  'router-port': { type: 'string', default: '63666' },
  'manager-port': { type: 'string', default: '6001' },
  'worker-ports': { type: 'string', default: '9000,9001' },
  'data-dir': { type: 'string', default: '.data/cloud' },
  'allow-origin': { type: 'string', multiple: true, default: [] as string[] },
  json: { type: 'boolean', default: false },
} as const;

export async function cloudCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: CLOUD_OPTIONS });
  const workerPorts = listOption(values['worker-ports']).map((p) => cloudPort('worker-ports', p));
  if (workerPorts.length === 0) throw new UsageError('cloud', '--worker-ports must list at least one port (0 = any free port)');
  const cloud = await startLocalCloud({
    dataDir: resolve(values['data-dir']),
    host: values.host,
    routerPort: cloudPort('router-port', values['router-port']),
    managerPort: cloudPort('manager-port', values['manager-port']),
    workerPorts,
    allowedOrigins: listOption(values['allow-origin']),
  });
  const router = new URL(cloud.routerUrl);
  const manager = new URL(cloud.managerUrl);
  const info: CloudInfo = {
    routerUrl: cloud.routerUrl,
    managerUrl: cloud.managerUrl,
    workerUrls: cloud.workerUrls,
    settings: { MICTLANX_ROUTERS: `mictlanx-router-0:${router.hostname}:${router.port}`, RORY_MANAGER_IP_ADDR: manager.hostname, RORY_MANAGER_PORT: manager.port },
  };
  if (values.json) console.log(JSON.stringify(info));
  else {
    console.log(
      [
        'rory cloud: a local Rory cloud is running',
        `  MictlanX router  ${cloud.routerUrl}`,
        `  Rory Manager     ${cloud.managerUrl}`,
        ...cloud.workerUrls.map((u, i) => `  Rory Worker ${i}    ${u}`),
        '',
        '  Point the Data Owner at it with:',
        `    export MICTLANX_ROUTERS=${info.settings.MICTLANX_ROUTERS} RORY_MANAGER_IP_ADDR=${info.settings.RORY_MANAGER_IP_ADDR} RORY_MANAGER_PORT=${info.settings.RORY_MANAGER_PORT}`,
        '',
        '  Press Ctrl-C to stop.',
      ].join('\n'),
    );
  }
  await untilSignal();
  await cloud.close();
  return 0;
}
