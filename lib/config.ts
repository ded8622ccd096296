/**
 * @module config
 * The Data Owner's settings: every variable of the upstream client's configuration table
 * (spec/protocol.md §10) with the upstream defaults (D6), validated with a schema, plus import
 * and export of upstream `.client.env` files (KEY=VALUE lines). One setting is the browser's own:
 * JOB_SIZE_BUDGET_MB, the largest job the app starts (issue #13 item 3).
 *
 * Precedence: built-in defaults < deployment `config.json` < settings the user saved.
 * Pure: no I/O here (see lib/settings-store.ts).
 *
 * Proxied deployments (issue 16, deploy/README.md): besides host:port, the Manager, the Workers
 * and the routers can be addressed by base URL, absolute or a path on the app's own origin
 * (`RORY_MANAGER_URL=/rory/manager`, `RORY_WORKER_URL_TEMPLATE=/rory/workers/{worker_id}/{worker_port}`,
 * `MICTLANX_ROUTER_URLS=mictlanx-router-0=/mictlanx/mictlanx-router-0`). Empty = not set: the
 * upstream variables (D6) apply as before. Paths resolve against the page's origin.
 */
import { z } from 'zod';
import { parseRouterList, parseRouterListSafe, routerUrl, splitRouterList } from './storage/routers';

/** How a variable is used in the browser, shown next to it in the UI. */
export type Applicability = 'used' | 'replaced' | 'compat';

export interface SettingSpec {
  readonly key: SettingKey;
  readonly label: string;
  readonly group: 'Node' | 'Rory' | 'Liu' | 'CKKS' | 'Keys' | 'MictlanX' | 'Paths';
  readonly help: string;
  /** `used`: used as is. `replaced`: no meaning in a browser; `note` says what replaces it. `compat`: accepted, not used. */
  readonly applicability: Applicability;
  readonly note?: string;
  readonly kind: 'string' | 'int' | 'bool' | 'enum';
  readonly options?: readonly string[];
}

/**
 * Ports browsers refuse to fetch from (WHATWG Fetch "bad ports"). Upstream's manager port 6000
 * (X11) is one of them, so the local cloud's manager listens on 6001 instead.
 */
export const BROWSER_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
  119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
  989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);
const BLOCKED_PORT_MESSAGE = 'browsers refuse to connect to this port (it is on the Fetch "bad ports" list, e.g. 6000 for X11); use another port or a proxy';

const BASE_URL_HINT = 'must be a path on this site (e.g. /rory/manager) or an http(s) URL without query or fragment (e.g. https://rory.example/rory/manager)';
const PATH = /^(\/[A-Za-z0-9._~%-]+)*\/?$/;

/**
 * Why `value` is not a usable base URL (a path starting with `/`, or an http(s) URL with no
 * credentials, query or fragment, on a port browsers fetch), or null when it is.
 */
export function baseUrlProblem(value: string): string | null {
  const v = value.trim();
  if (v.startsWith('/')) return v.startsWith('//') || !PATH.test(v) || v.split('/').some((seg) => seg === '..' || seg === '.') ? BASE_URL_HINT : null;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return BASE_URL_HINT;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return BASE_URL_HINT;
  if (u.username || u.password || u.search || u.hash || v.includes('?') || v.includes('#')) return BASE_URL_HINT;
  if (!PATH.test(u.pathname)) return BASE_URL_HINT;
  if (u.port && BROWSER_BLOCKED_PORTS.has(Number(u.port))) return BLOCKED_PORT_MESSAGE;
  return null;
}

/** Why `template` is not a usable worker URL template, or null. */
export function workerUrlTemplateProblem(template: string): string | null {
  const t = template.trim();
  if (!t.includes('{worker_id}')) return 'must contain {worker_id} (e.g. /rory/workers/{worker_id}/{worker_port})';
  if (/\{(?!worker_id\}|worker_port\})/.test(t)) return 'the only placeholders are {worker_id} and {worker_port}';
  // Check the URL with placeholders filled by values of the right shape.
  const filled = t.replaceAll('{worker_id}', 'rory-worker-0').replaceAll('{worker_port}', '9000');
  return baseUrlProblem(filled);
}

