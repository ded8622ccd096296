'use client';
/**
 * The choices of the review step for a real-world file (issue #14 items 1, 3, 4, 5): how the CSV
 * is read (delimiter and decimal separator, with the competing readings one click away), the role
 * of every column, what to do with missing cells, and the scaling applied before encryption.
 * Props in, callbacks out.
 */
import { ROLE_REASON_TEXT, type ColumnRole } from '@/lib/data/columns';
import { CANDIDATE_FORMATS, describeFormat, sameFormat, type CsvFormat } from '@/lib/data/locale';
import { MISSING_STRATEGIES, MISSING_STRATEGY_NAMES, type MissingStrategy } from '@/lib/data/missing';
import type { MissingSummary } from '@/lib/data/prepare';
import { SCALING_METHODS, SCALING_NAMES, type ScalingMethod } from '@/lib/data/scaling';
import type { DatasetDraft, DraftColumn, DraftCsvFormat } from '@/lib/queries/datasets';
import { Alert } from '../ui/Alert';
import { Button } from '../ui/Button';
import { HeaderCells } from '../ui/Table';

const TH = 'whitespace-nowrap px-3 py-1.5 text-left font-medium';
const TD = 'px-3 py-1.5';

const ROLE_NAMES: Record<ColumnRole, string> = { feature: 'Feature', label: 'Label', ignore: 'Ignored' };

const key = (f: CsvFormat) => `${f.delimiter === '\t' ? 'tab' : f.delimiter}|${f.decimal}`;

/** How the file was read; the other readings as one-click buttons when the first lines allow them. */
export function FormatChoice({ csv, busy, onFormat }: { csv: DraftCsvFormat; busy: boolean; onFormat: (f: CsvFormat) => void }) {
  return (
    <div className="space-y-2 text-sm">
      <label className="block">
        <span className="font-medium">Read as</span>
        <select
          value={key(csv.format)}
          disabled={busy}
          onChange={(e) => {
            const f = CANDIDATE_FORMATS.find((c) => key(c) === e.target.value);
            if (f) onFormat(f);
          }}
          className="mt-1 w-full rounded-md border border-slate-300 px-2 py-1.5"
        >
          {CANDIDATE_FORMATS.map((f) => (
            <option key={key(f)} value={key(f)}>
              {describeFormat(f)}
            </option>
          ))}
        </select>
        <span className="mt-1 block text-xs text-slate-500" data-testid="csv-format">
          {csv.detected ? 'Detected' : 'Chosen'}: {describeFormat(csv.format)}
          {csv.header ? ', header line' : ', no header line'}
          {csv.bom ? ', UTF-8 with BOM' : ''}.
        </span>
      </label>
      {csv.alternatives.length > 0 && (
        <Alert tone="warning" title="The numbers can be read in more than one way">
          <p>
            The first lines fit {describeFormat(csv.format)} as well as {csv.alternatives.map(describeFormat).join(' or ')} (for example, “1,234” is
            1.234 with a decimal comma but 1234 with a thousands separator). Check the preview, or read the file the other way:
          </p>
          <div className="mt-2 flex flex-wrap gap-2">
            {csv.alternatives
              .filter((f) => !sameFormat(f, csv.format))
              .map((f) => (
                <Button key={key(f)} disabled={busy} onClick={() => onFormat(f)}>
                  Read as {describeFormat(f)}
                </Button>
              ))}
          </div>
        </Alert>
      )}
    </div>
  );
}

function cellsText(c: DraftColumn): string {
  switch (c.kind) {
    case 'empty':
      return 'empty';
    case 'text':
      return c.distinct !== undefined ? `text, ${c.distinct} distinct value${c.distinct === 1 ? '' : 's'}` : 'text, many distinct values';
    case 'mixed':
      return 'numbers and some text';
    default:
      return 'numbers';
  }
}

