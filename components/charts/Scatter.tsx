'use client';
/**
 * 2-D scatter of projected records coloured by cluster, drawn on a canvas (no chart library). A
 * canvas, not one SVG element per record: 10 000 records as SVG circles cost the page a
 * several-hundred-millisecond task to create and lay out when a job's results appear (issue #13:
 * no main-thread task over 50 ms); drawing them takes a few milliseconds.
 */
import { useEffect, useRef } from 'react';

export const PALETTE = ['#1d5fd6', '#e4572e', '#17a398', '#f3a712', '#8e44ad', '#2e4057', '#d81159', '#66a182', '#a0522d', '#5c80bc'];

/** Palette index of a label (labels may be negative, e.g. "no cluster"). */
const colour = (label: number) => ((label % PALETTE.length) + PALETTE.length) % PALETTE.length;

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
  const canvas = useRef<HTMLCanvasElement>(null);
  const n = labels.length;
  const clusters = [...new Set(Array.from(labels))].sort((a, b) => a - b);

  useEffect(() => {
    const el = canvas.current;
    const ctx = el?.getContext('2d');
    if (!el || !ctx) return;
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
    const ratio = window.devicePixelRatio || 1;
    el.width = Math.round(width * ratio);
    el.height = Math.round(height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.strokeStyle = '#cbd5e1';
    ctx.beginPath();
    ctx.moveTo(pad, height - pad);
    ctx.lineTo(width - pad, height - pad);
    ctx.moveTo(pad, pad);
    ctx.lineTo(pad, height - pad);
    ctx.stroke();
    // Each colour's dot is drawn once on a small canvas and stamped per record: a bitmap copy per
    // record instead of rasterising one arc per record (several times cheaper for 1 000+ records).
    const r = 3;
    const side = Math.ceil((2 * r + 2) * ratio);
    const dots = PALETTE.map((fill) => {
      const dot = document.createElement('canvas');
      dot.width = side;
      dot.height = side;
      const d = dot.getContext('2d');
      if (d) {
        d.scale(ratio, ratio);
        d.globalAlpha = 0.8;
        d.fillStyle = fill;
        d.beginPath();
        d.arc(r + 1, r + 1, r, 0, 2 * Math.PI);
        d.fill();
      }
      return dot;
    });
    for (let i = 0; i < n; i++) {
      ctx.drawImage(dots[colour(labels[i])], sx(points[2 * i]) - r - 1, sy(points[2 * i + 1]) - r - 1, side / ratio, side / ratio);
    }
  }, [points, labels, n, width, height]);

  return (
    <figure>
      <canvas ref={canvas} role="img" aria-label={title} width={width} height={height} className="h-auto w-full max-w-xl rounded-lg border border-slate-200 bg-white" />
      <figcaption className="mt-2 flex flex-wrap gap-3 text-xs text-slate-600">
        {clusters.slice(0, PALETTE.length).map((c) => (
          <span key={c} className="flex items-center gap-1">
            <span className="inline-block h-2.5 w-2.5 rounded-full" style={{ background: PALETTE[colour(c)] }} />
            cluster {c}
          </span>
        ))}
        {clusters.length > PALETTE.length && <span>and {clusters.length - PALETTE.length} more clusters (colours repeat)</span>}
      </figcaption>
    </figure>
  );
}
