'use client';
import { useEffect, useMemo, useRef, useState } from 'react';
import {
  SETTING_SPECS,
  parseEnvFile,
  serializeEnvFile,
  validateSettings,
  type FieldErrors,
  type SettingKey,
  type SettingSpec,
  type Settings,
} from '@/lib/config';
import { toAppError } from '@/lib/errors';
import { useResetSettings, useSaveSettings, useSettings } from '@/lib/queries/settings';
import { downloadText } from '@/lib/download';
import { Alert } from '../ui/Alert';
import { Button } from '../ui/Button';
import { Card } from '../ui/Card';

type Draft = Record<SettingKey, string>;

const toDraft = (s: Settings): Draft =>
  Object.fromEntries(SETTING_SPECS.map((spec) => [spec.key, formatValue(s[spec.key])])) as Draft;

function formatValue(v: string | number | boolean): string {
  return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
}

export function SettingsForm() {
  const { data: loaded, error, isPending } = useSettings();
  const save = useSaveSettings();
  const reset = useResetSettings();
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [notice, setNotice] = useState<{ tone: 'success' | 'warning' | 'error'; text: string } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (loaded) setDraft(toDraft(loaded.settings));
  }, [loaded]);

  const groups = useMemo(() => {
    const m = new Map<string, SettingSpec[]>();
    for (const s of SETTING_SPECS) m.set(s.group, [...(m.get(s.group) ?? []), s]);
    return [...m.entries()];
  }, []);

  if (isPending) return <p className="text-sm text-slate-500">Loading settings…</p>;
  if (error) return <Alert tone="error" title="Settings unavailable">{toAppError(error).userMessage}</Alert>;
  if (!loaded || !draft) return null;

  const onSave = async () => {
    const v = validateSettings(draft, loaded.deployment);
    if (!v.ok) {
      setErrors(v.errors);
      setNotice({ tone: 'error', text: `Not saved: ${Object.keys(v.errors).length} invalid value(s). Fix the highlighted fields.` });
      return;
    }
    setErrors({});
    try {
      await save.mutateAsync({ raw: draft, loaded });
      setNotice({ tone: 'success', text: 'Settings saved in this browser.' });
    } catch (e) {
      setNotice({ tone: 'error', text: toAppError(e).userMessage });
    }
  };

  const onImport = async (file: File) => {
    const parsed = parseEnvFile(await file.text());
    const next = { ...draft, ...parsed.values };
    const v = validateSettings(next, loaded.deployment);
    setDraft(next);
    setErrors(v.ok ? {} : v.errors);
    const parts = [`Imported ${Object.keys(parsed.values).length} setting(s) from ${file.name}.`];
    if (parsed.ignored.length) parts.push(`Ignored keys this app does not use: ${parsed.ignored.join(', ')}.`);
    if (parsed.malformed.length) parts.push(`Skipped malformed lines: ${parsed.malformed.map((m) => m.line).join(', ')}.`);
    parts.push(v.ok ? 'Review and press Save.' : 'Some values are invalid; fix the highlighted fields, then Save.');
    setNotice({ tone: v.ok ? 'success' : 'warning', text: parts.join(' ') });
  };

  const onExport = () => {
    const v = validateSettings(draft, loaded.deployment);
    if (!v.ok) {
      setErrors(v.errors);
      setNotice({ tone: 'error', text: 'Fix the highlighted fields before exporting.' });
      return;
    }
    downloadText('.client.env', serializeEnvFile(v.settings), 'text/plain');
  };

  return (
    <div className="space-y-6">
      {loaded.deploymentWarning && <Alert tone="warning">{loaded.deploymentWarning}</Alert>}
      {notice && (
        <Alert tone={notice.tone}>
          <span data-testid="settings-notice">{notice.text}</span>
        </Alert>
      )}
      <div className="flex flex-wrap gap-2">
        <Button variant="primary" onClick={onSave} disabled={save.isPending}>
          Save
        </Button>
        <Button onClick={() => fileInput.current?.click()}>Import .client.env</Button>
        <input
          ref={fileInput}
          type="file"
          accept=".env,.client.env,text/plain"
          aria-label="Import .client.env file"
          className="hidden"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void onImport(f);
            e.target.value = '';
          }}
        />
        <Button onClick={onExport}>Export .client.env</Button>
        <Button
          onClick={async () => {
            await reset.mutateAsync();
            setErrors({});
            setNotice({ tone: 'success', text: 'Restored the deployment defaults.' });
          }}
        >
          Reset to defaults
        </Button>
      </div>
      {groups.map(([group, specs]) => (
        <Card key={group} title={group}>
          <div className="grid gap-4 md:grid-cols-2">
            {specs.map((spec) => (
              <SettingField
                key={spec.key}
                spec={spec}
                value={draft[spec.key]}
                error={errors[spec.key]}
                defaultValue={formatValue(loaded.deployment[spec.key])}
                onChange={(v) => setDraft({ ...draft, [spec.key]: v })}
              />
            ))}
          </div>
        </Card>
      ))}
    </div>
  );
}

function SettingField({
  spec,
  value,
  error,
  defaultValue,
  onChange,
}: {
  spec: SettingSpec;
  value: string;
  error?: string;
  defaultValue: string;
  onChange: (v: string) => void;
}) {
  const id = `setting-${spec.key}`;
  const describedBy = `${id}-help`;
  const base = `mt-1 w-full rounded-md border px-2 py-1.5 text-sm ${error ? 'border-red-400 bg-red-50' : 'border-slate-300'}`;
  return (
    <div>
      <label htmlFor={id} className="flex items-baseline gap-2 text-sm font-medium">
        <code className="text-xs">{spec.key}</code>
        <span className="text-slate-500">{spec.label}</span>
        {spec.applicability !== 'used' && (
          <span className="ml-auto rounded bg-slate-100 px-1.5 py-0.5 text-[10px] uppercase text-slate-600">
            {spec.applicability === 'replaced' ? 'replaced in browser' : 'compatibility only'}
          </span>
        )}
      </label>
      {spec.kind === 'bool' ? (
        <select id={id} aria-describedby={describedBy} aria-invalid={!!error} className={base} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="0">0 (off)</option>
          <option value="1">1 (on)</option>
        </select>
      ) : spec.kind === 'enum' ? (
        <select id={id} aria-describedby={describedBy} aria-invalid={!!error} className={base} value={value} onChange={(e) => onChange(e.target.value)}>
          {spec.options!.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : (
        <input id={id} aria-describedby={describedBy} aria-invalid={!!error} className={base} value={value} onChange={(e) => onChange(e.target.value)} />
      )}
      {error && (
        <p className="mt-1 text-xs text-red-700" role="alert">
          {spec.key}: {error}
        </p>
      )}
      <p id={describedBy} className="mt-1 text-xs text-slate-500">
        {spec.help} Default: <code>{defaultValue === '' ? '(empty)' : defaultValue}</code>.{spec.note && <span className="block text-slate-600">{spec.note}</span>}
      </p>
    </div>
  );
}
