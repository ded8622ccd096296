/**
 * @module workers/crypto.worker
 * The crypto Web Worker: `expose` of workers/crypto-api.ts over the browser key store. Keys are
 * loaded here, by id, never on the page.
 *
 * SEAL is initialised with `{ locateFile: undefined }`: node-seal's default `locateFile` builds
 * the .wasm URL at run time, which a bundler cannot see; without it the Emscripten glue falls
 * back to `new URL('seal_throws.wasm', import.meta.url)`, which webpack rewrites to the emitted
 * asset.
 */
import { expose } from 'comlink';
import { browserKeyStore } from '@/lib/keystore/idb';
import { createCryptoWorkerApi } from './crypto-api';

expose(createCryptoWorkerApi(browserKeyStore(), { locateFile: undefined }));
