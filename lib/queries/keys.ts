/**
 * TanStack Query options and hooks for the key store (keys page). The query cache only ever holds
 * key RECORDS (metadata). Everything that touches secret material — generating, importing,
 * backing up, self-testing, sample encryption — runs in the crypto engine (the worker pool), by
 * key id; this page never loads a secret key (style.md rule 8).
 */
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { AppError } from '../errors';
import { ckksParams, type CkksMode, type CkksSecurityLevel } from '../crypto/ckks';
import type { LiuLevel } from '../crypto/liu';
import { browserKeyStore, publicBundleFile, upstreamPublicFiles, type KeyFileNames, type NamedFile } from '../keystore';
import { decryptSample, encryptSample, parseSampleValues } from '../engine/sample';
import { runSelfTest } from '../engine/self-test';
import type { Progress } from '../engine/types';
import { platform } from '../platform';
import { useSettings } from './settings';

const KEYS = ['keys'] as const;

export const keysQueryOptions = () => queryOptions({ queryKey: KEYS, queryFn: () => browserKeyStore().list() });

export const deletionImpactQueryOptions = (id: string) =>
  queryOptions({ queryKey: [...KEYS, id, 'deletion-impact'], queryFn: () => browserKeyStore().deletionImpact(id), staleTime: 0 });

export function useKeys() {
  return useQuery(keysQueryOptions());
}

/** What deleting `id` would make undecryptable (for the confirmation dialog). */
export function useDeletionImpact(id: string | null) {
  return useQuery({ ...deletionImpactQueryOptions(id ?? ''), enabled: id !== null });
}

/** Keeps the crypto worker pool at MAX_WORKERS from the settings. */
export function useCryptoPoolSize(): void {
  const { data } = useSettings();
  const n = data?.settings.MAX_WORKERS;
  useEffect(() => {
    if (n !== undefined) platform().setPoolSize(n);
  }, [n]);
}

function useKeysMutation<V, R>(fn: (v: V) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => qc.invalidateQueries({ queryKey: KEYS }) });
}

export function useGenerateLiuKey() {
  return useKeysMutation(({ label, level }: { label: string; level: LiuLevel }) => platform().engine().createLiuKey(level, { label }));
}

export interface CkksKeygenVariables {
  readonly label: string;
  readonly mode: CkksMode;
  readonly level: CkksSecurityLevel;
  /** Galois keys for rotate-and-sum (PPLR): steps 1, 2, 4, … < slots. Large. */
  readonly rotations: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

export function useGenerateCkksKey() {
  return useKeysMutation(({ label, mode, level, rotations, signal, onProgress }: CkksKeygenVariables) => {
    const params = ckksParams(mode, level);
    const slots = params.polyModulusDegree / 2;
    const galoisSteps: number[] = [];
    if (rotations) for (let s = 1; s < slots; s *= 2) galoisSteps.push(s);
    return platform().engine().createCkksKey({ params, relinKeys: true, galoisSteps }, { label }, { signal, onProgress });
  });
}

export function useDeleteKey() {
  return useKeysMutation(async (id: string) => {
    const impact = await browserKeyStore().delete(id);
    await platform().engine().forget(id);
    return impact;
  });
}

/** Builds the passphrase-protected backup file (its text is ciphertext only). */
export function useExportBackup() {
  return useMutation({ mutationFn: ({ passphrase, ids }: { passphrase: string; ids?: readonly string[] }) => platform().engine().exportBackup(passphrase, ids) });
}

export function useImportBackup() {
  return useKeysMutation(async ({ file, passphrase }: { file: File; passphrase: string }) => platform().engine().importBackup(await file.text(), passphrase));
}

export function useImportUpstreamKeys() {
  return useKeysMutation(async ({ files, names, label }: { files: readonly File[]; names: KeyFileNames; label: string }) => {
    // The files go to the crypto worker as they were picked; it opens, checks and stores them.
    const named = await Promise.all(files.map(async (f) => ({ name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    return platform().engine().importCkksFiles(named, names, label);
  });
}

/** Public files of a CKKS key set: our one-file bundle, or the upstream files (never the secret key). */
export function usePublicKeyFiles() {
  return useMutation({
    mutationFn: async ({ id, kind, pubkeyName }: { id: string; kind: 'bundle' | 'upstream'; pubkeyName: string }): Promise<NamedFile[]> => {
      const bundle = await browserKeyStore().loadPublicBundle(id);
      return kind === 'bundle' ? [publicBundleFile(bundle, id)] : upstreamPublicFiles(bundle, { pubkey: pubkeyName });
    },
  });
}

/** Encrypts random values with the key in the worker pool and decrypts them (see workers/self-test.ts). */
export function useKeySelfTest() {
  return useMutation({
    mutationFn: async ({ id, count, signal, onProgress }: { id: string; count: number; signal?: AbortSignal; onProgress?: (p: Progress) => void }) =>
      runSelfTest(platform().engine(), await requireRecord(id), count, { signal, onProgress }),
  });
}

export function useSampleEncrypt() {
  return useMutation({
    mutationFn: async ({ id, text }: { id: string; text: string }) => {
      const values = parseSampleValues(text);
      return encryptSample(platform().engine(), await requireRecord(id), values);
    },
  });
}

export function useSampleDecrypt() {
  return useMutation({
    mutationFn: async ({ id, ciphertext }: { id: string; ciphertext: string }) =>
      Array.from(await decryptSample(platform().engine(), await requireRecord(id), ciphertext)),
  });
}

async function requireRecord(id: string) {
  const r = await browserKeyStore().get(id);
  if (!r) throw new AppError('INVALID_KEY', `no key ${id}`, { userMessage: 'This key no longer exists.' });
  return r;
}
