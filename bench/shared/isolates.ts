/**
 * Every V8 isolate of a page (benches only): the page and its workers, however deeply nested (the job
 * worker starts the crypto workers), reached over one CDP session with non-flattened auto-attach:
 * a message to a nested worker is wrapped once per level in `Target.sendMessageToTarget`, and its
 * answer comes back wrapped the same way in `Target.receivedMessageFromTarget`.
 */
import type { CDPSession } from 'playwright-core';

interface Wire {
  id?: number;
  method?: string;
  params?: { sessionId?: string; message?: string; targetInfo?: { type: string } };
  result?: unknown;
}

/** Heap figures of one isolate (CDP `Runtime.getHeapUsage`). */
export interface HeapUsage {
  /** JS heap in use. */
  readonly usedSize: number;
  /** ArrayBuffer backing stores (matrices, ciphertexts, request bodies before they become Blobs). */
  readonly backingStorageSize: number;
}

export interface Isolates {
  /**
   * Heap usage of the page and of every worker attached now, each after a full garbage collection
   * in that isolate (CDP `HeapProfiler.collectGarbage`), so garbage waiting to be collected does not
   * count.
   */
  heapUsage(): Promise<HeapUsage[]>;
}

export async function attachIsolates(session: CDPSession): Promise<Isolates> {
  /** Attached workers, each as the path of session ids from the page session down to it. */
  const workers = new Map<string, string[]>();
  const pending = new Map<number, (result: unknown) => void>();
  let seq = 1;

  const wrap = (path: readonly string[], message: object): { sessionId: string; message: string } => {
    let inner = JSON.stringify(message);
    for (let i = path.length - 1; i > 0; i--) inner = JSON.stringify({ id: seq++, method: 'Target.sendMessageToTarget', params: { sessionId: path[i], message: inner } });
    return { sessionId: path[0], message: inner };
  };
  const sendTo = (path: readonly string[], method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve) => {
      const id = seq++;
      pending.set(id, resolve);
      // A worker that ends while asked never answers.
      setTimeout(() => pending.delete(id) && resolve(undefined), 2_000);
      void session.send('Target.sendMessageToTarget', wrap(path, { id, method, params })).catch(() => resolve(undefined));
    });

  // Events and answers from a worker at `path`; nested ones are unwrapped level by level.
  const onMessage = (path: string[], raw: string): void => {
    const msg = JSON.parse(raw) as Wire;
    if (msg.id !== undefined && pending.has(msg.id)) {
      pending.get(msg.id)!(msg.result);
      pending.delete(msg.id);
    } else if (msg.method === 'Target.receivedMessageFromTarget' && msg.params?.sessionId && msg.params.message) {
      onMessage([...path, msg.params.sessionId], msg.params.message);
    } else if (msg.method === 'Target.attachedToTarget' && msg.params?.sessionId) {
      onAttached([...path, msg.params.sessionId]);
    } else if (msg.method === 'Target.detachedFromTarget' && msg.params?.sessionId) {
      workers.delete(msg.params.sessionId);
    }
  };
  const onAttached = (path: string[]): void => {
    workers.set(path[path.length - 1], path);
    void sendTo(path, 'Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  };

  session.on('Target.attachedToTarget', (ev: { sessionId: string }) => onAttached([ev.sessionId]));
  session.on('Target.detachedFromTarget', (ev: { sessionId: string }) => workers.delete(ev.sessionId));
  session.on('Target.receivedMessageFromTarget', (ev: { sessionId: string; message: string }) => onMessage([ev.sessionId], ev.message));
  await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });

  const usage = (r: unknown): HeapUsage => {
    const u = (r ?? {}) as Partial<HeapUsage>;
    return { usedSize: u.usedSize ?? 0, backingStorageSize: u.backingStorageSize ?? 0 };
  };
  return {
    async heapUsage() {
      const page = session
        .send('HeapProfiler.collectGarbage')
        .then(() => session.send('Runtime.getHeapUsage'))
        .then(usage, () => usage(undefined));
      const others = [...workers.values()].map(async (path) => {
        await sendTo(path, 'HeapProfiler.collectGarbage');
        return usage(await sendTo(path, 'Runtime.getHeapUsage'));
      });
      return Promise.all([page, ...others]);
    },
  };
}
