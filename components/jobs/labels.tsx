import type { Algorithm, JobStatus } from '@/lib/jobs/types';

export const ALGORITHM_INFO: Partial<Record<Algorithm, { title: string; summary: string }>> = {
  DBSKMEANS: {
    title: 'DBSKMeans (Liu + FDHOPE)',
    summary: 'Secure k-means: only ciphertexts leave the browser. Approximate by design (FDHOPE ciphertexts are added).',
  },
  DBSNNC: {
    title: 'DBSNNC (FDHOPE distances)',
    summary: 'Nearest-neighbour clustering on an FDHOPE-encrypted distance matrix and threshold: only ciphertexts leave the browser, one call, no decryption. The number of clusters follows from the threshold.',
  },
  SKNN_PREDICT: {
    title: 'SKNN classification (Liu, 1-NN)',
    summary: 'Classifies a test set by its nearest training record on Liu ciphertexts. Uploads the training labels and the nearest-record indices in plaintext: needs your acknowledgement.',
  },
  KNN_PREDICT: {
    title: 'KNN classification (plaintext baseline)',
    summary: 'The same 1-NN classification on unencrypted training and test sets: needs your acknowledgement.',
  },
  KMEANS: {
    title: 'KMeans (plaintext baseline)',
    summary: 'Plain k-means on your unencrypted dataset, for comparison: needs your acknowledgement.',
  },
  NNC: {
    title: 'NNC (plaintext baseline)',
    summary: 'The same clustering on your plaintext dataset and distance matrix: needs your acknowledgement.',
  },
  SKMEANS: {
    title: 'SKMeans (Liu, plaintext UDM)',
    summary: 'Secure k-means with exact labels, but it uploads the plaintext difference matrix and shifts: needs your acknowledgement.',
  },
  DBSKMEANS_PQC: {
    title: 'DBSKMeans-PQC (CKKS + FDHOPE)',
    summary: 'Secure k-means with a post-quantum (CKKS) encrypted dataset and an FDHOPE difference matrix: only ciphertexts and public keys leave the browser. Approximate like DBSKMeans.',
  },
  SKMEANS_PQC: {
    title: 'SKMeans-PQC (CKKS, plaintext UDM)',
    summary: 'Secure k-means on a CKKS-encrypted dataset with exact labels, but it uploads the plaintext difference matrix and shifts: needs your acknowledgement.',
  },
  DBSNNC_PQC: {
    title: 'DBSNNC-PQC (CKKS dataset, FDHOPE distances)',
    summary: 'DBSNNC with the dataset CKKS-encrypted instead of Liu: only ciphertexts leave the browser, one call, no decryption.',
  },
  SKNN_PQC_PREDICT: {
    title: 'SKNN-PQC classification (CKKS, 1-NN)',
    summary: 'Classifies a test set by its nearest training record (squared Euclidean) on CKKS ciphertexts. Uploads the training labels and the nearest-record indices in plaintext: needs your acknowledgement.',
  },
};

export const STATUS_STYLE: Record<JobStatus, { label: string; className: string }> = {
  draft: { label: 'Ready to run', className: 'bg-slate-100 text-slate-700' },
  running: { label: 'Running', className: 'bg-sky-100 text-sky-800' },
  'awaiting-approval': { label: 'Waiting for your approval', className: 'bg-amber-100 text-amber-900' },
  completed: { label: 'Completed', className: 'bg-emerald-100 text-emerald-800' },
  failed: { label: 'Failed', className: 'bg-red-100 text-red-800' },
  denied: { label: 'Stopped: decryption denied', className: 'bg-orange-100 text-orange-800' },
  cancelled: { label: 'Cancelled', className: 'bg-slate-200 text-slate-700' },
  interrupted: { label: 'Interrupted', className: 'bg-orange-100 text-orange-800' },
};

export function StatusBadge({ status }: { status: JobStatus }) {
  const s = STATUS_STYLE[status];
  return (
    <span data-testid="job-status" data-status={status} className={`rounded-full px-2 py-0.5 text-xs font-medium ${s.className}`}>
      {s.label}
    </span>
  );
}
