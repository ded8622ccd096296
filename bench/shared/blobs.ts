/**
 * Generated benchmark data: `k` Gaussian blobs (unit variance, centres uniform in [−10, 10)) in
 * `cols` dimensions, record i in blob i mod k. Deterministic (xorshift32 + Box–Muller), so the Node
 * and Chromium benches cluster the same 10 000 × 8 set.
 */
export function blobsCsv(rows: number, cols: number, k: number): string {
  let s = 0x9e3779b9;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const centres = Array.from({ length: k }, () => Array.from({ length: cols }, () => (u() - 0.5) * 20));
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const c = centres[i % k];
    lines.push(c.map((m) => (m + gauss()).toFixed(6)).join(','));
  }
  return lines.join('\n') + '\n';
}
