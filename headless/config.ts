/**
 * @module headless/config
 * The headless Data Owner's configuration (spec/protocol.md §10, D6): the 28 upstream client
 * variables of lib/config.ts read from the process environment, with upstream's `.client.env`
 * loaded from `ENV_FILE_PATH` when `RORY_DEBUG` is on (values already in the environment win, as
 * python-dotenv does), plus the few variables only a service needs.
 *
 * Precedence: built-in defaults < env file (RORY_DEBUG=1) < process environment < CLI flags.
 *
 * Differences from the browser's schema, on purpose:
 * - `NODE_PORT` may be 0 (a free port; tests and `rory serve --port 0`).
 * - `RORY_MANAGER_PORT` may be 6000, upstream's manager port: browsers refuse it (Fetch "bad
 *   ports"), but the headless clients talk HTTP through node:http (`net/node-fetch.ts`).
 * - Upstream `.client.env` files name the storage with `MICTLANX_URI`
 *   (`mictlanx://id@host:port[,…]?protocol=http`); it is translated to `MICTLANX_ROUTERS` when that
 *   is not set.
 *
 * Headless-only variables (none is secret except the passphrase, which is never logged):
 * | Variable | Default | Meaning |
 * |---|---|---|
 * | `SERVER_IP_ADDR` | `127.0.0.1` | bind address of `rory serve` (upstream binds 0.0.0.0; this service has no authentication, like upstream, so it listens on loopback unless told otherwise) |
 * | `RORY_ACKNOWLEDGE` | – | algorithms whose plaintext uploads the operator accepts (D3), e.g. `SKMEANS,KNN` |
 * | `RORY_KEYS_PASSPHRASE` / `RORY_KEYS_PASSPHRASE_FILE` | – | protects the key store in `KEYS_PATH` |
 * | `RORY_KEEP_OBJECTS` | 0 | 1 keeps a job's objects in MictlanX after it ends (default: deleted) |
 * | `TESTING` | 0 | upstream's test mode: 1 calls workers at `localhost` instead of the manager's host name |
 *
 * Pure: the caller passes the environment and a file reader.
 */
import { z } from 'zod';
import { AppError } from '@/lib/errors';
import { DEFAULT_SETTINGS, SETTING_KEYS, parseEnvFile, parseRouterUrls, settingsSchema, type SettingKey, type Settings } from '@/lib/config';
import { parseRouterListSafe } from '@/lib/storage/routers';
import { acknowledgementKeys } from '@/lib/rory/algorithms/registry';
import { ALGORITHMS, type Algorithm } from '@/lib/rory/protocol';

