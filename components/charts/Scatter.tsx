'use client';
/** 2-D scatter of projected records coloured by cluster (plain SVG; no chart library). */
export const PALETTE = ['#1d5fd6', '#e4572e', '#17a398', '#f3a712', '#8e44ad', '#2e4057', '#d81159', '#66a182', '#a0522d', '#5c80bc'];

export function Scatter({
  points,
  labels,
  title,
  width = 520,
  height = 360,
}: {
  points: Float64Array;
  labels: ArrayLike<number>;
  title: string;
  width?: number;
  height?: number;
}) {
  const n = labels.length;
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, points[2 * i]);
    maxX = Math.max(maxX, points[2 * i]);
    minY = Math.min(minY, points[2 * i + 1]);
    maxY = Math.max(maxY, points[2 * i + 1]);
  }
  const pad = 24;
  const sx = (v: number) => pad + ((v - minX) / (maxX - minX || 1)) * (width - 2 * pad);
  const sy = (v: number) => height - pad - ((v - minY) / (maxY - minY || 1)) * (height - 2 * pad);
  const clusters = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  return (
    <figure>
      <svg role="img" aria-label={title} viewBox={`0 0 ${width} ${height}`} className="w-full max-w-xl rounded-lg border border-slate-200 bg-white">
        <line x1={pad} y1={height - pad} x2={width - pad} y2={height - pad} stroke="#cbd5e1" />
        <line x1={pad} y1={pad} x2={pad} y2={height - pad} stroke="#cbd5e1" />
        {Array.from({ length: n }, (_, i) => (
          <circle key={i} cx={sx(points[2 * i])} cy={sy(points[2 * i + 1])} r={3} fill={PALETTE[labels[i] % PALETTE.length]} fillOpacity={0.8} />
        ))}
      </svg>
      <figcaption className="mt-2 flex flex-wrap gap-3 text-xs text-slate-600">
        {clusters.map((c) => (
          <span key={c} className="flex items-center gap-1">
            <span className="inline-block h-2.5 w-2.5 rounded-full" style={{ background: PALETTE[c % PALETTE.length] }} />
            cluster {c}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
