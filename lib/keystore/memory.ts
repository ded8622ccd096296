/**
 * @module keystore/memory
 * An in-memory key store for tests and Node runners. Same implementation as the browser store
 * (secret material is still wrapped with a non-extractable AES-GCM key), over a Map. `backend`
 * is exposed so tests can inspect or tamper with what is stored.
 */
import { createKeyStore, type KeyStoreOptions, type KvBackend } from './store';
import type { KeyStore } from './types';

export interface MemoryKeyStore extends KeyStore {
  readonly backend: KvBackend & { readonly entries: Map<string, unknown> };
}

export function memoryBackend(): KvBackend & { readonly entries: Map<string, unknown> } {
  const entries = new Map<string, unknown>();
  return {
    entries,
    get: async (k) => entries.get(k),
    getMany: async (ks) => ks.map((k) => entries.get(k)),
    setMany: async (es) => {
      for (const [k, v] of es) entries.set(k, v);
    },
    delMany: async (ks) => {
      for (const k of ks) entries.delete(k);
    },
    keys: async () => [...entries.keys()],
    setIfAbsent: async (k, v) => {
      if (!entries.has(k)) entries.set(k, v);
      return entries.get(k);
    },
  };
}

export function createMemoryKeyStore(options: KeyStoreOptions = {}): MemoryKeyStore {
  const backend = memoryBackend();
  return Object.assign(createKeyStore(backend, options), { backend });
}
