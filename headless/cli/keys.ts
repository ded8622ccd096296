/**
 * @module headless/cli/keys
 * `rory keys generate|list|export|import` (help.ts KEYS_HELP) over the KEYS_PATH key store
 * (keys/file-store.ts). Keys are created and imported through lib/'s crypto engine, so the CLI
 * never holds secret material itself; exports are either a passphrase-protected backup (the
 * browser's format) or, for CKKS, the PUBLIC Pyfhel files an upstream worker loads (D4: never the
 * secret key).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '@/lib/errors';
import { CKKS_DEFAULT_PARAMS } from '@/lib/crypto/ckks';
import { createInProcessEngine } from '@/lib/engine/in-process';
import { exportBackup } from '@/lib/keystore/backup';
import { describeUsage } from '@/lib/keystore/store';
import { upstreamPublicFiles, type NamedFile } from '@/lib/keystore/pyfhel';
import type { KeyRecord } from '@/lib/keystore/types';
import { openFileKeyStore, resolvePassphrase } from '../keys/file-store';
import { ENV_FILE_OPTION, fileError, intOption, listOption, loadConfig, readTextFile, UsageError } from './common';

function describe(r: KeyRecord): string {
  const p =
    r.scheme === 'liu'
      ? `Liu ${r.params.level} (m=${r.params.m})`
      : r.scheme === 'ckks'
        ? `CKKS ${r.params.parameterSet} N=${r.params.polyModulusDegree}${r.params.hasRelinKeys ? ' +relin' : ''}${r.params.galoisSteps?.length ? ` +galois[${r.params.galoisSteps.join(',')}]` : r.params.hasGaloisKeys ? ' +galois' : ''}`
        : `FDHOPE (${r.params.intervals} intervals)`;
  return `${r.id}  ${p}  ${r.origin}  ${new Date(r.createdAt).toISOString().slice(0, 19)}Z  “${r.label}”`;
}

/** The options `parseArgs` accepts (help.ts documents each; a unit test checks). */
export const KEYS_OPTIONS = {
  ...ENV_FILE_OPTION,
  scheme: { type: 'string' },
  level: { type: 'string' },
  'galois-steps': { type: 'string' },
  label: { type: 'string' },
  out: { type: 'string' },
  ids: { type: 'string' },
  'new-passphrase-file': { type: 'string' },
  pyfhel: { type: 'string' },
  id: { type: 'string' },
  'backup-passphrase-file': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function keysCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || !['generate', 'list', 'export', 'import'].includes(sub)) {
    throw new UsageError('keys', sub ? `unknown keys command "${sub}" (use generate, list, export or import)` : 'say what to do: rory keys generate|list|export|import');
  }
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: KEYS_OPTIONS });
  const config = loadConfig(values['env-file']);
  const s = config.settings;
  const passphrase = await resolvePassphrase(config.extras);
  if (passphrase === undefined && sub !== 'list') {
    throw new AppError('KEYSTORE_LOCKED', 'no key store passphrase', {
      userMessage: `Keys in ${s.KEYS_PATH} are kept encrypted with a passphrase. Set RORY_KEYS_PASSPHRASE, or RORY_KEYS_PASSPHRASE_FILE with the path of a file that holds it (at least 10 characters).`,
    });
  }
  const store = await openFileKeyStore(s.KEYS_PATH, passphrase);
  const engine = createInProcessEngine({ keys: store });
  try {
    switch (sub) {
      case 'list': {
        const all = await store.list();
        if (values.json) console.log(JSON.stringify(all, null, 1));
        else if (all.length === 0) console.log(`No keys in ${store.file}. Create one with \`rory keys generate --scheme ckks\` or import a backup with \`rory keys import FILE\`.`);
        else for (const r of all) console.log(`${describe(r)}${r.usedBy.length ? `  (used by ${r.usedBy.map(describeUsage).join(', ')})` : ''}`);
        return 0;
      }
      case 'generate': {
        const label = values.label;
        if (values.scheme === 'liu') {
          const level = intOption('keys', 'level', values.level ?? String(s.LIU_SECURITY_LEVEL), 128, 256);
          if (level !== 128 && level !== 192 && level !== 256) throw new UsageError('keys', '--level must be 128, 192 or 256');
          const r = await engine.createLiuKey(level, { label: label ?? `Liu ${level} (rory keys)` });
          console.log(`created ${describe(r)} in ${store.file}`);
          return 0;
        }
        if (values.scheme === 'ckks') {
          const steps = listOption(values['galois-steps']).map((x) => intOption('keys', 'galois-steps', x, 1, CKKS_DEFAULT_PARAMS.polyModulusDegree / 2 - 1)!);
          const t = performance.now();
          const r = await engine.createCkksKey({ params: CKKS_DEFAULT_PARAMS, relinKeys: true, galoisSteps: steps }, { label: label ?? 'CKKS default-128 (rory keys)' });
          console.log(`created ${describe(r)} in ${store.file} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
          return 0;
        }
        throw new UsageError('keys', '--scheme must be liu or ckks (e.g. rory keys generate --scheme ckks)');
      }
      case 'export': {
        if (values.pyfhel) {
          if (!values.id) throw new UsageError('keys', 'export --pyfhel needs --id CKKS_ID (see rory keys list)');
          const r = await store.get(values.id);
          if (!r || r.scheme !== 'ckks') throw new UsageError('keys', `${values.id} is not a CKKS key set in ${store.file} (see rory keys list)`);
          const files = upstreamPublicFiles(await store.loadPublicBundle(r.id), { pubkey: s.PUBKEY_FILENAME });
          await mkdir(values.pyfhel, { recursive: true });
          for (const f of files) await writeFile(join(values.pyfhel, f.name), f.bytes);
          console.log(`wrote ${files.map((f) => f.name).join(', ')} to ${values.pyfhel} (public files only: the secret key stays in ${store.file})`);
          return 0;
        }
        if (!values.out) throw new UsageError('keys', 'export needs --out FILE (a backup) or --pyfhel DIR --id CKKS_ID (public files for upstream workers)');
        const to = values['new-passphrase-file'] ? await resolvePassphrase({ passphraseFile: values['new-passphrase-file'] }) : passphrase!;
        const ids = values.ids ? listOption(values.ids) : undefined;
        await writeFile(values.out, await exportBackup(store, to!, { ids }), { mode: 0o600 });
        console.log(`wrote ${ids ? ids.length : (await store.list()).length} key(s) to ${values.out} (import it on the app's Keys page or with rory keys import)`);
        return 0;
      }
      case 'import': {
        if (values.pyfhel) {
          const dir = values.pyfhel;
          const wanted = new Set(['ctx', s.PUBKEY_FILENAME, s.SECRET_KEY_FILENAME, 'relinkey', 'rotatekey']);
          let names: string[];
          try {
            names = (await readdir(dir)).filter((n) => wanted.has(n));
          } catch (e) {
            throw fileError('The Pyfhel key directory', dir, 'cannot be read. Give the directory that holds ctx, pubkey, secretkey (and relinkey).', e);
          }
          const files: NamedFile[] = [];
          for (const n of names) files.push({ name: n, bytes: new Uint8Array(await readFile(join(dir, n))) });
          const r = await engine.importCkksFiles(files, { pubkey: s.PUBKEY_FILENAME, secretkey: s.SECRET_KEY_FILENAME }, values.label ?? `Pyfhel keys from ${dir}`);
          console.log(`imported ${describe(r)} into ${store.file}`);
          return 0;
        }
        const file = positionals[0];
        if (!file) throw new UsageError('keys', 'import needs a backup FILE (or --pyfhel DIR)');
        const text = await readTextFile('The backup file', file);
        const from = values['backup-passphrase-file'] ? await resolvePassphrase({ passphraseFile: values['backup-passphrase-file'] }) : passphrase!;
        const report = await store.importBackupText(text, from!);
        console.log(`imported ${report.added.length} key(s) into ${store.file}${report.skipped.length ? `; ${report.skipped.length} already there` : ''}`);
        for (const r of report.added) console.log(`  ${describe(r)}`);
        return 0;
      }
    }
    return 2;
  } finally {
    engine.dispose();
  }
}
