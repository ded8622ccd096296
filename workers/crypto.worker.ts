/**
 * @module workers/crypto.worker
 * The crypto Web Worker: a thin comlink `expose` over workers/crypto-api.ts.
 *
 * SEAL is initialised with `{ locateFile: undefined }`: node-seal's default `locateFile` builds
 * the .wasm URL at run time, which a bundler cannot see; without it the Emscripten glue falls
 * back to `new URL('seal_throws.wasm', import.meta.url)`, which webpack rewrites to the emitted
 * asset.
 */
import { expose } from 'comlink';
import { createCryptoWorkerApi } from './crypto-api';

expose(createCryptoWorkerApi({ locateFile: undefined }));
