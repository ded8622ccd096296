/**
 * @module rory/algorithms/size
 * What a job builds and moves, said before it starts (issue #13 item 3): each `AlgorithmSpec` has an
 * `estimate(input)` made from the helpers here, from the dataset's shape (n records, a attributes),
 * k and the number of rounds. The n² algorithms (SKMeans, DBSKMeans and their PQC variants build the
 * n×n×a difference matrix, spec/crypto.md §4.1; NNC and DBSNNC(-PQC) the n×n distance matrix) say so
 * with the formula and the figure ("builds and uploads an 8·n²·a-byte difference matrix: 6.4 GB for
 * 10 000 × 8"); the jobs form shows it and the job controller refuses jobs beyond the
 * JOB_SIZE_BUDGET_MB setting with a message naming the linear alternative (private k-means,
 * spec/private-kmeans.md).
 *
 * Figures are decimal (1 GB = 10⁹ bytes) and count the payload only (float64 values, Liu's m
 * components per value, CKKS ciphertexts as serialised); chunk framing and headers are ignored.
 * Pure: no I/O.
 */
import { AppError } from '../../errors';
import { LIU_LEVELS } from '../../crypto/liu/key';

/**
 * Bytes of one serialised CKKS ciphertext at Rory's default-128 parameters (N = 8192, moduli
 * [60, 40, 40] + special prime, zstd as node-seal saves it): measured 196 802 bytes for a fresh
 * encryption. Seeded (symmetric) encryptions are smaller; this is the upper figure.
 */
export const CKKS_CIPHERTEXT_BYTES = 196_802;
/** CKKS slots at the default parameters (N / 2). */
export const CKKS_DEFAULT_SLOTS = 4096;
/** Bytes per float64 value. */
const F64 = 8;

/** What an estimate is computed from: the dataset's shape and the job's parameters. */
export interface SizeInput {
  /** Records (n): the dataset, or the training set for classification. */
  readonly rows: number;
  /** Attributes (a). */
  readonly cols: number;
  readonly k?: number;
  /** Rounds at most (interactive algorithms). Default 10 (D6). */
  readonly maxIterations?: number;
  /** Classification: records to classify (t). */
  readonly testRows?: number;
  /** Liu security level (LIU_SECURITY_LEVEL): sets m, the components per value. Default 128 (m = 3). */
  readonly liuLevel?: number;
}

export interface SizeItem {
  /** What it is, in plain words, e.g. "FDHOPE difference matrix (UDM)". */
  readonly what: string;
  /** Its size as a formula in n, a, k, t, m, I, e.g. "8·n²·a". */
  readonly formula: string;
  readonly bytes: number;
  /** `up`: built in this browser and uploaded; `down`: downloaded and decrypted here. */
  readonly direction: 'up' | 'down';
  /** How it grows with the number of records. */
  readonly growth: 'linear' | 'quadratic';
}

export interface SizeEstimate {
  readonly items: readonly SizeItem[];
  /** Everything built, uploaded and downloaded. */
  readonly totalBytes: number;
  /** `quadratic` when some item grows with n² (or t·n). */
  readonly growth: 'linear' | 'quadratic';
}

/** Liu components per value for a security level (LIU_LEVELS); unknown levels count as 128. */
export function liuComponents(level: number | undefined): number {
  return (LIU_LEVELS as Record<number, { m: number } | undefined>)[level ?? 128]?.m ?? LIU_LEVELS[128].m;
}

/** Builds an estimate from its items. */
export function estimateOf(items: readonly SizeItem[]): SizeEstimate {
  return Object.freeze({
    items: Object.freeze([...items]),
    totalBytes: items.reduce((s, i) => s + i.bytes, 0),
    growth: items.some((i) => i.growth === 'quadratic') ? 'quadratic' : 'linear',
  });
}

const up = (what: string, formula: string, bytes: number, growth: SizeItem['growth'] = 'linear'): SizeItem => ({ what, formula, bytes, direction: 'up', growth });
const down = (what: string, formula: string, bytes: number, growth: SizeItem['growth'] = 'linear'): SizeItem => ({ what, formula, bytes, direction: 'down', growth });

/** The dataset (or a set of records) as it leaves the browser. */
export type DatasetForm = 'plaintext' | 'liu' | 'ckks';

/** One upload of n×a records in `form` (CKKS: one ciphertext per record, spec/crypto.md §7.6). */
export function datasetItem(form: DatasetForm, s: SizeInput, what = 'dataset', n = s.rows, sym = 'n'): SizeItem {
  if (form === 'plaintext') return up(`${what} (plaintext)`, `8·${sym}·a`, F64 * n * s.cols);
  if (form === 'liu') {
    const m = liuComponents(s.liuLevel);
    return up(`${what} (Liu, m = ${m})`, `8·${sym}·a·m`, F64 * n * s.cols * m);
  }
  return up(`${what} (CKKS, one ciphertext per record)`, `${sym}·${kb(CKKS_CIPHERTEXT_BYTES)}`, n * CKKS_CIPHERTEXT_BYTES);
}

