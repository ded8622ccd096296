/**
 * @module headless/cli/common
 * What every `rory` command shares: reading the configuration (environment, `--env-file`,
 * overrides from flags) and saying what was ignored in an env file; number options with messages
 * that name the option; waiting for Ctrl-C; usage errors that point at the command's help.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AppError } from '@/lib/errors';
import { loadHeadlessConfig, type HeadlessConfig } from '../config';

/** A mistake on the command line: printed with a pointer to the command's --help, exit code 2. */
export class UsageError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The option every command takes (MAIN_HELP documents it once for all). */
export const ENV_FILE_OPTION = { 'env-file': { type: 'string' } } as const;

export function readTextSync(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The configuration, with warnings about the env file on stderr (unless `quiet`). */
export function loadConfig(envFile: string | undefined, overrides: Record<string, string | undefined> = {}, o: { quiet?: boolean } = {}): HeadlessConfig {
  const defined = Object.fromEntries(Object.entries(overrides).filter((e): e is [string, string] => e[1] !== undefined));
  const config = loadHeadlessConfig(process.env, readTextSync, { envFile, overrides: defined });
  const f = config.envFile;
  if (o.quiet) return config;
  if (f?.loaded) {
    if (f.ignored.length) console.error(`note: ${f.path}: not used by the headless Data Owner: ${f.ignored.join(', ')}`);
    for (const m of f.malformed) console.error(`warning: ${f.path} line ${m.line}: ${m.reason} (skipped)`);
  } else if (f && !f.loaded) console.error(`note: RORY_DEBUG is on but ${f.path} (ENV_FILE_PATH) does not exist; using the environment only`);
  return config;
}

/** Parses an integer option, naming it in the error. */
export function intOption(command: string, name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || n < min || n > max) throw new UsageError(command, `--${name} must be a whole number from ${min} to ${max} (got "${v}")`);
  return n;
}

export function numberOption(command: string, name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(command, `--${name} must be a number (got "${v}")`);
  return n;
}

export function listOption(xs: readonly string[] | string | undefined): string[] {
  const list = xs === undefined ? [] : typeof xs === 'string' ? [xs] : xs;
  return list.flatMap((x) => x.split(/[\s,]+/)).filter(Boolean);
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = () => on('SIGINT');
    const onTerm = () => on('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

/** An AppError for a file the command needs (missing plan, unreadable output directory…). */
export function fileError(what: string, path: string, todo: string, cause?: unknown): AppError {
  return new AppError('INVALID_ARGUMENT', `${what}: ${path}`, { cause, userMessage: `${what} ${path}: ${todo}` });
}

/** Reads a UTF-8 file the command was given; an unreadable one is a `fileError` naming it (`what`, e.g. "The plan file"). */
export async function readTextFile(what: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw fileError(what, path, 'cannot be read. Check the path.', e);
  }
}