/** One `id=url` entry of MICTLANX_ROUTER_URLS. */
export interface RouterUrlOverride {
  readonly id: string;
  readonly url: string;
}

/**
 * Parses MICTLANX_ROUTER_URLS: `id=url` entries (spaces or commas between them) giving the base
 * URL of routers listed in MICTLANX_ROUTERS. The router list itself is parsed only by
 * lib/storage/routers.ts; this only maps its ids to URLs.
 */
export function parseRouterUrls(text: string): { ok: true; urls: RouterUrlOverride[] } | { ok: false; reason: string } {
  const urls: RouterUrlOverride[] = [];
  for (const entry of splitRouterList(text)) {
    const eq = entry.indexOf('=');
    const id = eq > 0 ? entry.slice(0, eq) : '';
    const url = eq > 0 ? entry.slice(eq + 1).replace(/\/+$/, '') : '';
    if (!id || !url) return { ok: false, reason: `each entry must be router-id=url (e.g. mictlanx-router-0=/mictlanx/mictlanx-router-0); ${JSON.stringify(entry.slice(0, 80))} is not` };
    const problem = baseUrlProblem(url);
    if (problem) return { ok: false, reason: `the URL of ${id} ${problem}` };
    if (urls.some((u) => u.id === id)) return { ok: false, reason: `router ${id} is listed twice` };
    urls.push({ id, url });
  }
  return { ok: true, urls };
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9a-fA-F:]+\]$/;
const MICTLANX_ID = /^[a-zA-Z0-9]+([a-zA-Z0-9]|[-_](?=[a-zA-Z0-9]))*$/;

const int = (min: number, max: number, what: string) =>
  z.coerce
    .number({ message: `${what} must be a whole number` })
    .int({ message: `${what} must be a whole number` })
    .min(min, { message: `${what} must be at least ${min}` })
    .max(max, { message: `${what} must be at most ${max}` });

const bool01 = z
  .union([z.boolean(), z.enum(['0', '1', 'true', 'false'])], { message: 'must be 0 or 1' })
  .transform((v) => v === true || v === '1' || v === 'true');

/** A text setting that `problem` checks (null = fine; otherwise the message shown under the field). */
const checkedText = (base: z.ZodString, problem: (v: string) => string | null) =>
  base.superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  });
/** An optional URL setting (empty = not set), checked by `problem`, without trailing slashes. */
const optionalUrl = (what: string, problem: (v: string) => string | null) =>
  checkedText(z.string().trim().max(500, { message: `${what} is too long` }), (v) => (v === '' ? null : problem(v))).transform((v) => v.replace(/\/+$/, ''));
const text = (what: string, max = 200) =>
  z.string().trim().min(1, { message: `${what} must not be empty` }).max(max, { message: `${what} is too long` });

