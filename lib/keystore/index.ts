/**
 * @module keystore
 * Key records, the `KeyStore` interface and its implementations: IndexedDB (browser) and memory
 * (tests), both wrapping secret material at rest; passphrase backups; upstream Pyfhel key files.
 */
export * from './types';
export { createKeyStore, describeUsage, isKeyRecord, type KeyStoreOptions, type KvBackend } from './store';
export { browserKeyStore, createIdbKeyStore, idbBackend, KEYSTORE_DB, KEYSTORE_OBJECT_STORE } from './idb';
export { createMemoryKeyStore, memoryBackend, type MemoryKeyStore } from './memory';
export {
  BACKUP_FORMAT,
  BACKUP_PBKDF2_ITERATIONS,
  BACKUP_VERSION,
  MIN_PASSPHRASE_LENGTH,
  exportBackup,
  importBackup,
  parseBackup,
  passphraseStrength,
  type BackupEnvelope,
  type BackupImportReport,
  type PassphraseStrength,
} from './backup';
export {
  DEFAULT_KEY_FILE_NAMES,
  ckksKeyParams,
  ckksParameterSetName,
  importUpstreamKeySet,
  publicBundleFile,
  upstreamKeySetFromFiles,
  upstreamPublicFiles,
  type CkksInspection,
  type KeyFileNames,
  type NamedFile,
  type UpstreamKeySet,
} from './pyfhel';
