/**
 * `npm start`: serves the built app on loopback and prints its URL. Ctrl-C shuts down cleanly.
 * Options: --port <n> (default 3000), --host <addr> (default 127.0.0.1).
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { startStaticServer } from './static';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

async function main() {
  const app = await startStaticServer({ root: join(process.cwd(), 'out'), port: Number(values.port), host: values.host });
  console.log(`\n  Rory Data Owner is running at ${app.url}/\n  Press Ctrl-C to stop.\n`);
  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: NodeJS.ErrnoException) => {
  if (e.code === 'EADDRINUSE') console.error(`Port ${values.port} is already in use. Stop the other program or run: npm start -- --port <free port>`);
  else console.error(e);
  process.exit(1);
});
