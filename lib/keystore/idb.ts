/**
 * @module keystore/idb
 * The browser key store: IndexedDB through idb-keyval, in its own named database
 * (`rory-keys`, object store `keys`), wrapped at rest by keystore/store.ts.
 */
import { createStore, delMany, get, getMany, keys, setMany, update, type UseStore } from 'idb-keyval';
import { createKeyStore, type KeyStoreOptions, type KvBackend } from './store';
import type { KeyStore } from './types';

export const KEYSTORE_DB = 'rory-keys';
export const KEYSTORE_OBJECT_STORE = 'keys';

export function idbBackend(dbName = KEYSTORE_DB, storeName = KEYSTORE_OBJECT_STORE): KvBackend {
  let db: UseStore | undefined;
  const store = () => (db ??= createStore(dbName, storeName));
  return {
    get: (key) => get(key, store()),
    getMany: (ks) => getMany([...ks], store()),
    setMany: (entries) => setMany(entries.map(([k, v]) => [k, v] as [string, unknown]), store()),
    delMany: (ks) => delMany([...ks], store()),
    keys: async () => (await keys(store())).filter((k): k is string => typeof k === 'string'),
    setIfAbsent: async (key, value) => {
      // update() runs get+put in one readwrite transaction, so two tabs cannot both install a KEK.
      await update(key, (old) => old ?? value, store());
      return get(key, store());
    },
  };
}

let shared: KeyStore | undefined;

/** The app's key store (one per page). */
export function browserKeyStore(): KeyStore {
  return (shared ??= createKeyStore(idbBackend()));
}

/** A key store over a given IndexedDB database (tests with fake-indexeddb use their own names). */
export function createIdbKeyStore(dbName = KEYSTORE_DB, storeName = KEYSTORE_OBJECT_STORE, options: KeyStoreOptions = {}): KeyStore {
  return createKeyStore(idbBackend(dbName, storeName), options);
}