/** Every column of the file with a role picker limited to the roles its cells allow. */
export function ColumnRoles({ columns, busy, onRole }: { columns: readonly DraftColumn[]; busy: boolean; onRole: (column: number, role: ColumnRole) => void }) {
  return (
    <div>
      <h4 className="mb-1 text-sm font-semibold">Columns</h4>
      <p className="mb-2 text-xs text-slate-500">
        Features are encrypted and clustered; the label column holds known classes (kept in this browser to compare with results); ignored columns are
        left out. Change any role before saving.
      </p>
      <div className="max-h-80 overflow-auto rounded-lg border border-slate-200">
        <table aria-label="Column roles" className="min-w-full text-sm">
          <thead className="sticky top-0 bg-slate-50 text-xs text-slate-600">
            <tr>
              <HeaderCells names={['#', 'Column', 'Cells', 'Missing', 'Role', 'Why']} className={TH} />
            </tr>
          </thead>
          <tbody>
            {columns.map((c) => (
              <tr key={c.index} className="border-t border-slate-100" data-testid="column-role-row">
                <td className={`${TD} text-slate-500 tabular-nums`}>{c.index + 1}</td>
                <th scope="row" className={`${TD} text-left font-normal`}>
                  {c.name === '' ? <span className="text-slate-500">(unnamed)</span> : c.name}
                </th>
                <td className={`${TD} text-xs text-slate-600`}>{cellsText(c)}</td>
                <td className={`${TD} tabular-nums text-xs`}>{c.missing > 0 ? c.missing : ''}</td>
                <td className={TD}>
                  <select
                    aria-label={`Role of ${c.displayName}`}
                    value={c.role}
                    disabled={busy || c.allowed.length < 2}
                    onChange={(e) => onRole(c.index, e.target.value as ColumnRole)}
                    className="rounded-md border border-slate-300 px-1.5 py-0.5 text-xs"
                  >
                    {c.allowed.map((r) => (
                      <option key={r} value={r}>
                        {ROLE_NAMES[r]}
                      </option>
                    ))}
                  </select>
                </td>
                <td className={`${TD} text-xs text-slate-500`}>
                  {c.reason && c.role === c.defaultRole ? ROLE_REASON_TEXT[c.reason] : ''}
                  {c.thousands > 0 ? `${c.reason && c.role === c.defaultRole ? '; ' : ''}${c.thousands} with thousands separators` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** Missing cells per column (feature and label columns). */
export function MissingCounts({ missing }: { missing: MissingSummary }) {
  return (
    <table aria-label="Missing cells per column" className="mt-2 text-xs">
      <tbody>
        {missing.perColumn.map((c) => (
          <tr key={c.column}>
            <th scope="row" className="pr-3 text-left font-normal">
              {c.name}
            </th>
            <td className="tabular-nums">{c.count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The three ways on with missing cells, as buttons (shown while a file waits for the choice). */
export function MissingButtons({ missing, busy, onChoose }: { missing: MissingSummary; busy: boolean; onChoose: (s: MissingStrategy) => void }) {
  return (
    <div className="mt-3 flex flex-wrap gap-2">
      <Button disabled={busy} onClick={() => onChoose('drop')}>
        Drop the {missing.rows} record{missing.rows === 1 ? '' : 's'} with missing values
      </Button>
      <Button disabled={busy} onClick={() => onChoose('mean')}>
        {MISSING_STRATEGY_NAMES.mean}
      </Button>
      <Button disabled={busy} onClick={() => onChoose('median')}>
        {MISSING_STRATEGY_NAMES.median}
      </Button>
    </div>
  );
}

/** A labelled drop-down of `options`, each shown by its name. */
function ChoiceSelect<T extends string>({
  label,
  value,
  options,
  names,
  busy,
  onChange,
}: {
  label: string;
  value: T;
  options: readonly T[];
  names: Readonly<Record<T, string>>;
  busy: boolean;
  onChange: (value: T) => void;
}) {
  return (
    <label className="block">
      <span className="font-medium">{label}</span>
      <select value={value} disabled={busy} onChange={(e) => onChange(e.target.value as T)} className="mt-1 w-full rounded-md border border-slate-300 px-2 py-1.5">
        {options.map((o) => (
          <option key={o} value={o}>
            {names[o]}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Missing-value choice in the review (when the feature or label columns have missing cells). */
export function MissingChoice({ draft, busy, onChoose }: { draft: DatasetDraft; busy: boolean; onChoose: (s: MissingStrategy) => void }) {
  const { missing } = draft;
  if (missing.cells === 0 && missing.strategy === 'refuse') return null;
  return (
    <div className="text-sm">
      <ChoiceSelect label="Missing values" value={missing.strategy} options={MISSING_STRATEGIES} names={MISSING_STRATEGY_NAMES} busy={busy} onChange={onChoose} />
      <p className="mt-1 text-xs text-slate-600" data-testid="missing-summary">
        {missing.cells} missing cell{missing.cells === 1 ? '' : 's'} in {missing.rows} record{missing.rows === 1 ? '' : 's'}
        {missing.dropped > 0 ? `; ${missing.dropped} record${missing.dropped === 1 ? '' : 's'} dropped` : ''}.
      </p>
      {missing.cells > 0 && <MissingCounts missing={missing} />}
    </div>
  );
}

/** Scaling before encryption, with why it matters for k-means. */
export function ScalingChoice({ draft, busy, onScaling }: { draft: DatasetDraft; busy: boolean; onScaling: (s: ScalingMethod) => void }) {
  return (
    <div className="text-sm">
      <ChoiceSelect label="Scaling before encryption" value={draft.scaling} options={SCALING_METHODS} names={SCALING_NAMES} busy={busy} onChange={onScaling} />
      <p className="mt-1 text-xs text-slate-500">
        k-means adds up each column’s differences in that column’s own units, so a column in the thousands outweighs every column near 1. Scaling
        puts the columns on the same footing; previews, profiles and downloads stay in the file’s units.
      </p>
      {draft.spread && (
        <p className="mt-1 text-xs text-amber-800" data-testid="spread-note">
          “{draft.spread.wide}” varies about {Math.round(draft.spread.ratio).toLocaleString('en')}× more than “{draft.spread.narrow}”: consider z-score.
        </p>
      )}
    </div>
  );
}

/** What was left out or read specially. */
export function Notes({ notes }: { notes: readonly string[] }) {
  if (notes.length === 0) return null;
  return (
    <Alert tone="info" title="Notes">
      <ul className="list-disc pl-5" data-testid="dataset-notes">
        {notes.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
    </Alert>
  );
}
