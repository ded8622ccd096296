/**
 * TanStack Query options and hooks for the key store (keys page). The query cache only ever holds
 * key RECORDS (metadata); secret material is loaded from the key store inside mutation functions
 * and handed straight to the crypto engine (worker pool), never returned from a hook.
 */
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { ckksParams, type CkksMode, type CkksSecurityLevel } from '../crypto/ckks';
import { LIU_LEVELS, type LiuLevel } from '../crypto/liu';
import {
  browserKeyStore,
  ckksKeyParams,
  exportBackup,
  importBackup,
  importUpstreamKeySet,
  publicBundleFile,
  upstreamKeySetFromFiles,
  upstreamPublicFiles,
  type KeyFileNames,
  type NamedFile,
} from '../keystore';
import { browserCryptoEngine, setCryptoPoolSize } from '@/workers/crypto-client';
import type { Progress } from '@/workers/engine';
import { decryptSample, encryptSample, parseSampleValues } from '@/workers/sample';
import { runSelfTest } from '@/workers/self-test';
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
    if (n !== undefined) setCryptoPoolSize(n);
  }, [n]);
}

function useKeysMutation<V, R>(fn: (v: V) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => qc.invalidateQueries({ queryKey: KEYS }) });
}

export function useGenerateLiuKey() {
  return useKeysMutation(async ({ label, level }: { label: string; level: LiuLevel }) => {
    const key = await browserCryptoEngine().liuKeygen(level);
    const { m, nbits } = LIU_LEVELS[level];
    return browserKeyStore().add({ scheme: 'liu', label, origin: 'generated', params: { level, m, nbits } }, { scheme: 'liu', key });
  });
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
  return useKeysMutation(async ({ label, mode, level, rotations, signal, onProgress }: CkksKeygenVariables) => {
    const params = ckksParams(mode, level);
    const slots = params.polyModulusDegree / 2;
    const galoisSteps: number[] = [];
    if (rotations) for (let s = 1; s < slots; s *= 2) galoisSteps.push(s);
    const bytes = await browserCryptoEngine().ckksKeygen({ params, relinKeys: true, galoisSteps }, { signal, onProgress });
    const { secretKey, ...publicBundle } = bytes;
    return browserKeyStore().add(
      { scheme: 'ckks', label, origin: 'generated', params: ckksKeyParams(params, publicBundle.relinKeys !== undefined, galoisSteps.length > 0) },
      { scheme: 'ckks', publicBundle, secretKey },
    );
  });
}

export function useDeleteKey() {
  return useKeysMutation((id: string) => browserKeyStore().delete(id));
}

export function useRenameKey() {
  return useKeysMutation(({ id, label }: { id: string; label: string }) => browserKeyStore().rename(id, label));
}

/** Builds the passphrase-protected backup file (its text is ciphertext only). */
export function useExportBackup() {
  return useMutation({ mutationFn: ({ passphrase, ids }: { passphrase: string; ids?: readonly string[] }) => exportBackup(browserKeyStore(), passphrase, { ids }) });
}

export function useImportBackup() {
  return useKeysMutation(async ({ file, passphrase }: { file: File; passphrase: string }) => importBackup(browserKeyStore(), await file.text(), passphrase));
}

export function useImportUpstreamKeys() {
  return useKeysMutation(async ({ files, names, label }: { files: readonly File[]; names: KeyFileNames; label: string }) => {
    const named = await Promise.all(files.map(async (f) => ({ name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    const set = upstreamKeySetFromFiles(named, names);
    return importUpstreamKeySet(browserKeyStore(), set, (bytes) => browserCryptoEngine().ckksInspect(bytes), label);
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
      runSelfTest(browserCryptoEngine(), await browserKeyStore().loadMaterial(id), count, { signal, onProgress }),
  });
}

export function useSampleEncrypt() {
  return useMutation({
    mutationFn: async ({ id, text }: { id: string; text: string }) => {
      const values = parseSampleValues(text);
      return encryptSample(browserCryptoEngine(), id, await browserKeyStore().loadMaterial(id), values);
    },
  });
}

export function useSampleDecrypt() {
  return useMutation({
    mutationFn: async ({ id, ciphertext }: { id: string; ciphertext: string }) =>
      Array.from(await decryptSample(browserCryptoEngine(), id, await browserKeyStore().loadMaterial(id), ciphertext)),
  });
}