export const settingsSchema = z.object({
  NODE_ID: text('Node id', 100),
  NODE_IP_ADDR: z.string().trim().regex(HOST, { message: 'must be a host name or IP address' }),
  NODE_PORT: int(1, 65535, 'Port'),
  RORY_MANAGER_IP_ADDR: z.string().trim().regex(HOST, { message: 'must be a host name or IP address (no scheme, no port)' }),
  // Browser-blocked ports are refused below unless RORY_MANAGER_URL is set (then the browser
  // never connects to this port: a proxy does, e.g. to upstream's 6000).
  RORY_MANAGER_PORT: int(1, 65535, 'Port'),
  RORY_MANAGER_URL: optionalUrl('Manager URL', baseUrlProblem),
  RORY_WORKER_URL_TEMPLATE: optionalUrl('Worker URL template', workerUrlTemplateProblem),
  MAX_WORKERS: int(1, 16, 'Max workers'),
  MAX_ITERATIONS: int(1, 1000, 'Max iterations'),
  WORKER_TIMEOUT: int(1, 86400, 'Worker timeout'),
  RORY_DEBUG: bool01,
  LIU_SECURITY_LEVEL: z.coerce
    .number({ message: 'must be 128, 192 or 256' })
    .refine((v) => v === 128 || v === 192 || v === 256, { message: 'must be 128, 192 or 256' }),
  LIU_DECIMALS: int(0, 15, 'Liu decimals'),
  LIU_ROUND: bool01,
  LIU_SEED: int(0, 2 ** 32 - 1, 'Liu seed'),
  CKKS_DECIMALS: int(0, 15, 'CKKS decimals'),
  CKKS_ROUND: bool01,
  PUBKEY_FILENAME: z.string().trim().regex(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be a plain file name' }),
  SECRET_KEY_FILENAME: z.string().trim().regex(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be a plain file name' }),
  NUM_CHUNKS: int(1, 1024, 'Number of chunks'),
  JOB_SIZE_BUDGET_MB: int(1, 1_000_000, 'Job size budget'),
  // One parser for the list (lib/storage/routers.ts); the browser's port rule is added here.
  MICTLANX_ROUTERS: checkedText(z.string().trim().min(1, { message: 'list at least one router as id:host:port' }), (v) => {
    const r = parseRouterListSafe(v);
    if (!r.ok) return r.problem.reason;
    return r.routers.some((x) => BROWSER_BLOCKED_PORTS.has(x.port)) ? `a router port: ${BLOCKED_PORT_MESSAGE}` : null;
  }),
  MICTLANX_ROUTER_URLS: checkedText(z.string().trim().max(4000, { message: 'Router URLs are too long' }), (v) => {
    const r = parseRouterUrls(v);
    return r.ok ? null : r.reason;
  }),
  MICTLANX_BUCKET_ID: z.string().trim().regex(MICTLANX_ID, { message: 'must be letters and digits, optionally joined by single - or _' }),
  MICTLANX_TIMEOUT: int(1, 3600, 'MictlanX timeout'),
  MICTLANX_MAX_RETRIES: int(0, 100, 'MictlanX retries'),
  MICTLANX_PROTOCOL: z.enum(['http', 'https'], { message: 'must be http or https' }),
  SOURCE_PATH: text('Source path'),
  SINK_PATH: text('Sink path'),
  LOG_PATH: text('Log path'),
  KEYS_PATH: text('Keys path'),
  ENV_FILE_PATH: text('Env file path'),
}).superRefine((s, ctx) => {
  if (s.RORY_MANAGER_URL === '' && BROWSER_BLOCKED_PORTS.has(s.RORY_MANAGER_PORT)) {
    ctx.addIssue({ code: 'custom', path: ['RORY_MANAGER_PORT'], message: `${BLOCKED_PORT_MESSAGE} (or set the Manager URL of a proxy)` });
  }
  if (s.MICTLANX_ROUTER_URLS !== '') {
    const listed = parseRouterListSafe(s.MICTLANX_ROUTERS);
    const parsed = parseRouterUrls(s.MICTLANX_ROUTER_URLS);
    const ids = new Set(listed.ok ? listed.routers.map((r) => r.id) : []);
    const unknown = parsed.ok ? parsed.urls.filter((u) => !ids.has(u.id)).map((u) => u.id) : [];
    if (unknown.length) ctx.addIssue({ code: 'custom', path: ['MICTLANX_ROUTER_URLS'], message: `not in the router list (MICTLANX_ROUTERS): ${unknown.join(', ')}` });
  }
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingKey = keyof Settings;
/** Settings as edited in a form or read from an env file: every value a string. */
export type RawSettings = Partial<Record<SettingKey, string | number | boolean>>;

/** Upstream client defaults (spec/protocol.md §10; D6), pointing at the local Rory cloud of `npm start`. */
export const DEFAULT_SETTINGS: Settings = Object.freeze({
  NODE_ID: 'rory-client-0',
  NODE_IP_ADDR: '127.0.0.1',
  NODE_PORT: 3000,
  RORY_MANAGER_IP_ADDR: '127.0.0.1',
  // Upstream uses 6000, which browsers block (BROWSER_BLOCKED_PORTS); the local cloud uses 6001.
  RORY_MANAGER_PORT: 6001,
  RORY_MANAGER_URL: '',
  RORY_WORKER_URL_TEMPLATE: '',
  MAX_WORKERS: 2,
  MAX_ITERATIONS: 10,
  WORKER_TIMEOUT: 300,
  RORY_DEBUG: false,
  LIU_SECURITY_LEVEL: 128,
  LIU_DECIMALS: 6,
  LIU_ROUND: false,
  LIU_SEED: 123,
  CKKS_DECIMALS: 2,
  CKKS_ROUND: false,
  PUBKEY_FILENAME: 'pubkey',
  SECRET_KEY_FILENAME: 'secretkey',
  NUM_CHUNKS: 4,
  // Not an upstream variable: the browser's own limit (issue #13 item 3), 1 GB.
  JOB_SIZE_BUDGET_MB: 1000,
  MICTLANX_ROUTERS: 'mictlanx-router-0:127.0.0.1:63666',
  MICTLANX_ROUTER_URLS: '',
  MICTLANX_BUCKET_ID: 'rory',
  MICTLANX_TIMEOUT: 120,
  MICTLANX_MAX_RETRIES: 10,
  MICTLANX_PROTOCOL: 'http',
  SOURCE_PATH: '/rory/source',
  SINK_PATH: '/rory/sink',
  LOG_PATH: '/rory/log',
  KEYS_PATH: '/rory/keys',
  ENV_FILE_PATH: '.env.dev',
});

export const SETTING_SPECS: readonly SettingSpec[] = Object.freeze([
  { key: 'NODE_ID', label: 'Node id', group: 'Node', kind: 'string', applicability: 'used', help: 'Name of this Data Owner; sent as the MictlanX producer id.' },
  { key: 'NODE_IP_ADDR', label: 'Node address', group: 'Node', kind: 'string', applicability: 'replaced', help: 'Address of the upstream client service.', note: 'The browser app has no listening address: it is served from the page origin. Kept for .client.env round trips.' },
  { key: 'NODE_PORT', label: 'Node port', group: 'Node', kind: 'int', applicability: 'replaced', help: 'Port of the upstream client service.', note: 'Replaced by the port the app is served on (npm start prints it). Kept for .client.env round trips.' },
  { key: 'RORY_MANAGER_IP_ADDR', label: 'Manager address', group: 'Rory', kind: 'string', applicability: 'used', help: 'Host of the Rory Manager (no scheme, no port).' },
  { key: 'RORY_MANAGER_PORT', label: 'Manager port', group: 'Rory', kind: 'int', applicability: 'used', help: 'Port of the Rory Manager.' },
  { key: 'RORY_MANAGER_URL', label: 'Manager URL', group: 'Rory', kind: 'string', applicability: 'used', help: 'Base URL of the Manager behind a proxy, e.g. /rory/manager on this site (deploy/README.md). Empty: http://address:port above.' },
  { key: 'RORY_WORKER_URL_TEMPLATE', label: 'Worker URL template', group: 'Rory', kind: 'string', applicability: 'used', help: 'How a worker the Manager hands out is reached, e.g. /rory/workers/{worker_id}/{worker_port}. Empty: the URL the Manager gives, else http://{worker_id}:{worker_port}.' },
  { key: 'MAX_WORKERS', label: 'Max workers', group: 'Rory', kind: 'int', applicability: 'used', help: 'Size of the Web Worker pool that encrypts and decrypts in this browser.' },
  { key: 'MAX_ITERATIONS', label: 'Max iterations', group: 'Rory', kind: 'int', applicability: 'used', help: 'Default cap on interactive rounds (sent as Max-Iterations).' },
  { key: 'JOB_SIZE_BUDGET_MB', label: 'Job size budget (MB)', group: 'Rory', kind: 'int', applicability: 'used', help: 'Largest job this browser starts, in MB built, uploaded and downloaded (1 GB = 1000). The jobs form shows each job’s size; larger jobs are refused with the linear alternative (private k-means). Not an upstream variable.' },
  { key: 'WORKER_TIMEOUT', label: 'Worker timeout (s)', group: 'Rory', kind: 'int', applicability: 'used', help: 'How long to wait for one worker call before giving up.' },
  { key: 'RORY_DEBUG', label: 'Debug', group: 'Rory', kind: 'bool', applicability: 'used', help: 'Show developer details (error messages, timings) in the event log.' },
  { key: 'LIU_SECURITY_LEVEL', label: 'Liu level', group: 'Liu', kind: 'enum', options: ['128', '192', '256'], applicability: 'used', help: 'Liu key size: 128 → m=3, 192 → m=4, 256 → m=6. Legacy scheme: leaks order and ratios.' },
  { key: 'LIU_DECIMALS', label: 'Liu decimals', group: 'Liu', kind: 'int', applicability: 'used', help: 'Decimals kept when Liu rounding is on.' },
  { key: 'LIU_ROUND', label: 'Liu rounding', group: 'Liu', kind: 'bool', applicability: 'used', help: 'Round plaintexts before encryption and results after decryption.' },
  { key: 'LIU_SEED', label: 'Liu seed', group: 'Liu', kind: 'int', applicability: 'compat', help: 'Upstream seeds Liu randomness with it.', note: 'Accepted for compatibility but never used: keys and encryption randomness come only from crypto.getRandomValues (D5).' },
  { key: 'CKKS_DECIMALS', label: 'CKKS decimals', group: 'CKKS', kind: 'int', applicability: 'used', help: 'Decimals kept when CKKS rounding is on.' },
  { key: 'CKKS_ROUND', label: 'CKKS rounding', group: 'CKKS', kind: 'bool', applicability: 'used', help: 'Round CKKS decryptions to CKKS decimals.' },
  { key: 'PUBKEY_FILENAME', label: 'Public key file name', group: 'Keys', kind: 'string', applicability: 'used', help: 'File name used when exporting the public CKKS key for upstream workers.' },
  { key: 'SECRET_KEY_FILENAME', label: 'Secret key file name', group: 'Keys', kind: 'string', applicability: 'used', help: 'File name expected when importing an upstream secret key. The secret key is never exported to workers (D4).' },
  { key: 'NUM_CHUNKS', label: 'Chunks per object', group: 'MictlanX', kind: 'int', applicability: 'used', help: 'How many row chunks each uploaded matrix is split into.' },
  { key: 'MICTLANX_ROUTERS', label: 'Routers', group: 'MictlanX', kind: 'string', applicability: 'used', help: 'MictlanX routers as id:host:port, separated by spaces or commas; later ones are fail-overs.' },
  { key: 'MICTLANX_ROUTER_URLS', label: 'Router URLs', group: 'MictlanX', kind: 'string', applicability: 'used', help: 'Base URLs of routers behind a proxy, as router-id=url (e.g. mictlanx-router-0=/mictlanx/mictlanx-router-0). Routers not listed use host:port.' },
  { key: 'MICTLANX_BUCKET_ID', label: 'Bucket', group: 'MictlanX', kind: 'string', applicability: 'used', help: 'Bucket that holds every Rory object.' },
  { key: 'MICTLANX_TIMEOUT', label: 'Request timeout (s)', group: 'MictlanX', kind: 'int', applicability: 'used', help: 'Timeout of one storage request.' },
  { key: 'MICTLANX_MAX_RETRIES', label: 'Max retries', group: 'MictlanX', kind: 'int', applicability: 'used', help: 'Retries of a failed storage request, with exponential backoff.' },
  { key: 'MICTLANX_PROTOCOL', label: 'Protocol', group: 'MictlanX', kind: 'enum', options: ['http', 'https'], applicability: 'used', help: 'Scheme used to reach the routers.' },
  { key: 'SOURCE_PATH', label: 'Source path', group: 'Paths', kind: 'string', applicability: 'replaced', help: 'Where upstream reads datasets.', note: 'Replaced by the Datasets page: files you pick are kept in this browser (IndexedDB), never uploaded in plaintext.' },
  { key: 'SINK_PATH', label: 'Sink path', group: 'Paths', kind: 'string', applicability: 'replaced', help: 'Where upstream writes results.', note: 'Replaced by downloads: results are saved as CSV/JSON files from the Jobs page.' },
  { key: 'LOG_PATH', label: 'Log path', group: 'Paths', kind: 'string', applicability: 'replaced', help: 'Where upstream writes logs.', note: 'Replaced by each job’s event log (IndexedDB), downloadable from the job page.' },
  { key: 'KEYS_PATH', label: 'Keys path', group: 'Paths', kind: 'string', applicability: 'replaced', help: 'Where upstream keeps key files.', note: 'Replaced by the key store in IndexedDB (wrapped with a non-extractable AES-GCM key); export backups from the Keys page.' },
  { key: 'ENV_FILE_PATH', label: 'Env file path', group: 'Paths', kind: 'string', applicability: 'replaced', help: 'Env file upstream loads at start.', note: 'Replaced by Import/Export .client.env on this page.' },
] satisfies SettingSpec[]);

export const SETTING_KEYS: readonly SettingKey[] = Object.freeze(SETTING_SPECS.map((s) => s.key));

export type FieldErrors = Partial<Record<SettingKey, string>>;

export type ValidationResult = { ok: true; settings: Settings } | { ok: false; errors: FieldErrors };

/** Validates a full or partial raw settings object layered over `base`. Per-field error messages. */
export function validateSettings(raw: RawSettings, base: Settings = DEFAULT_SETTINGS): ValidationResult {
  const merged: Record<string, unknown> = { ...base };
  for (const k of SETTING_KEYS) {
    const v = raw[k];
    if (v !== undefined) merged[k] = typeof v === 'string' ? v.trim() : v;
  }
  const r = settingsSchema.safeParse(merged);
  if (r.success) return { ok: true, settings: r.data };
  const errors: FieldErrors = {};
  for (const issue of r.error.issues) {
    const key = issue.path[0] as SettingKey;
    if (!errors[key]) errors[key] = issue.message;
  }
  return { ok: false, errors };
}

// ---------------------------------------------------------------------------------------------
// .client.env import / export

export interface EnvParseResult {
  /** Recognised settings, as raw strings (validate with validateSettings). */
  readonly values: Partial<Record<SettingKey, string>>;
  /** Keys present in the file that this app does not use (e.g. MICTLANX_URI, TESTING). */
  readonly ignored: readonly string[];
  /** Lines that are not KEY=VALUE, with their 1-based line numbers. */
  readonly malformed: readonly { line: number; reason: string }[];
}

/**
 * Parses an upstream `.client.env` file: `KEY=VALUE` lines, `#` comments, blank lines, optional
 * `export ` prefix, single- or double-quoted values (double quotes honour \n \" \\), inline
 * ` # comment` after unquoted values. The last occurrence of a key wins, as in python-dotenv.
 */
export function parseEnvFile(text: string): EnvParseResult {
  const values: Partial<Record<SettingKey, string>> = {};
  const ignored = new Set<string>();
  const malformed: { line: number; reason: string }[] = [];
  const known = new Set<string>(SETTING_KEYS);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      malformed.push({ line: i + 1, reason: 'expected KEY=VALUE' });
      return;
    }
    const [, key, rest] = m;
    const value = parseEnvValue(rest);
    if (value === null) {
      malformed.push({ line: i + 1, reason: `unterminated quote in ${key}` });
      return;
    }
    if (known.has(key)) values[key as SettingKey] = value;
    else ignored.add(key);
  });
  return { values, ignored: [...ignored], malformed };
}

function parseEnvValue(rest: string): string | null {
  const q = rest[0];
  if (q === '"' || q === "'") {
    let out = '';
    for (let i = 1; i < rest.length; i++) {
      const c = rest[i];
      if (c === q) return out;
      if (q === '"' && c === '\\' && i + 1 < rest.length) {
        const n = rest[++i];
        out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      } else out += c;
    }
    return null;
  }
  const hash = rest.search(/\s#/);
  return (hash >= 0 ? rest.slice(0, hash) : rest).trim();
}

/** Serialises settings as a `.client.env` file that `parseEnvFile` (and python-dotenv) read back. */
export function serializeEnvFile(settings: Settings, generatedAt = new Date()): string {
  const lines = [
    '# Rory Data Owner settings exported from the browser app',
    `# ${generatedAt.toISOString()}`,
    '# Booleans are 0/1 as the upstream client expects. LIU_SEED is accepted but never used by the browser app.',
  ];
  let group = '';
  for (const spec of SETTING_SPECS) {
    if (spec.group !== group) {
      group = spec.group;
      lines.push('', `# ${group}`);
    }
    lines.push(`${spec.key}=${formatEnvValue(settings[spec.key])}`);
  }
  return lines.join('\n') + '\n';
}

function formatEnvValue(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  const s = String(v);
  if (s === '' || /[\s#"'\\]/.test(s)) return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Derived endpoints

export interface RouterEndpoint {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http' | 'https';
  readonly baseUrl: string;
  /** True when the base URL comes from MICTLANX_ROUTER_URLS (a proxy), not from host:port. */
  readonly proxied: boolean;
}

/** The origin of the page running this code (browser), or undefined (Node). */
function pageOrigin(): string | undefined {
  const loc = (globalThis as { location?: { origin?: string } }).location;
  return typeof loc?.origin === 'string' && loc.origin !== 'null' ? loc.origin : undefined;
}

/**
 * A base URL setting made absolute: a path (`/rory/manager`) is resolved against `origin`
 * (default: the page's own origin in a browser; without one the path is returned unchanged).
 * No trailing slash.
 */
export function resolveBaseUrl(value: string, origin: string | undefined = pageOrigin()): string {
  const v = value.trim().replace(/\/+$/, '');
  if (!v.startsWith('/') || origin === undefined) return v;
  return `${origin.replace(/\/+$/, '')}${v}`;
}

/** Base URL of the Manager: RORY_MANAGER_URL when set (resolved against `origin`), else http://address:port. */
export function managerUrl(s: Settings, origin?: string): string {
  if (s.RORY_MANAGER_URL) return resolveBaseUrl(s.RORY_MANAGER_URL, origin ?? pageOrigin());
  return `http://${s.RORY_MANAGER_IP_ADDR}:${s.RORY_MANAGER_PORT}`;
}

/**
 * The worker URL template of the settings, resolved against `origin` (paths), or undefined
 * when none is set (the Manager's `worker_url`, else `http://{worker_id}:{worker_port}`).
 */
export function workerUrlTemplate(s: Pick<Settings, 'RORY_WORKER_URL_TEMPLATE'>, origin?: string): string | undefined {
  return s.RORY_WORKER_URL_TEMPLATE ? resolveBaseUrl(s.RORY_WORKER_URL_TEMPLATE, origin ?? pageOrigin()) : undefined;
}

/**
 * Router endpoints of MICTLANX_ROUTERS, parsed by lib/storage/routers.ts (the only parser of the
 * list). With https the port is dropped from `baseUrl`, as the Python client does. A router
 * with an entry in MICTLANX_ROUTER_URLS gets that base URL instead (paths resolved against
 * `origin`, default the page's).
 * @throws AppError CONFIG_INVALID naming the bad entry (settings that passed validation never throw)
 */
export function routerEndpoints(
  s: Pick<Settings, 'MICTLANX_ROUTERS' | 'MICTLANX_PROTOCOL'> & Partial<Pick<Settings, 'MICTLANX_ROUTER_URLS'>>,
  origin?: string,
): RouterEndpoint[] {
  const parsed = parseRouterUrls(s.MICTLANX_ROUTER_URLS ?? '');
  const overrides = new Map(parsed.ok ? parsed.urls.map((u) => [u.id, u.url]) : []);
  return parseRouterList(s.MICTLANX_ROUTERS, s.MICTLANX_PROTOCOL).map((r) => {
    const url = overrides.get(r.id);
    const baseUrl = url === undefined ? routerUrl(r) : resolveBaseUrl(url, origin ?? pageOrigin());
    return { id: r.id, host: r.host, port: r.port, protocol: r.protocol, baseUrl, proxied: url !== undefined };
  });
}
