/**
 * headless/config.ts: the 28 upstream variables with the D6 defaults (spec/protocol.md §10), the
 * `.client.env` file loaded only with RORY_DEBUG (or --env-file) and never over the environment,
 * upstream's MICTLANX_URI, the ports a Node service may use, RORY_ACKNOWLEDGE.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, serializeEnvFile } from '@/lib/config';
import { acknowledgementKeys } from '@/lib/rory/algorithms/registry';
import { ALGORITHMS } from '@/lib/rory/protocol';
import { acknowledgeableFamilies, ackFamily, envFileEntries, isAcknowledged, loadHeadlessConfig, mictlanxUriToRouters, parseAcknowledge } from '@/headless/config';
import { expectAppError } from '../helpers/errors';

const files = (m: Record<string, string>) => (p: string) => m[p];
const none = () => undefined;

describe('headless configuration', () => {
  it('defaults are the upstream client defaults (D6), served on loopback', () => {
    const c = loadHeadlessConfig({}, none);
    expect(c.settings).toEqual(DEFAULT_SETTINGS);
    expect(c.settings).toMatchObject({ NODE_PORT: 3000, NUM_CHUNKS: 4, MAX_ITERATIONS: 10, WORKER_TIMEOUT: 300, MICTLANX_BUCKET_ID: 'rory', LIU_SECURITY_LEVEL: 128, SOURCE_PATH: '/rory/source', KEYS_PATH: '/rory/keys' });
    expect(c.extras).toMatchObject({ serverIpAddr: '127.0.0.1', keepObjects: false, testing: false });
    expect([...c.extras.acknowledged]).toEqual([]);
    expect(c.envFile).toBeUndefined();
  });

  it('reads every variable from the environment; a Node service may use port 0 and the manager port 6000', () => {
    const c = loadHeadlessConfig({ NODE_PORT: '0', RORY_MANAGER_PORT: '6000', NUM_CHUNKS: '8', LIU_SECURITY_LEVEL: '192', RORY_DEBUG: '0', TESTING: '1', RORY_KEEP_OBJECTS: '1' }, none);
    expect(c.settings).toMatchObject({ NODE_PORT: 0, RORY_MANAGER_PORT: 6000, NUM_CHUNKS: 8, LIU_SECURITY_LEVEL: 192 });
    expect(c.extras).toMatchObject({ testing: true, keepObjects: true });
  });

  it('accepts the proxied-deployment settings (absolute URLs), and refuses router URLs for routers not listed', () => {
    const proxied = {
      RORY_MANAGER_URL: 'https://rory.example.org/manager/',
      RORY_WORKER_URL_TEMPLATE: 'https://rory.example.org/workers/{worker_id}/{worker_port}',
      MICTLANX_ROUTERS: 'mictlanx-router-0:10.0.0.5:60666',
      MICTLANX_ROUTER_URLS: 'mictlanx-router-0=https://rory.example.org/mictlanx/mictlanx-router-0',
    };
    const c = loadHeadlessConfig(proxied, none);
    expect(c.settings).toMatchObject({ RORY_MANAGER_URL: 'https://rory.example.org/manager', MICTLANX_ROUTER_URLS: proxied.MICTLANX_ROUTER_URLS });
    expectAppError(() => loadHeadlessConfig({ ...proxied, MICTLANX_ROUTER_URLS: 'mictlanx-router-9=https://rory.example.org/m9' }, none), 'CONFIG_INVALID', 'MICTLANX_ROUTER_URLS: not in the router list (MICTLANX_ROUTERS): mictlanx-router-9');
  });

  it('loads ENV_FILE_PATH only when RORY_DEBUG is on, and the environment wins over the file', () => {
    const text = 'NUM_CHUNKS=6\nMAX_ITERATIONS=7\n# comment\nMICTLANX_URI=mictlanx://r0@10.0.0.5:63666?api_version=4&protocol=http\nTESTING=1\nMICTLANX_PEERS=x\n';
    const read = files({ '/etc/rory/.client.env': text });
    const off = loadHeadlessConfig({ ENV_FILE_PATH: '/etc/rory/.client.env' }, read);
    expect(off.settings.NUM_CHUNKS).toBe(4);
    const on = loadHeadlessConfig({ ENV_FILE_PATH: '/etc/rory/.client.env', RORY_DEBUG: '1', MAX_ITERATIONS: '3' }, read);
    expect(on.settings).toMatchObject({ NUM_CHUNKS: 6, MAX_ITERATIONS: 3, MICTLANX_ROUTERS: 'r0:10.0.0.5:63666', MICTLANX_PROTOCOL: 'http' });
    expect(on.extras.testing).toBe(true);
    expect(on.envFile).toMatchObject({ path: '/etc/rory/.client.env', loaded: true, ignored: ['MICTLANX_PEERS'] });
    const missing = loadHeadlessConfig({ RORY_DEBUG: '1' }, none);
    expect(missing.envFile).toMatchObject({ path: '.env.dev', loaded: false });
  });

  it('--env-file loads a file whatever RORY_DEBUG says, and a missing one is an error naming it', () => {
    const c = loadHeadlessConfig({}, files({ 'x.env': 'NUM_CHUNKS=2' }), { envFile: 'x.env' });
    expect(c.settings.NUM_CHUNKS).toBe(2);
    expectAppError(() => loadHeadlessConfig({}, none, { envFile: 'nope.env' }), 'CONFIG_INVALID');
  });

  it('reads back what the browser exports (Settings → Export .client.env)', () => {
    const exported = serializeEnvFile({ ...DEFAULT_SETTINGS, NUM_CHUNKS: 9, SOURCE_PATH: '/data with space' });
    const c = loadHeadlessConfig({}, files({ 'a.env': exported }), { envFile: 'a.env' });
    expect(c.settings).toMatchObject({ NUM_CHUNKS: 9, SOURCE_PATH: '/data with space' });
  });

  it('names every bad variable in one message', () => {
    try {
      loadHeadlessConfig({ NUM_CHUNKS: 'four', LIU_SECURITY_LEVEL: '100' }, none);
      expect.unreachable();
    } catch (e) {
      const msg = (e as { userMessage: string }).userMessage;
      expect(msg).toMatch(/NUM_CHUNKS/);
      expect(msg).toMatch(/LIU_SECURITY_LEVEL/);
      expect(msg).toMatch(/Fix the environment variable/);
    }
  });

  it('envFileEntries keeps lib/config’s value grammar (quotes, escapes, inline comments) for every key', () => {
    const r = envFileEntries('export A="x \\"y\\" # not a comment"\nB=plain # comment\nC=\'single\'\nbad line\nD="open');
    expect(r.values).toEqual({ A: 'x "y" # not a comment', B: 'plain', C: 'single' });
    expect(r.malformed).toEqual([
      { line: 4, reason: 'expected KEY=VALUE' },
      { line: 5, reason: 'unterminated quote in D' },
    ]);
  });

  it('translates MICTLANX_URI (several routers; https when the protocol is not given, as upstream)', () => {
    expect(mictlanxUriToRouters('mictlanx://a@h1:1,b@h2:2?protocol=http')).toEqual({ routers: 'a:h1:1 b:h2:2', protocol: 'http' });
    expect(mictlanxUriToRouters('mictlanx://a@h1:1')).toEqual({ routers: 'a:h1:1', protocol: 'https' });
    expectAppError(() => mictlanxUriToRouters('http://a@h1:1'), 'CONFIG_INVALID');
    expectAppError(() => mictlanxUriToRouters('mictlanx://h1:1'), 'CONFIG_INVALID');
  });
});

describe('RORY_ACKNOWLEDGE', () => {
  it('the acknowledgeable families are exactly the algorithms whose profiles have plaintext items', () => {
    const expected = new Set(ALGORITHMS.filter((a) => acknowledgementKeys(a).length > 0).map(ackFamily));
    expect(new Set(acknowledgeableFamilies())).toEqual(expected);
    expect(acknowledgeableFamilies()).toEqual(['KMEANS', 'KNN', 'NNC', 'SKMEANS', 'SKMEANS_PQC', 'SKNN', 'SKNN_PQC']);
  });

  it('one name covers both phases of a classification algorithm; unknown or encrypted ones are refused', () => {
    const extras = { acknowledged: parseAcknowledge('skmeans, KNN sknn-pqc') };
    expect(isAcknowledged(extras, 'SKMEANS')).toBe(true);
    expect(isAcknowledged(extras, 'KNN_TRAIN')).toBe(true);
    expect(isAcknowledged(extras, 'KNN_PREDICT')).toBe(true);
    expect(isAcknowledged(extras, 'SKNN_PQC_PREDICT')).toBe(true);
    expect(isAcknowledged(extras, 'SKNN_PREDICT')).toBe(false);
    expect(isAcknowledged(extras, 'KMEANS')).toBe(false);
    expectAppError(() => parseAcknowledge('PKMEANS'), 'CONFIG_INVALID');
    expectAppError(() => parseAcknowledge('EVERYTHING'), 'CONFIG_INVALID');
  });
});

describe('README', () => {
  it('the .client.env example of the Headless section is a valid configuration', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /```sh\n(# \.client\.env[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const c = loadHeadlessConfig({}, files({ '.client.env': block! }), { envFile: '.client.env' });
    expect(c.envFile?.malformed).toEqual([]);
    expect(c.envFile?.ignored).toEqual([]);
    expect(c.settings).toMatchObject({ NODE_PORT: 3000, RORY_MANAGER_PORT: 6001, MICTLANX_ROUTERS: 'mictlanx-router-0:127.0.0.1:63666', KEYS_PATH: '/rory/keys' });
    expect(c.extras).toMatchObject({ passphraseFile: '/run/secrets/rory-keys', serverIpAddr: '127.0.0.1' });
    expect([...c.extras.acknowledged]).toEqual([]);
  });
});
