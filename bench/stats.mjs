// Small statistics shared by bench/run.mjs (Node 22) and bench/node-side.mjs (Node 20).

/** Median of numbers (the mean of the two middle ones for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile, p in (0, 100]. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Latencies in ms and the wall time of the run: {count, medianMs, p99Ms, perSecond}. */
export function summarize(latencies, wallMs) {
  return {
    count: latencies.length,
    medianMs: median(latencies),
    p99Ms: percentile(latencies, 99),
    perSecond: latencies.length / (wallMs / 1000),
  };
}
