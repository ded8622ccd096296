/**
 * @module headless/data/source
 * Datasets as the upstream client reads them (spec/protocol.md §6): `{SOURCE_PATH}/{filename}.{ext}`
 * with `ext` `csv` (no header, as pandas `header=None`; a first line of column names is also
 * accepted) or `npy` (converted to float64). Files are parsed by lib/data (csv.ts, npy.ts), the
 * browser's own readers, so both sides accept and refuse the same files with the same messages.
 *
 * Hardening the upstream service lacks: the file name comes from a request header, so it must be a
 * plain relative name (letters, digits, `.`, `_`, `-`, sub-directories with `/`, no `..`), and the
 * extension must be csv or npy; anything else is refused before the file system is touched.
 */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { AppError } from '@/lib/errors';
import { parseLabels } from '@/lib/data/csv';
import { parseDatasetFile } from '@/lib/data/dataset';
import type { Matrix } from '@/lib/data/matrix';
import { isNpyBlob, parseNpyLabels } from '@/lib/data/npy';

export type SourceExtension = 'csv' | 'npy';

const NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

function badName(what: string, why: string): AppError {
  return new AppError('INVALID_ARGUMENT', `${what}: ${why}`, {
    userMessage: `${what} ${why}. Give the file name without extension, relative to SOURCE_PATH (letters, digits, . _ - and / only).`,
    details: { field: what },
  });
}

/**
 * The path of `{dir}/{filename}.{ext}`, refusing names that would leave `dir`.
 * @throws AppError INVALID_ARGUMENT naming the header (`what`) and the problem
 */
export function sourcePath(dir: string, filename: string, ext: string, what = 'Plaintext-Matrix-Filename'): string {
  if (ext !== 'csv' && ext !== 'npy') {
    throw new AppError('INVALID_ARGUMENT', `Extension ${ext.slice(0, 20)}`, {
      userMessage: `Extension must be csv or npy (got “${ext.slice(0, 20)}”).`,
      details: { field: 'Extension' },
    });
  }
  if (filename.length === 0 || filename.length > 200) throw badName(what, 'must be 1 to 200 characters');
  if (!NAME.test(filename) || filename.split('/').some((s) => s === '..' || s === '.')) throw badName(what, `“${filename.slice(0, 60)}” is not a plain relative file name`);
  const root = resolve(dir);
  const path = resolve(root, `${filename}.${ext}`);
  const rel = relative(root, path);
  if (rel.startsWith('..') || isAbsolute(rel)) throw badName(what, 'points outside SOURCE_PATH');
  return path;
}

async function blobOf(path: string, what: string): Promise<Blob> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a file');
    return await openAsBlob(path);
  } catch (e) {
    throw new AppError('INVALID_ARGUMENT', `cannot read ${what}`, {
      cause: e,
      userMessage: `The file ${path} (${what}) does not exist or cannot be read. Put the dataset there, or fix the file name and extension.`,
      details: { field: what },
    });
  }
}

/** Reads a dataset file (CSV or NPY, decided by the file's content as the browser does). */
export async function readMatrixFile(path: string, what = 'dataset'): Promise<{ matrix: Matrix; labels?: Int32Array; format: SourceExtension }> {
  const parsed = await parseDatasetFile(await blobOf(path, what));
  const labels = parsed.labels instanceof Int32Array ? parsed.labels : undefined;
  return { matrix: parsed.matrix, labels, format: parsed.sourceFormat };
}

/** Reads a labels file: one integer per line (CSV) or a 1-D integer NPY array. */
export async function readLabelsFile(path: string, what = 'labels'): Promise<Int32Array> {
  const blob = await blobOf(path, what);
  if (await isNpyBlob(blob)) return parseNpyLabels(new Uint8Array(await blob.arrayBuffer()));
  return parseLabels(blob);
}

/** Joins `dir` and a caller-chosen plain name (no traversal), for results and logs. */
export function safeJoin(dir: string, name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 160) || 'job';
  return join(dir, clean);
}
