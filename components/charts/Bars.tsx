'use client';
/** Horizontal bars (cluster sizes, per-round timings). */
import { PALETTE } from './Scatter';

export function Bars({ items, title, unit = '' }: { items: { label: string; value: number; color?: number }[]; title: string; unit?: string }) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return (
    <figure aria-label={title} role="img" className="space-y-1">
      {items.map((item, idx) => (
        <div key={item.label} className="flex items-center gap-2 text-xs">
          <span className="w-24 shrink-0 truncate text-slate-600">{item.label}</span>
          <span className="h-3 rounded" style={{ width: `${(item.value / max) * 70}%`, background: PALETTE[(item.color ?? idx) % PALETTE.length] }} />
          <span className="tabular-nums text-slate-700">
            {Number.isInteger(item.value) ? item.value : item.value.toFixed(2)}
            {unit}
          </span>
        </div>
      ))}
    </figure>
  );
}
