/**
 * The headless runtime's own I/O: the node:http `fetch` (headless/net/node-fetch.ts) against a real
 * server on loopback (statuses, headers, byte bodies, 204, abort, refused connections shaped like
 * undici's), and the KEYS_PATH key store (headless/keys/file-store.ts): encrypted at rest, reopened
 * with the passphrase, refused without it or with a wrong one, two processes' keys merged, and the
 * layering that keeps per-job Liu/FDHOPE keys in memory and drops them with the job.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CKKS_DEFAULT_PARAMS } from '@/lib/crypto/ckks';
import { createInProcessEngine } from '@/lib/engine/in-process';
import { nodeFetch } from '@/headless/net/node-fetch';
import { KEY_FILE_NAME, layeredKeyStore, openFileKeyStore } from '@/headless/keys/file-store';
import { rejection } from '../helpers/errors';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      if (req.url === '/nobody') return void res.writeHead(204, { 'Clustering-Status': '0' }).end();
      if (req.url === '/slow') return; // never answers
      if (req.url === '/error') return void res.writeHead(503, { 'Error-Message': 'busy' }).end('no');
      const body = Buffer.concat(parts);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Set-Cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: [...body] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('node-fetch', () => {
  it('sends the method, headers and byte body, and returns a streamed Response', async () => {
    const res = await nodeFetch(`${base}/echo?x=1`, { method: 'POST', headers: { 'Plaintext-Matrix-Id': 'p1', K: '3' }, body: Uint8Array.of(0, 1, 255) });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('content-type')).toBe('application/json');
    const j = (await res.json()) as { method: string; url: string; headers: Record<string, string>; body: number[] };
    expect(j).toMatchObject({ method: 'POST', url: '/echo?x=1', body: [0, 1, 255] });
    expect(j.headers['plaintext-matrix-id']).toBe('p1');
    expect(j.headers['content-length']).toBe('3');
    const text = await (await nodeFetch(`${base}/echo`, { method: 'POST', body: 'héllo' })).json();
    expect(Buffer.from((text as { body: number[] }).body).toString('utf8')).toBe('héllo');
  });

  it('sends a Blob body (how streamed chunks leave) with its length and type', async () => {
    const blob = new Blob([Uint8Array.of(1, 2), 'x', new Uint8Array(70_000).fill(7)], { type: 'application/octet-stream' });
    const r = await nodeFetch(`${base}/echo`, { method: 'PUT', body: blob });
    const j = (await r.json()) as { headers: Record<string, string>; body: number[] };
    expect(j.headers['content-length']).toBe(String(70_003));
    expect(j.headers['content-type']).toBe('application/octet-stream');
    expect(j.body).toEqual([...new Uint8Array(await blob.arrayBuffer())]);
  });

  it('a 204 has no body; error statuses keep their headers and body', async () => {
    const r = await nodeFetch(`${base}/nobody`, { method: 'POST' });
    expect(r.status).toBe(204);
    expect(r.headers.get('clustering-status')).toBe('0');
    expect(r.body).toBeNull();
    expect(await r.text()).toBe('');
    const e = await nodeFetch(`${base}/error`);
    expect(e.status).toBe(503);
    expect(e.ok).toBe(false);
    expect(e.headers.get('error-message')).toBe('busy');
    expect(await e.text()).toBe('no');
  });

  it('an abort rejects with the signal’s reason; a refused connection rejects like undici (cause.code)', async () => {
    const ac = new AbortController();
    const p = nodeFetch(`${base}/slow`, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 50);
    await expect(p).rejects.toThrow('stop');
    await expect(nodeFetch(`${base}/slow`, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({ name: 'TimeoutError' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await nodeFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as { cause: { code: string } }).cause.code).toBe('ECONNREFUSED');
  });
});

describe('KEYS_PATH key store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rory-keystore-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('without a passphrase keys stay in memory and nothing is written', async () => {
    const s = await openFileKeyStore(join(dir, 'mem'), undefined);
    expect(s.persistent).toBe(false);
    const engine = createInProcessEngine({ keys: s });
    await engine.createLiuKey(128, { label: 'm' });
    expect(await s.list()).toHaveLength(1);
    await expect(stat(join(dir, 'mem', KEY_FILE_NAME))).rejects.toThrow();
    engine.dispose();
  });

  it('with one, every change is saved encrypted; reopening needs the same passphrase', async () => {
    const d = join(dir, 'p');
    const s = await openFileKeyStore(d, 'passphrase number one');
    const engine = createInProcessEngine({ keys: s });
    const k = await engine.createLiuKey(256, { label: 'persisted' });
    const x = Float64Array.of(3.25, -7);
    const ct = await engine.liuEncrypt(k.id, x);
    engine.dispose();
    const text = await readFile(join(d, KEY_FILE_NAME), 'utf8');
    expect(text).not.toContain('persisted');
    const again = await openFileKeyStore(d, 'passphrase number one');
    expect((await again.list()).map((r) => r.id)).toEqual([k.id]);
    const engine2 = createInProcessEngine({ keys: again });
    expect(Array.from(await engine2.liuDecrypt(k.id, ct))).toEqual([expect.closeTo(3.25, 6), expect.closeTo(-7, 6)]);
    engine2.dispose();
    expect((await rejection(openFileKeyStore(d, 'passphrase number two'))).code).toBe('BACKUP_PASSPHRASE');
    expect((await rejection(openFileKeyStore(d, undefined))).code).toBe('KEYSTORE_LOCKED');
  });

  it('keys another process added to the file are merged in, not overwritten', async () => {
    const d = join(dir, 'two');
    const a = await openFileKeyStore(d, 'shared passphrase here');
    const b = await openFileKeyStore(d, 'shared passphrase here');
    const ea = createInProcessEngine({ keys: a });
    const eb = createInProcessEngine({ keys: b });
    const ka = await ea.createLiuKey(128, { label: 'a' });
    const kb = await eb.createLiuKey(128, { label: 'b' });
    ea.dispose();
    eb.dispose();
    const reopened = await openFileKeyStore(d, 'shared passphrase here');
    expect((await reopened.list()).map((r) => r.id).sort()).toEqual([ka.id, kb.id].sort());
  });

  it('layering: CKKS sets go to the file, per-job Liu keys stay in memory and leave with their job', async () => {
    const file = await openFileKeyStore(join(dir, 'layer'), 'layered passphrase');
    const keys = layeredKeyStore(file);
    const engine = createInProcessEngine({ keys });
    const liu = await engine.createLiuKey(128, { label: 'job liu', usedBy: [{ kind: 'job', id: 'job1' }] });
    const other = await engine.createLiuKey(128, { label: 'other', usedBy: [{ kind: 'job', id: 'job2' }] });
    expect(await file.get(liu.id)).toBeUndefined();
    expect(await keys.get(liu.id)).toBeDefined();
    expect((await keys.list()).map((r) => r.id).sort()).toEqual([liu.id, other.id].sort());
    expect(await keys.dropJobKeys('job1')).toEqual([liu.id]);
    expect(await keys.get(liu.id)).toBeUndefined();
    expect(await keys.get(other.id)).toBeDefined();
    const ckks = await engine.createCkksKey({ params: CKKS_DEFAULT_PARAMS, relinKeys: true }, { label: 'long-lived' });
    const restored = await openFileKeyStore(join(dir, 'layer'), 'layered passphrase');
    expect((await restored.list()).map((r) => r.id)).toEqual([ckks.id]);
    engine.dispose();
  });
});