/** The n×n×a unidimensional difference matrix (spec/crypto.md §4.1), plaintext or FDHOPE. */
export function udmItem(s: SizeInput, fdhope: boolean): SizeItem {
  return up(fdhope ? 'FDHOPE difference matrix (UDM)' : 'plaintext difference matrix (UDM)', '8·n²·a', F64 * s.rows * s.rows * s.cols, 'quadratic');
}

/** The n×n Manhattan distance matrix (spec/crypto.md §4.2), plaintext or FDHOPE. */
export function dmItem(s: SizeInput, fdhope: boolean): SizeItem {
  return up(fdhope ? 'FDHOPE distance matrix (DM)' : 'plaintext distance matrix (DM)', '8·n²', F64 * s.rows * s.rows, 'quadratic');
}

/** The interactive k-means family (SKMeans, DBSKMeans and the PQC variants): dataset + UDM. */
export function kmeansFamilyEstimate(form: DatasetForm, fdhope: boolean): (s: SizeInput) => SizeEstimate {
  return (s) => estimateOf([datasetItem(form, s), udmItem(s, fdhope)]);
}

/** The NNC family (NNC, DBSNNC, DBSNNC-PQC): dataset + DM. */
export function nncFamilyEstimate(form: DatasetForm, fdhope: boolean): (s: SizeInput) => SizeEstimate {
  return (s) => estimateOf([datasetItem(form, s), dmItem(s, fdhope)]);
}

/** Plain k-means: the dataset only. */
export function plainEstimate(s: SizeInput): SizeEstimate {
  return estimateOf([datasetItem('plaintext', s)]);
}

/**
 * Private k-means (spec/private-kmeans.md §2): B = ⌈n / R⌉ packed ciphertexts (R = slots / stride
 * records each), then per round k·B mask ciphertexts up and k·B distance ciphertexts down. Linear in n.
 */
export function pkmeansEstimate(s: SizeInput): SizeEstimate {
  let stride = 1;
  while (stride < s.cols) stride *= 2;
  const R = Math.max(1, Math.floor(CKKS_DEFAULT_SLOTS / stride));
  const B = Math.ceil(s.rows / R);
  const k = s.k ?? 3;
  const I = s.maxIterations ?? 10;
  return estimateOf([
    up(`dataset (CKKS, ${R} records per ciphertext)`, `⌈n / ${R}⌉·${kb(CKKS_CIPHERTEXT_BYTES)}`, B * CKKS_CIPHERTEXT_BYTES),
    up('cluster masks (CKKS, every round)', `I·k·⌈n / ${R}⌉·${kb(CKKS_CIPHERTEXT_BYTES)}`, I * k * B * CKKS_CIPHERTEXT_BYTES),
    down('distances (CKKS, every round)', `I·k·⌈n / ${R}⌉·${kb(CKKS_CIPHERTEXT_BYTES)}`, I * k * B * CKKS_CIPHERTEXT_BYTES),
  ]);
}

/** KNN (plaintext): the model (n records), its labels and the t records to classify. */
export function knnEstimate(s: SizeInput): SizeEstimate {
  const t = s.testRows ?? 0;
  return estimateOf([datasetItem('plaintext', s, 'training set'), up('training labels', '8·n', F64 * s.rows), datasetItem('plaintext', s, 'records to classify', t, 't')]);
}

/** SKNN (Liu): model and test records up, the t×n×m Liu distance tensor down (spec/protocol.md §5.9). */
export function sknnEstimate(s: SizeInput): SizeEstimate {
  const t = s.testRows ?? 0;
  const m = liuComponents(s.liuLevel);
  return estimateOf([
    datasetItem('liu', s, 'training set'),
    up('training labels', '8·n', F64 * s.rows),
    datasetItem('liu', s, 'records to classify', t, 't'),
    down(`distances (Liu, m = ${m})`, '8·t·n·m', F64 * t * s.rows * m, 'quadratic'),
  ]);
}

/**
 * SKNN-PQC (docs/protocol-additions.md §4): the model packed ⌊slots / a⌋ records per ciphertext,
 * one ciphertext per record to classify, and t·⌈n / R⌉ squared-difference ciphertexts down.
 */
export function sknnPqcEstimate(s: SizeInput): SizeEstimate {
  const t = s.testRows ?? 0;
  const R = Math.max(1, Math.floor(CKKS_DEFAULT_SLOTS / Math.max(1, s.cols)));
  const B = Math.ceil(s.rows / R);
  return estimateOf([
    up(`training set (CKKS, ${R} records per ciphertext)`, `⌈n / ${R}⌉·${kb(CKKS_CIPHERTEXT_BYTES)}`, B * CKKS_CIPHERTEXT_BYTES),
    up('training labels', '8·n', F64 * s.rows),
    up('records to classify (CKKS, one ciphertext per record)', `t·${kb(CKKS_CIPHERTEXT_BYTES)}`, t * CKKS_CIPHERTEXT_BYTES),
    down('squared differences (CKKS)', `t·⌈n / ${R}⌉·${kb(CKKS_CIPHERTEXT_BYTES)}`, t * B * CKKS_CIPHERTEXT_BYTES, 'quadratic'),
  ]);
}

