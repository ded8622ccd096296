'use client';
/**
 * "Try" a key: encrypt a few typed values and get the ciphertext as text, or paste ciphertext
 * text and decrypt it — e.g. to check that a key restored from a backup opens old ciphertexts.
 */
import { useId, useState } from 'react';
import type { KeyRecord } from '@/lib/keystore/types';
import { useSampleDecrypt, useSampleEncrypt } from '@/lib/queries/keys';
import { Button } from '../ui/Button';
import { Card } from '../ui/Card';
import { SCHEME_LABEL } from './format';
import { reportFailure, type Notify } from './notice';

const area = 'mt-1 w-full rounded-md border border-slate-300 px-2 py-1.5 font-mono text-xs';

export function TryKeyPanel({ record, onClose, notify }: { record: KeyRecord; onClose: () => void; notify: Notify }) {
  const enc = useSampleEncrypt();
  const dec = useSampleDecrypt();
  const [values, setValues] = useState('1.5, -2.25, 3.125');
  const [ciphertext, setCiphertext] = useState('');
  const [decrypted, setDecrypted] = useState<number[] | null>(null);
  const valuesId = useId();
  const ciphertextId = useId();

  const onEncrypt = () =>
    reportFailure(notify, async () => {
      setCiphertext(await enc.mutateAsync({ id: record.id, text: values }));
      setDecrypted(null);
    });

  const onDecrypt = () =>
    reportFailure(notify, async () => {
      setDecrypted(await dec.mutateAsync({ id: record.id, ciphertext }));
    });

  return (
    <Card
      title={`Try ${SCHEME_LABEL[record.scheme]} key “${record.label}”`}
      actions={<Button onClick={onClose}>Close</Button>}
    >
      <div className="grid gap-4 md:grid-cols-2">
        <div>
          {/* Explicit label association: a wrapping label would fold the textarea's value into its name. */}
          <label htmlFor={valuesId} className="block text-sm">
            Values to encrypt
          </label>
          <textarea id={valuesId} className={area} rows={3} value={values} onChange={(e) => setValues(e.target.value)} />
          <Button variant="primary" className="mt-2" onClick={onEncrypt} disabled={enc.isPending}>
            Encrypt
          </Button>
        </div>
        <div>
          <label htmlFor={ciphertextId} className="block text-sm">
            Ciphertext
          </label>
          <textarea id={ciphertextId} className={area} rows={5} value={ciphertext} onChange={(e) => setCiphertext(e.target.value)} spellCheck={false} />
          <Button className="mt-2" onClick={onDecrypt} disabled={dec.isPending || ciphertext === '' || record.scheme === 'fdhope'}>
            Decrypt
          </Button>
          {record.scheme === 'fdhope' && <p className="mt-1 text-xs text-slate-500">FDHOPE has no decryption: the ciphertext only preserves order.</p>}
          {decrypted && (
            <p className="mt-2 text-sm" role="status">
              Decrypted values: <span data-testid="sample-decrypted" className="font-mono">{decrypted.map((v) => formatValue(v)).join(', ')}</span>
            </p>
          )}
        </div>
      </div>
    </Card>
  );
}

/** Enough digits to see that Liu is exact and CKKS approximate (~1e-7). */
function formatValue(v: number): string {
  return Number(v.toPrecision(10)).toString();
}
