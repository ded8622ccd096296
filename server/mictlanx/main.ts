/**
 * @module server/mictlanx/main
 * CLI for the local MictlanX-compatible router (spec/mictlanx.md §8.1), for manual use:
 *
 *   npx tsx server/mictlanx/main.ts --port 63666 --data-dir .data/mictlanx [--host 127.0.0.1]
 *     [--allow-origin http://127.0.0.1:3000,...] [--allow-host name,...] [--verbose]
 *
 * Browsers may use it only from the origins given with --allow-origin (default: the app on
 * http://127.0.0.1:3000 and http://localhost:3000); see docs/security-local-cloud.md.
 * Prints the URL and the MICTLANX_ROUTERS value to put in the app's settings. Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { AccessPolicy } from '../common/http';
import { createMictlanxRouter } from './index';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.MICTLANX_PORT ?? '63666' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string', default: '.data/mictlanx' },
    verbose: { type: 'boolean', default: false },
    'allow-origin': { type: 'string', multiple: true, default: ['http://127.0.0.1:3000,http://localhost:3000'] },
    'allow-host': { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', default: false },
  },
});

async function main() {
  if (values.help) {
    console.log('Usage: tsx server/mictlanx/main.ts [--port 63666] [--host 127.0.0.1] [--data-dir .data/mictlanx] [--allow-origin <origin,...>] [--allow-host <name,...>] [--verbose]');
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535, got ${values.port}`);
  const dataDir = resolve(values['data-dir']);
  const list = (xs: readonly string[]) => xs.flatMap((x) => x.split(/[\s,]+/)).filter(Boolean);
  const access = new AccessPolicy({ origins: list(values['allow-origin']), hosts: list(values['allow-host']) });
  const router = await createMictlanxRouter({ dataDir, port, host: values.host, access, log: values.verbose ? (l) => console.log(l) : undefined });
  console.log(`\n  MictlanX-compatible router at ${router.url}/api/v4  (data in ${dataDir})`);
  console.log(`  Settings: MICTLANX_ROUTERS=mictlanx-router-0:${values.host}:${router.port}  MICTLANX_PROTOCOL=http`);
  console.log(`  Browser origins allowed: ${access.allowedOrigins.join(', ')}`);
  console.log('  No authentication for non-browser clients: keep it on loopback. Press Ctrl-C to stop.\n');
  const stop = async () => {
    await router.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: NodeJS.ErrnoException) => {
  if (e.code === 'EADDRINUSE') console.error(`Port ${values.port} is already in use. Stop the other program or pass --port <free port>.`);
  else console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
