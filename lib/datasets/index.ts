/**
 * @module datasets
 * The local dataset store (IndexedDB in the app, in-memory in tests). See `datasets/store`.
 */
export type { DatasetStore, DatasetLabels } from '@/lib/datasets/store';
export { createIdbDatasetStore, DATASET_DB_NAME, DATASET_STORE_NAME, type IdbDatasetStoreOptions } from '@/lib/datasets/idb-store';
export { createMemoryDatasetStore, type MemoryDatasetStoreOptions } from '@/lib/datasets/memory-store';
