'use client';
/** The keys page body: notices, generation, backups and imports, the key list, Try and Delete. */
import { useState } from 'react';
import type { LiuLevel } from '@/lib/crypto/liu';
import type { KeyRecord } from '@/lib/keystore/types';
import { toAppError } from '@/lib/errors';
import { useCryptoPoolSize, useDeleteKey, useKeys } from '@/lib/queries/keys';
import { useSettings } from '@/lib/queries/settings';
import { Alert } from '../ui/Alert';
import { EmptyState } from '../ui/Card';
import { BackupPanel } from './BackupPanel';
import { DeleteKeyDialog } from './DeleteKeyDialog';
import { GenerateKeys } from './GenerateKeys';
import { KeyList } from './KeyList';
import { failureNotice, type Notice } from './notice';
import { TryKeyPanel } from './TryKeyPanel';
import { describeUsageRef } from './format';

const DEFAULT_SELF_TEST_VALUES = 1000;
const MAX_SELF_TEST_VALUES = 2_000_000;

export function KeysManager() {
  useCryptoPoolSize();
  const { data: keys, error, isPending } = useKeys();
  const { data: loaded } = useSettings();
  const del = useDeleteKey();
  const [notice, setNotice] = useState<Notice | null>(null);
  const [trying, setTrying] = useState<KeyRecord | null>(null);
  const [deleting, setDeleting] = useState<KeyRecord | null>(null);
  const [selfTestCount, setSelfTestCount] = useState(String(DEFAULT_SELF_TEST_VALUES));

  const settings = loaded?.settings;
  const names = { pubkey: settings?.PUBKEY_FILENAME ?? 'pubkey', secretkey: settings?.SECRET_KEY_FILENAME ?? 'secretkey' };
  const count = Math.min(MAX_SELF_TEST_VALUES, Math.max(1, Math.floor(Number(selfTestCount)) || DEFAULT_SELF_TEST_VALUES));

  const onConfirmDelete = async () => {
    if (!deleting) return;
    try {
      const impact = await del.mutateAsync(deleting.id);
      const lost = impact.undecryptable.map(describeUsageRef).join(', ');
      setNotice({ tone: 'success', text: `Deleted key “${impact.record.label}”.${lost ? ` No longer decryptable: ${lost}.` : ''}` });
      if (trying?.id === deleting.id) setTrying(null);
    } catch (e) {
      setNotice(failureNotice(e));
    } finally {
      setDeleting(null);
    }
  };

  return (
    <div className="space-y-6">
      {notice && (
        <Alert tone={notice.tone}>
          <span data-testid="keys-notice">{notice.text}</span>
        </Alert>
      )}
      <GenerateKeys defaultLiuLevel={(settings?.LIU_SECURITY_LEVEL ?? 128) as LiuLevel} notify={setNotice} />
      <BackupPanel keyCount={keys?.length ?? 0} names={names} notify={setNotice} />

      <section aria-labelledby="key-list-title" className="space-y-3">
        <div className="flex items-end gap-4">
          <h2 id="key-list-title" className="text-base font-semibold">
            Keys in this browser
          </h2>
          <label className="ml-auto text-xs text-slate-600">
            Self-test values
            <input
              type="number"
              min={1}
              max={MAX_SELF_TEST_VALUES}
              className="ml-2 w-28 rounded-md border border-slate-300 px-2 py-1 text-sm"
              value={selfTestCount}
              onChange={(e) => setSelfTestCount(e.target.value)}
            />
          </label>
        </div>
        {isPending && <p className="text-sm text-slate-500">Loading keys…</p>}
        {error && <Alert tone="error" title="Key store unavailable">{toAppError(error).userMessage}</Alert>}
        {keys && keys.length === 0 && (
          <EmptyState title="No keys yet">Generate a key above, or import a backup or upstream key files. FDHOPE keys are made per dataset by jobs.</EmptyState>
        )}
        {keys && keys.length > 0 && (
          <KeyList keys={keys} pubkeyName={names.pubkey} selfTestCount={count} onTry={setTrying} onDelete={setDeleting} notify={setNotice} />
        )}
      </section>

      {trying && <TryKeyPanel key={trying.id} record={trying} onClose={() => setTrying(null)} notify={setNotice} />}
      {deleting && <DeleteKeyDialog record={deleting} busy={del.isPending} onCancel={() => setDeleting(null)} onConfirm={onConfirmDelete} />}
    </div>
  );
}
