/**
 * @module headless/cli/main
 * The `rory` command (bin/rory.mjs): dispatches to serve, cloud, keys, run and experiment, prints
 * help (help.ts), and turns every failure into one message saying what went wrong and what to do.
 *
 * Exit codes: 0 success; 1 failure (the message says why); 2 a mistake on the command line;
 * 3 `rory run` refused a plaintext-uploading algorithm without --acknowledge; 4 a result failed
 * its verification.
 */
import { toAppError } from '@/lib/errors';
import { UsageError } from './common';
import { experimentCommand } from './experiment';
import { HELP, MAIN_HELP } from './help';
import { keysCommand } from './keys';
import { runCommand } from './run';
import { cloudCommand, serveCommand } from './serve';

const COMMANDS: Readonly<Record<string, (argv: string[]) => Promise<number>>> = {
  serve: serveCommand,
  cloud: cloudCommand,
  keys: keysCommand,
  run: runCommand,
  experiment: experimentCommand,
};

const isParseArgsError = (e: unknown): e is Error => {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    process.stdout.write(topic && HELP[topic] ? HELP[topic] : MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`rory: unknown command "${command}". Commands: ${Object.keys(COMMANDS).join(', ')}. See rory --help.\n`);
    return 2;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(HELP[command]);
    return 0;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError || isParseArgsError(e)) {
      process.stderr.write(`rory ${command}: ${e.message}\nSee rory ${command} --help.\n`);
      return 2;
    }
    const err = toAppError(e);
    process.stderr.write(`rory ${command}: ${err.userMessage} (${err.code})\n`);
    if (process.env.RORY_DEBUG === '1') process.stderr.write(`  developer detail: ${err.message}\n`);
    return 1;
  }
}