// ---- Words and budget ----------------------------------------------------------------------

/** Decimal byte size: "6.4 GB", "64 MB", "197 kB", "12 bytes". */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [
    [1e12, 'TB'],
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'kB'],
  ];
  for (const [u, name] of units) {
    if (bytes >= u) {
      const v = bytes / u;
      return `${v >= 100 ? Math.round(v) : Number(v.toPrecision(2))} ${name}`;
    }
  }
  return `${Math.round(bytes)} bytes`;
}

function kb(bytes: number): string {
  return formatBytes(bytes);
}

/** "10 000 × 8" (digits grouped by spaces, as the jobs form and refusals print shapes). */
export function formatShape(rows: number, cols: number): string {
  const group = (v: number) => String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return `${group(rows)} × ${group(cols)}`;
}

/** "an 8·n²·a-byte …" but "a t·…-byte …". */
function article(formula: string): string {
  return /^[8aeiou]/.test(formula) ? 'an' : 'a';
}

/**
 * The item an estimate leads with: the largest one that grows with n² when there is one (it is what
 * makes large datasets impossible, even where a linear item is larger at small n), else the largest.
 */
export function leadItem(e: SizeEstimate): SizeItem | undefined {
  const bySize = [...e.items].sort((x, y) => y.bytes - x.bytes);
  return bySize.find((i) => i.growth === 'quadratic') ?? bySize[0];
}

/**
 * One sentence for the jobs form: the lead object with its formula and figure, then the total,
 * e.g. "Builds and uploads an 8·n²·a-byte FDHOPE difference matrix (UDM): 6.4 GB for 10 000 × 8. About 6.4 GB moved in all."
 */
export function describeEstimate(e: SizeEstimate, s: SizeInput): string {
  const big = leadItem(e);
  if (!big) return '';
  const verb = big.direction === 'up' ? 'Builds and uploads' : 'Downloads and decrypts';
  const lead = big.growth === 'quadratic' ? `${verb} ${article(big.formula)} ${big.formula}-byte ${big.what}` : `${verb} its ${big.what} (${big.formula} bytes)`;
  return `${lead}: ${formatBytes(big.bytes)} for ${formatShape(s.rows, s.cols)}. About ${formatBytes(e.totalBytes)} moved in all${e.growth === 'linear' ? ', linear in the number of records' : ''}.`;
}

/** Default budget of one job (JOB_SIZE_BUDGET_MB): 1 GB. */
export const DEFAULT_JOB_SIZE_BUDGET_MB = 1000;

export interface BudgetVerdict {
  readonly ok: boolean;
  readonly estimate: SizeEstimate;
  readonly budgetBytes: number;
  /** When refused: what went wrong, the size and the alternative, for the form and the error. */
  readonly message?: string;
}

/**
 * Compares an estimate with the budget. A refusal names the figures and the alternative: for
 * clustering, private k-means (linear in n) with its own figure for the same dataset; otherwise a
 * smaller dataset.
 */
export function checkBudget(
  e: SizeEstimate,
  s: SizeInput,
  budgetMb: number,
  alternative?: { readonly title: string; readonly estimate: SizeEstimate },
): BudgetVerdict {
  const budgetBytes = budgetMb * 1e6;
  if (e.totalBytes <= budgetBytes) return { ok: true, estimate: e, budgetBytes };
  const big = leadItem(e)!;
  const inAll = e.totalBytes > big.bytes * 1.05 ? ` (${formatBytes(e.totalBytes)} in all)` : '';
  const what =
    big.growth === 'quadratic'
      ? `${article(big.formula)} ${big.formula}-byte ${big.what}: ${formatBytes(big.bytes)} for ${formatShape(s.rows, s.cols)}${inAll}`
      : `${formatBytes(e.totalBytes)} for ${formatShape(s.rows, s.cols)}`;
  const instead = alternative
    ? `Use ${alternative.title} instead, which is linear in the number of records: about ${formatBytes(alternative.estimate.totalBytes)} for this dataset.`
    : 'Use a smaller dataset (fewer records).';
  return {
    ok: false,
    estimate: e,
    budgetBytes,
    message: `This job would build and move ${what}, more than the job size budget of ${formatBytes(budgetBytes)} (Settings → Job size budget). ${instead}`,
  };
}

/** The error a refused job fails with (form and controller). */
export function budgetError(v: BudgetVerdict): AppError {
  return new AppError('INVALID_ARGUMENT', `job size ${v.estimate.totalBytes} bytes exceeds the budget of ${v.budgetBytes} bytes`, {
    userMessage: v.message ?? 'This job is larger than the job size budget.',
    details: { field: 'size', bytes: v.estimate.totalBytes, budgetBytes: v.budgetBytes },
  });
}
