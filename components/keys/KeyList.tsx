'use client';
/** The key table: scheme, parameters, date, what uses each key, and per-key actions. */
import { useRef, useState } from 'react';
import type { KeyRecord } from '@/lib/keystore/types';
import { downloadBlob } from '@/lib/download';
import { useKeySelfTest, usePublicKeyFiles } from '@/lib/queries/keys';
import type { SelfTestResult } from '@/lib/engine/self-test';
import { ListTable } from '../ui/ListTable';
import { Button } from '../ui/Button';
import { ProgressBar } from '../ui/Progress';
import { describeParams, describeUsageRef, formatDate, ORIGIN_LABEL, SCHEME_LABEL } from './format';
import { failureNotice, reportFailure, type Notify } from './notice';

export interface KeyListProps {
  readonly keys: readonly KeyRecord[];
  readonly pubkeyName: string;
  readonly selfTestCount: number;
  readonly onTry: (r: KeyRecord) => void;
  readonly onDelete: (r: KeyRecord) => void;
  readonly notify: Notify;
}

export function KeyList({ keys, pubkeyName, selfTestCount, onTry, onDelete, notify }: KeyListProps) {
  return (
    <ListTable columns={['Key', 'Scheme', 'Parameters', 'Created', 'Used by', 'Actions']}>
      {keys.map((k) => (
        <KeyRow key={k.id} record={k} pubkeyName={pubkeyName} selfTestCount={selfTestCount} onTry={onTry} onDelete={onDelete} notify={notify} />
      ))}
    </ListTable>
  );
}

function KeyRow({ record, pubkeyName, selfTestCount, onTry, onDelete, notify }: { record: KeyRecord } & Omit<KeyListProps, 'keys'>) {
  const selfTest = useKeySelfTest();
  const files = usePublicKeyFiles();
  const [result, setResult] = useState<SelfTestResult | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const abort = useRef<AbortController | null>(null);

  const onTest = async () => {
    const ctrl = new AbortController();
    abort.current = ctrl;
    setResult(null);
    setProgress(0);
    try {
      // Encryption and decryption each report progress; show their average.
      let phase = 0;
      let last = 0;
      const r = await selfTest.mutateAsync({
        id: record.id,
        count: selfTestCount,
        signal: ctrl.signal,
        onProgress: (p) => {
          const f = p.total ? p.done / p.total : 0;
          if (f < last) phase = 1;
          last = f;
          setProgress((phase + f) / 2);
        },
      });
      setResult(r);
    } catch (e) {
      notify(failureNotice(e, 'Self-test cancelled.'));
    } finally {
      abort.current = null;
      setProgress(null);
    }
  };

  const onDownload = (kind: 'bundle' | 'upstream') =>
    reportFailure(notify, async () => {
      const list = await files.mutateAsync({ id: record.id, kind, pubkeyName });
      for (const f of list) downloadBlob(f.name, new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
      notify({ tone: 'success', text: `Downloaded ${list.map((f) => f.name).join(', ')} (public material only; the secret key stays here).` });
    });

  return (
    <tr className="border-b border-slate-100 align-top last:border-0" data-testid="key-row" data-key-id={record.id}>
      <td className="px-3 py-2">
        <div className="font-medium">{record.label}</div>
        <div className="text-xs text-slate-500">{ORIGIN_LABEL[record.origin]}</div>
      </td>
      <td className="px-3 py-2">
        {SCHEME_LABEL[record.scheme]}
        {record.scheme === 'liu' && <div className="text-xs text-amber-700">legacy: leaks order and ratios</div>}
        {record.scheme === 'fdhope' && <div className="text-xs text-amber-700">reveals order by design</div>}
      </td>
      <td className="px-3 py-2 text-xs text-slate-700">{describeParams(record)}</td>
      <td className="whitespace-nowrap px-3 py-2 text-xs">{formatDate(record.createdAt)}</td>
      <td className="px-3 py-2 text-xs" data-testid="key-used-by">
        {record.usedBy.length === 0 ? <span className="text-slate-400">nothing yet</span> : record.usedBy.map(describeUsageRef).join(', ')}
      </td>
      <td className="px-3 py-2">
        <div className="flex flex-wrap gap-1">
          <Button onClick={onTest} disabled={selfTest.isPending} aria-label={`Test ${record.label}`}>
            Test
          </Button>
          {selfTest.isPending && (
            <Button onClick={() => abort.current?.abort()} aria-label={`Cancel test of ${record.label}`}>
              Cancel
            </Button>
          )}
          <Button onClick={() => onTry(record)} aria-label={`Try ${record.label}`}>
            Try
          </Button>
          {record.scheme === 'ckks' && (
            <>
              <Button onClick={() => onDownload('bundle')} disabled={files.isPending} aria-label={`Public bundle of ${record.label}`}>
                Public bundle
              </Button>
              <Button onClick={() => onDownload('upstream')} disabled={files.isPending} aria-label={`Upstream public files of ${record.label}`}>
                Upstream files
              </Button>
            </>
          )}
          <Button variant="danger" onClick={() => onDelete(record)} aria-label={`Delete ${record.label}`}>
            Delete
          </Button>
        </div>
        {progress !== null && (
          <div className="mt-2 w-56">
            <ProgressBar label={`Self-test of ${record.label}`} value={progress} />
          </div>
        )}
        {result && (
          <p
            role="status"
            data-testid="self-test-result"
            data-ok={result.ok}
            data-count={result.count}
            data-encrypt-ms={result.encryptMs}
            data-decrypt-ms={result.decryptMs}
            className={`mt-2 max-w-xs text-xs ${result.ok ? 'text-emerald-700' : 'text-red-700'}`}>
            {result.summary}
          </p>
        )}
      </td>
    </tr>
  );
}
