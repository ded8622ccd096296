'use client';
import { algorithmSpec, jobLeakageProfile } from '@/lib/rory/algorithms/registry';
import type { JobAlgorithm } from '@/lib/jobs/types';

const FORM_STYLE = {
  plaintext: 'bg-red-100 text-red-800',
  liu: 'bg-amber-100 text-amber-900',
  fdhope: 'bg-amber-100 text-amber-900',
  ckks: 'bg-emerald-100 text-emerald-800',
  'public-key': 'bg-slate-200 text-slate-700',
} as const;

const FORM_LABEL = { plaintext: 'PLAINTEXT', liu: 'Liu (legacy: leaks order and ratios)', fdhope: 'FDHOPE (order-preserving)', ckks: 'CKKS', 'public-key': 'public key (cannot decrypt)' } as const;

/** What leaves the browser for an algorithm, object by object, and in which form. */
export function LeakagePanel({ algorithm, storageId }: { algorithm: JobAlgorithm; storageId?: string }) {
  const profile = jobLeakageProfile(algorithm);
  const name = (key: string) => (storageId ? key.replace(/\{P\}/g, storageId).replace(/\{M\}/g, `${storageId}model`).replace(/\{R\}/g, `${storageId}test`) : key);
  return (
    <div className="rounded-lg border border-slate-200 p-3" data-testid="leakage-profile">
      <p className="text-sm font-medium">What leaves this browser</p>
      <ul className="mt-2 space-y-1.5">
        {profile.items.map((it) => (
          <li key={it.key + it.form} className="flex flex-wrap items-baseline gap-2 text-xs">
            <code className="rounded bg-slate-100 px-1">{name(it.key)}</code>
            <span className={`rounded px-1.5 py-0.5 text-[10px] font-semibold ${FORM_STYLE[it.form]}`}>{FORM_LABEL[it.form]}</span>
            {it.perRound && <span className="text-slate-500">every round</span>}
            <span className="w-full text-slate-600">{it.description}</span>
          </li>
        ))}
      </ul>
      <p className="mt-2 text-xs text-slate-700" data-testid="worker-learns">
        <span className="font-medium">The worker learns:</span> {algorithmSpec(algorithm).workerLearns}
      </p>
      {!profile.requiresAcknowledgement && <p className="mt-2 text-xs text-emerald-700">Only ciphertexts (and public keys) leave the browser; no acknowledgement is needed.</p>}
    </div>
  );
}
