/**
 * A stand-in for a Web Worker in Node: `postMessage`, `addEventListener`, `removeEventListener`
 * and `terminate`, with a comlink endpoint serving `api` in-process over a real MessageChannel
 * (structured cloning and transfers as in the browser). After `terminate()` messages go nowhere
 * and pending calls never settle, as with a terminated browser worker. `crash(message)` fires an
 * `error` event as a worker does when its script throws or runs out of memory.
 *
 * `api` may be a factory given the worker's own `postMessage` (what `self.postMessage` is inside a
 * worker), for APIs that also push messages to the page on comlink's channel (workers/job-api.ts).
 */
import { expose } from 'comlink';

export class FakeWorker {
  terminated = false;
  private readonly port: MessagePort;
  private readonly inner: MessagePort;
  private readonly errorListeners = new Set<(ev: ErrorEvent) => void>();

  constructor(api: object | ((post: (message: unknown) => void) => object)) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.inner = port2;
    const post = (message: unknown) => {
      if (!this.terminated) port2.postMessage(message);
    };
    expose(typeof api === 'function' ? (api as (post: (message: unknown) => void) => object)(post) : api, port2);
  }

  postMessage(message: unknown, transfer: Transferable[] = []): void {
    if (this.terminated) return;
    this.port.postMessage(message, transfer);
  }

  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
    if (type === 'error') this.errorListeners.add(listener as (ev: ErrorEvent) => void);
    else this.port.addEventListener(type, listener);
  }

  removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
    if (type === 'error') this.errorListeners.delete(listener as (ev: ErrorEvent) => void);
    else this.port.removeEventListener(type, listener);
  }

  start(): void {
    this.port.start();
  }

  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.port.close();
    this.inner.close();
  }

  /** Fires an `error` event (the worker died); the pool is expected to terminate the worker. */
  crash(message: string): { defaultPrevented: boolean } {
    const ev = { type: 'error', message, defaultPrevented: false, preventDefault() {
      this.defaultPrevented = true;
    } };
    for (const l of [...this.errorListeners]) l(ev as unknown as ErrorEvent);
    return ev;
  }
}

/** A factory of FakeWorkers serving `makeApi()` each, remembering every worker it made. */
export function fakeWorkers(makeApi: () => object): { create: () => Worker; made: FakeWorker[]; live: () => FakeWorker[] } {
  const made: FakeWorker[] = [];
  return {
    made,
    create: () => {
      const w = new FakeWorker(makeApi());
      made.push(w);
      return w as unknown as Worker;
    },
    live: () => made.filter((w) => !w.terminated),
  };
}
