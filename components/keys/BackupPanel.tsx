'use client';
/**
 * Backups and imports: export a passphrase-protected backup (passphrase twice, strength hint),
 * import one, or import upstream Pyfhel key files.
 */
import { useState } from 'react';
import { downloadText } from '@/lib/download';
import { MIN_PASSPHRASE_LENGTH, passphraseStrength, type KeyFileNames } from '@/lib/keystore';
import { useExportBackup, useImportBackup, useImportUpstreamKeys } from '@/lib/queries/keys';
import { Button } from '../ui/Button';
import { Card } from '../ui/Card';
import { reportFailure, type Notify } from './notice';

const input = 'mt-1 w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm';
const STRENGTH_COLOR = ['text-red-700', 'text-red-700', 'text-amber-700', 'text-emerald-700', 'text-emerald-700'] as const;

export function BackupPanel({ keyCount, names, notify }: { keyCount: number; names: KeyFileNames; notify: Notify }) {
  return (
    <div className="grid gap-4 md:grid-cols-3">
      <ExportBackup keyCount={keyCount} notify={notify} />
      <ImportBackup notify={notify} />
      <ImportUpstream names={names} notify={notify} />
    </div>
  );
}

function ExportBackup({ keyCount, notify }: { keyCount: number; notify: Notify }) {
  const exporter = useExportBackup();
  const [pass, setPass] = useState('');
  const [again, setAgain] = useState('');
  const strength = passphraseStrength(pass);
  const mismatch = again !== '' && again !== pass;
  const canExport = keyCount > 0 && strength.score > 0 && pass === again && !exporter.isPending;

  const onExport = () =>
    reportFailure(notify, async () => {
      const text = await exporter.mutateAsync({ passphrase: pass });
      downloadText(`rory-keys-backup-${new Date().toISOString().slice(0, 10)}.json`, text, 'application/json');
      notify({ tone: 'success', text: `Exported ${keyCount} key(s). Keep the file and the passphrase apart: without the passphrase the backup cannot be opened.` });
      setPass('');
      setAgain('');
    });

  return (
    <Card title="Export backup">
      <p className="mb-3 text-xs text-slate-600">All keys, secret parts included, encrypted with your passphrase (PBKDF2 + AES-GCM).</p>
      <label className="block text-sm">
        Backup passphrase
        <input type="password" autoComplete="new-password" className={input} value={pass} onChange={(e) => setPass(e.target.value)} />
      </label>
      {pass !== '' && (
        <p className={`mt-1 text-xs ${STRENGTH_COLOR[strength.score]}`} data-testid="passphrase-strength">
          Strength: {strength.label}. {strength.hint}
        </p>
      )}
      <label className="mt-3 block text-sm">
        Repeat passphrase
        <input type="password" autoComplete="new-password" className={input} value={again} onChange={(e) => setAgain(e.target.value)} />
      </label>
      {mismatch && <p className="mt-1 text-xs text-red-700">The passphrases differ.</p>}
      <Button variant="primary" className="mt-4" onClick={onExport} disabled={!canExport}>
        {exporter.isPending ? 'Encrypting…' : 'Export backup'}
      </Button>
      {keyCount === 0 && <p className="mt-2 text-xs text-slate-500">No keys to export yet.</p>}
      {keyCount > 0 && pass !== '' && strength.score === 0 && (
        <p className="mt-2 text-xs text-slate-500">At least {MIN_PASSPHRASE_LENGTH} characters.</p>
      )}
    </Card>
  );
}

function ImportBackup({ notify }: { notify: Notify }) {
  const importer = useImportBackup();
  const [file, setFile] = useState<File | null>(null);
  const [pass, setPass] = useState('');

  const onImport = async () => {
    if (!file) return;
    await reportFailure(notify, async () => {
      const r = await importer.mutateAsync({ file, passphrase: pass });
      const parts = [`Imported ${r.added.length} key(s) from ${file.name}.`];
      if (r.skipped.length) parts.push(`${r.skipped.length} already present and left unchanged.`);
      notify({ tone: 'success', text: parts.join(' ') });
      setPass('');
    });
  };

  return (
    <Card title="Import backup">
      <label className="block text-sm">
        Backup file
        <input type="file" accept=".json,application/json" className="mt-1 block w-full text-sm" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </label>
      <label className="mt-3 block text-sm">
        Passphrase for import
        <input type="password" autoComplete="current-password" className={input} value={pass} onChange={(e) => setPass(e.target.value)} />
      </label>
      <Button variant="primary" className="mt-4" onClick={onImport} disabled={!file || pass === '' || importer.isPending}>
        {importer.isPending ? 'Decrypting…' : 'Import backup'}
      </Button>
    </Card>
  );
}

function ImportUpstream({ names, notify }: { names: KeyFileNames; notify: Notify }) {
  const importer = useImportUpstreamKeys();
  const [files, setFiles] = useState<File[]>([]);
  const [label, setLabel] = useState('');

  const onImport = () =>
    reportFailure(notify, async () => {
      const r = await importer.mutateAsync({ files, names, label: label || 'Upstream CKKS keys' });
      notify({ tone: 'success', text: `Imported CKKS key set “${r.label}” (${r.params.parameterSet}).` });
      setLabel('');
    });

  return (
    <Card title="Import upstream CKKS keys">
      <p className="mb-3 text-xs text-slate-600">
        Pyfhel key files: ctx, {names.pubkey}, {names.secretkey}, relinkey, rotatekey (file names from Settings).
      </p>
      <label className="block text-sm">
        Upstream key files
        <input type="file" multiple className="mt-1 block w-full text-sm" onChange={(e) => setFiles(Array.from(e.target.files ?? []))} />
      </label>
      <label className="mt-3 block text-sm">
        Label for imported keys
        <input className={input} value={label} placeholder="Upstream CKKS keys" onChange={(e) => setLabel(e.target.value)} />
      </label>
      <Button variant="primary" className="mt-4" onClick={onImport} disabled={files.length === 0 || importer.isPending}>
        {importer.isPending ? 'Checking keys…' : 'Import upstream keys'}
      </Button>
    </Card>
  );
}