const port = (min: number) =>
  z.coerce
    .number({ message: 'must be a port number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(65535, { message: 'must be at most 65535' });

/**
 * lib/config's fields with the two port rules a Node service does not need (see the module doc).
 * lib's schema also has cross-field rules: the browser-blocked Manager port (not ours, as above)
 * and MICTLANX_ROUTER_URLS naming only listed routers, which is repeated here.
 */
export const headlessSettingsSchema = z.object({ ...settingsSchema.shape, NODE_PORT: port(0), RORY_MANAGER_PORT: port(1) }).superRefine((s, ctx) => {
  if (s.MICTLANX_ROUTER_URLS === '') return;
  const listed = parseRouterListSafe(s.MICTLANX_ROUTERS);
  const parsed = parseRouterUrls(s.MICTLANX_ROUTER_URLS);
  const ids = new Set(listed.ok ? listed.routers.map((r) => r.id) : []);
  const unknown = parsed.ok ? parsed.urls.filter((u) => !ids.has(u.id)).map((u) => u.id) : [];
  if (unknown.length) ctx.addIssue({ code: 'custom', path: ['MICTLANX_ROUTER_URLS'], message: `not in the router list (MICTLANX_ROUTERS): ${unknown.join(', ')}` });
});

/** Variables only the headless Data Owner reads (module doc). */
export const HEADLESS_VARIABLES = ['SERVER_IP_ADDR', 'RORY_ACKNOWLEDGE', 'RORY_KEYS_PASSPHRASE', 'RORY_KEYS_PASSPHRASE_FILE', 'RORY_KEEP_OBJECTS', 'TESTING', 'MICTLANX_URI'] as const;

export interface HeadlessExtras {
  readonly serverIpAddr: string;
  /** Algorithm families the operator acknowledged (`SKMEANS`, `KNN`, `SKNN_PQC`, …). */
  readonly acknowledged: ReadonlySet<string>;
  /** The key-store passphrase, or where to read it. Never logged. */
  readonly passphrase?: string;
  readonly passphraseFile?: string;
  readonly keepObjects: boolean;
  /** TESTING=1: call workers at `localhost` (upstream's test mode). */
  readonly testing: boolean;
}

export interface HeadlessConfig {
  readonly settings: Settings;
  readonly extras: HeadlessExtras;
  /** The env file that was loaded (RORY_DEBUG=1), with what it contained that is not used. */
  readonly envFile?: { readonly path: string; readonly loaded: boolean; readonly ignored: readonly string[]; readonly malformed: readonly { line: number; reason: string }[] };
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads a text file, or undefined when it does not exist. */
export type ReadText = (path: string) => string | undefined;

const truthy = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());

/**
 * Every `KEY=VALUE` of an env file, with lib/config's value grammar (quotes, escapes, inline
 * comments): each line is parsed by `parseEnvFile` under a key it knows, so there is one grammar.
 */
export function envFileEntries(text: string): { values: Record<string, string>; malformed: { line: number; reason: string }[] } {
  const values: Record<string, string> = {};
  const malformed: { line: number; reason: string }[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
      if (!m) {
        malformed.push({ line: i + 1, reason: 'expected KEY=VALUE' });
        return;
      }
      const parsed = parseEnvFile(`ENV_FILE_PATH=${m[2]}`);
      const v = parsed.values.ENV_FILE_PATH;
      if (v === undefined) malformed.push({ line: i + 1, reason: `unterminated quote in ${m[1]}` });
      else values[m[1]] = v;
    });
  return { values, malformed };
}

/**
 * Translates upstream's `MICTLANX_URI` into MICTLANX_ROUTERS (`id:host:port …`) and its protocol.
 * @example mictlanxUriToRouters('mictlanx://mictlanx-router-0@localhost:63666?api_version=4&protocol=http')
 *   // → { routers: 'mictlanx-router-0:localhost:63666', protocol: 'http' }
 * @throws AppError CONFIG_INVALID naming what is wrong
 */
export function mictlanxUriToRouters(uri: string): { routers: string; protocol: 'http' | 'https' } {
  const m = /^mictlanx:\/\/([^?]+)(?:\?(.*))?$/.exec(uri.trim());
  const bad = (why: string) =>
    new AppError('CONFIG_INVALID', `MICTLANX_URI: ${why}`, {
      userMessage: `MICTLANX_URI is not a MictlanX URI (${why}). Write it as mictlanx://router-id@host:port?protocol=http, or set MICTLANX_ROUTERS=router-id:host:port instead.`,
    });
  if (!m) throw bad('it must start with mictlanx://');
  const routers = m[1].split(',').map((part) => {
    const r = /^([^@]+)@([^:@]+):(\d{1,5})$/.exec(part.trim());
    if (!r) throw bad(`"${part.slice(0, 60)}" is not id@host:port`);
    return `${r[1]}:${r[2]}:${r[3]}`;
  });
  const protocol = new URLSearchParams(m[2] ?? '').get('protocol') ?? 'https';
  if (protocol !== 'http' && protocol !== 'https') throw bad(`protocol ${protocol.slice(0, 20)} is neither http nor https`);
  return { routers: routers.join(' '), protocol };
}

/** The family an acknowledgement names: `KNN_TRAIN`, `KNN_PREDICT` and `KNN` are all `KNN`. */
export function ackFamily(name: string): string {
  return name.trim().toUpperCase().replace(/-/g, '_').replace(/_(TRAIN|PREDICT)$/, '');
}

/** The algorithm families whose jobs upload plaintext-derived data (those RORY_ACKNOWLEDGE may name). */
export function acknowledgeableFamilies(): string[] {
  const out = new Set<string>();
  for (const a of ALGORITHMS as readonly Algorithm[]) {
    if (acknowledgementKeys(a).length > 0) out.add(ackFamily(a));
  }
  return [...out].sort();
}

/** Parses RORY_ACKNOWLEDGE (`SKMEANS, KNN`); unknown names are an error that lists the valid ones. */
export function parseAcknowledge(text: string | undefined): Set<string> {
  const names = (text ?? '').split(/[\s,]+/).filter(Boolean).map(ackFamily);
  const valid = acknowledgeableFamilies();
  const unknown = names.filter((n) => !valid.includes(n));
  if (unknown.length > 0) {
    throw new AppError('CONFIG_INVALID', `RORY_ACKNOWLEDGE names ${unknown.join(', ')}`, {
      userMessage: `RORY_ACKNOWLEDGE lists ${unknown.join(', ')}, which upload nothing in plaintext or do not exist. Only these algorithms need an acknowledgement: ${valid.join(', ')}.`,
    });
  }
  return new Set(names);
}

/** Whether the configuration acknowledges what `algorithm` (a wire or job name) uploads in plaintext. */
export function isAcknowledged(extras: Pick<HeadlessExtras, 'acknowledged'>, algorithm: string): boolean {
  return extras.acknowledged.has(ackFamily(algorithm));
}

function configError(errors: Partial<Record<string, string>>): AppError {
  const lines = Object.entries(errors).map(([k, v]) => `${k}: ${v}`);
  return new AppError('CONFIG_INVALID', `invalid settings: ${lines.join('; ')}`, {
    userMessage: `The configuration is not valid: ${lines.join('; ')}. Fix the environment variable(s) (or the env file) and start again.`,
  });
}

/**
 * Builds the configuration from an environment, optional overrides (CLI flags) and an env file
 * named on the command line (`--env-file`, loaded whatever RORY_DEBUG says).
 * @throws AppError CONFIG_INVALID with one message per bad variable
 */
export function loadHeadlessConfig(
  env: Env,
  readText: ReadText,
  opts: { readonly overrides?: Partial<Record<string, string>>; readonly envFile?: string } = {},
): HeadlessConfig {
  const overrides = opts.overrides ?? {};
  const fromEnv = (k: string): string | undefined => overrides[k] ?? env[k];
  let fileValues: Record<string, string> = {};
  let envFile: HeadlessConfig['envFile'];
  if (opts.envFile !== undefined || truthy(fromEnv('RORY_DEBUG'))) {
    const path = opts.envFile ?? fromEnv('ENV_FILE_PATH') ?? DEFAULT_SETTINGS.ENV_FILE_PATH;
    const text = readText(path);
    if (text === undefined && opts.envFile !== undefined) {
      throw new AppError('CONFIG_INVALID', 'env file missing', { userMessage: `The env file ${path} does not exist or cannot be read. Check the path given with --env-file.` });
    }
    if (text !== undefined) {
      const parsed = envFileEntries(text);
      fileValues = parsed.values;
      const known = new Set<string>([...SETTING_KEYS, ...HEADLESS_VARIABLES]);
      envFile = { path, loaded: true, ignored: Object.keys(parsed.values).filter((k) => !known.has(k)), malformed: parsed.malformed };
    } else envFile = { path, loaded: false, ignored: [], malformed: [] };
  }
  const get = (k: string): string | undefined => fromEnv(k) ?? fileValues[k];

  const raw: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const k of SETTING_KEYS) {
    const v = get(k);
    if (v !== undefined && v.trim() !== '') raw[k] = v.trim();
  }
  const uri = get('MICTLANX_URI');
  if (get('MICTLANX_ROUTERS') === undefined && uri !== undefined && uri.trim() !== '') {
    const t = mictlanxUriToRouters(uri);
    raw.MICTLANX_ROUTERS = t.routers;
    if (get('MICTLANX_PROTOCOL') === undefined) raw.MICTLANX_PROTOCOL = t.protocol;
  }
  const r = headlessSettingsSchema.safeParse(raw);
  if (!r.success) {
    const errors: Partial<Record<SettingKey, string>> = {};
    for (const issue of r.error.issues) {
      const key = issue.path[0] as SettingKey;
      errors[key] ??= issue.message;
    }
    throw configError(errors);
  }
  const serverIpAddr = (get('SERVER_IP_ADDR') ?? '127.0.0.1').trim();
  if (!/^[A-Za-z0-9.:-]+$/.test(serverIpAddr)) throw configError({ SERVER_IP_ADDR: 'must be an IP address or host name' });
  return {
    settings: r.data as Settings,
    extras: {
      serverIpAddr,
      acknowledged: parseAcknowledge(get('RORY_ACKNOWLEDGE')),
      passphrase: get('RORY_KEYS_PASSPHRASE') || undefined,
      passphraseFile: get('RORY_KEYS_PASSPHRASE_FILE') || undefined,
      keepObjects: truthy(get('RORY_KEEP_OBJECTS')),
      testing: truthy(get('TESTING')),
    },
    envFile,
  };
}
