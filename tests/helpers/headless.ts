/**
 * Helpers for the headless tests: run the real `rory` command (bin/rory.mjs) as a child process,
 * wait for `rory serve` to print its address, and call it the way the upstream Python SDK does —
 * over node:http with exactly the headers `requests` sends (its defaults plus the SDK's own,
 * `ShanelReyes/rory_client:roryclient/client.py`), since fetch would add and drop headers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const RORY_BIN = fileURLToPath(new URL('../../bin/rory.mjs', import.meta.url));

/** What python-requests 2.x sends on every `requests.post(url, headers=…)` without a body. */
export const REQUESTS_DEFAULT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'User-Agent': 'python-requests/2.32.3',
  'Accept-Encoding': 'gzip, deflate',
  Accept: '*/*',
  Connection: 'keep-alive',
  'Content-Length': '0',
});

export interface RoryProcess {
  readonly proc: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Starts `rory <args>` with `env` added to this process's environment. */
export function spawnRory(args: readonly string[], env: Record<string, string>): RoryProcess {
  const proc = spawn(process.execPath, [RORY_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => stdout.push(l));
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    stdout,
    stderr,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs `rory <args>` to completion. */
export async function runRory(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnRory(args, env);
  const code = await p.exited;
  await new Promise((r) => setImmediate(r));
  return { code, stdout: p.stdout.join('\n'), stderr: p.stderr.join('\n') };
}

/** Starts `rory serve --port 0` and resolves with its URL once it listens. */
export async function startRoryServe(env: Record<string, string>, extraArgs: readonly string[] = []): Promise<RoryProcess & { url: string }> {
  const p = spawnRory(['serve', '--port', '0', '--quiet', ...extraArgs], env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      for (const l of p.stdout) {
        const m = /listening on (http:\/\/\S+)/.exec(l);
        if (m) {
          clearInterval(timer);
          resolve(m[1]);
        }
      }
    }, 50);
    void p.exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`rory serve exited with ${code}: ${p.stderr.join('\n')}`));
    });
  });
  return { ...p, url };
}

export interface SdkReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed body (undefined when it is not JSON). */
  readonly json: unknown;
}

/** `requests.post(url + path, headers=headers)` as the SDK calls it: the default headers plus the SDK's. */
export function sdkPost(base: string, path: string, headers: Record<string, string>, method = 'POST'): Promise<SdkReply> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(u, { method, headers: { Host: u.host, ...REQUESTS_DEFAULT_HEADERS, ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

type FieldType = 'str' | 'int' | 'float' | 'int[]';

/**
 * Validates a reply as the SDK's pydantic models do (lax mode): `int` must be an integer, `float`
 * a number or a numeric string, `str` a string, `int[]` a list of integers; extra fields are
 * ignored. Returns the problems (empty when the model validates).
 */
export function pydanticProblems(body: unknown, model: Readonly<Record<string, FieldType>>): string[] {
  if (typeof body !== 'object' || body === null) return ['not an object'];
  const o = body as Record<string, unknown>;
  const problems: string[] = [];
  for (const [k, t] of Object.entries(model)) {
    const v = o[k];
    const ok =
      t === 'str'
        ? typeof v === 'string'
        : t === 'int'
          ? typeof v === 'number' && Number.isInteger(v)
          : t === 'float'
            ? (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
            : Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x));
    if (!ok) problems.push(`${k}: expected ${t}, got ${JSON.stringify(v)?.slice(0, 60)}`);
  }
  return problems;
}

/** The SDK's reply models (`roryclient/models/__init__.py`). */
export const SDK_MODELS = {
  KmeansResponse: {
    label_vector: 'int[]',
    iterations: 'int',
    algorithm: 'str',
    worker_id: 'str',
    service_time_manager: 'float',
    service_time_worker: 'float',
    service_time_client: 'float',
    response_time_clustering: 'float',
  },
  NncResponse: {
    label_vector: 'int[]',
    algorithm: 'str',
    worker_id: 'str',
    service_time_manager: 'float',
    service_time_worker: 'float',
    service_time_client: 'float',
    response_time_clustering: 'float',
  },
  KnnTrainResponse: { response_time: 'float', algorithm: 'str', model_labels_shape: 'int[]' },
  SknnTrainResponse: { response_time: 'float', encrypted_model_shape: 'str', encrypted_model_dtype: 'str', algorithm: 'str', model_labels_shape: 'int[]' },
  KnnPredictResponse: {
    label_vector: 'int[]',
    algorithm: 'str',
    worker_id: 'str',
    service_time_manager: 'float',
    service_time_worker: 'float',
    service_time_client: 'float',
    service_time_predict: 'float',
  },
} as const satisfies Record<string, Record<string, FieldType>>;

/** Python's `str(tuple(xs))`, as the SDK builds Model-Labels-Shape from the train reply. */
export function pyTuple(xs: readonly number[]): string {
  return xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`;
}
