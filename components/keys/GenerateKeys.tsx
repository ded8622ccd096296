'use client';
/** Key generation: Liu (legacy, level from settings) and CKKS (parameter set, progress, cancel). */
import { useRef, useState } from 'react';
import type { CkksMode, CkksSecurityLevel } from '@/lib/crypto/ckks';
import type { LiuLevel } from '@/lib/crypto/liu';
import { useGenerateCkksKey, useGenerateLiuKey } from '@/lib/queries/keys';
import type { Progress } from '@/lib/engine/types';
import { Button } from '../ui/Button';
import { Card } from '../ui/Card';
import { ProgressBar } from '../ui/Progress';
import { failureNotice, reportFailure, type Notify } from './notice';

const CKKS_SETS: readonly { value: string; mode: CkksMode; level: CkksSecurityLevel; label: string }[] = [
  { value: 'default-128', mode: 'default', level: 128, label: 'default / 128 — N = 8192, q = [60,40,40,60] (Rory clustering)' },
  { value: 'default-192', mode: 'default', level: 192, label: 'default / 192 — N = 16384, q = [60,40,40,40,60]' },
  { value: 'default-256', mode: 'default', level: 256, label: 'default / 256 — N = 32768, scale 2^60' },
  { value: 'ml-128', mode: 'ml', level: 128, label: 'ml / 128 — N = 16384, 7 levels (PPLR)' },
];

const input = 'mt-1 w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm';

export function GenerateKeys({ defaultLiuLevel, notify }: { defaultLiuLevel: LiuLevel; notify: Notify }) {
  const liuGen = useGenerateLiuKey();
  const ckksGen = useGenerateCkksKey();
  const [liuLabel, setLiuLabel] = useState('');
  const [liuLevel, setLiuLevel] = useState<LiuLevel | null>(null);
  const [ckksLabel, setCkksLabel] = useState('');
  const [ckksSet, setCkksSet] = useState(CKKS_SETS[0].value);
  const [rotations, setRotations] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const abort = useRef<AbortController | null>(null);
  const level = liuLevel ?? defaultLiuLevel;

  const onLiu = () =>
    reportFailure(notify, async () => {
      const r = await liuGen.mutateAsync({ label: liuLabel || `Liu ${level}`, level });
      notify({ tone: 'success', text: `Generated Liu key “${r.label}”.` });
      setLiuLabel('');
    });

  const onCkks = async () => {
    const set = CKKS_SETS.find((s) => s.value === ckksSet) ?? CKKS_SETS[0];
    const ctrl = new AbortController();
    abort.current = ctrl;
    setProgress({ done: 0, total: 1, stage: 'Starting' });
    try {
      const r = await ckksGen.mutateAsync({
        label: ckksLabel || `CKKS ${set.value}`,
        mode: set.mode,
        level: set.level,
        rotations,
        signal: ctrl.signal,
        onProgress: setProgress,
      });
      notify({ tone: 'success', text: `Generated CKKS key set “${r.label}”.` });
      setCkksLabel('');
    } catch (e) {
      notify(failureNotice(e, 'CKKS key generation cancelled.'));
    } finally {
      abort.current = null;
      setProgress(null);
    }
  };

  return (
    <div className="grid gap-4 md:grid-cols-2">
      <Card title="Liu key">
        <p className="mb-3 rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900" data-testid="liu-legacy-warning">
          Legacy: leaks order and ratios. Liu ciphertexts reveal the order of your values and their ratios to anyone without the key; use it only
          for compatibility with Rory.
        </p>
        <label className="block text-sm">
          Liu key label
          <input className={input} value={liuLabel} placeholder={`Liu ${level}`} onChange={(e) => setLiuLabel(e.target.value)} />
        </label>
        <label className="mt-3 block text-sm">
          Liu level
          <select className={input} value={level} onChange={(e) => setLiuLevel(Number(e.target.value) as LiuLevel)}>
            <option value={128}>128 (m = 3)</option>
            <option value={192}>192 (m = 4)</option>
            <option value={256}>256 (m = 6)</option>
          </select>
        </label>
        <Button variant="primary" className="mt-4" onClick={onLiu} disabled={liuGen.isPending}>
          Generate Liu key (legacy)
        </Button>
      </Card>
      <Card title="CKKS key set">
        <p className="mb-3 text-xs text-slate-600">Secret, public and relinearization keys. Only the public part is ever given to workers.</p>
        <label className="block text-sm">
          CKKS key label
          <input className={input} value={ckksLabel} placeholder="CKKS default-128" onChange={(e) => setCkksLabel(e.target.value)} />
        </label>
        <label className="mt-3 block text-sm">
          CKKS parameters
          <select className={input} value={ckksSet} onChange={(e) => setCkksSet(e.target.value)}>
            {CKKS_SETS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label className="mt-3 flex items-center gap-2 text-sm">
          <input type="checkbox" checked={rotations} onChange={(e) => setRotations(e.target.checked)} />
          Rotation keys (PPLR only; tens of MB)
        </label>
        {progress && (
          <div className="mt-4">
            <ProgressBar label={`CKKS key generation: ${progress.stage ?? ''}`} value={progress.total ? progress.done / progress.total : 0} />
          </div>
        )}
        <div className="mt-4 flex gap-2">
          <Button variant="primary" onClick={onCkks} disabled={ckksGen.isPending}>
            Generate CKKS key set
          </Button>
          {ckksGen.isPending && <Button onClick={() => abort.current?.abort()}>Cancel</Button>}
        </div>
      </Card>
    </div>
  );
}
