// Small numeric helpers shared by the scenarios and the report.

export interface LatencySummary {
  count: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

/** Nearest-rank percentile of unsorted values (null for none). */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function summarize(values: number[]): LatencySummary {
  return {
    count: values.length,
    p50_ms: round(percentile(values, 50)),
    p99_ms: round(percentile(values, 99)),
    max_ms: round(values.length === 0 ? null : values.reduce((a, b) => Math.max(a, b), -Infinity)),
  };
}

export function round(n: number | null, digits = 1): number | null {
  if (n === null || !Number.isFinite(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function perSecond(count: number, ms: number): number {
  return ms > 0 ? Math.round((count * 1000) / ms) : 0;
}

/**
 * Answers per second from their arrival times (ms): (count - 1) over the span from the first to the last. Below a
 * server's capacity that is the offered rate; beyond it, the rate the server kept up (its saturation point).
 */
export function arrivalRate(times: number[]): number | null {
  if (times.length < 2) return null;
  let min = Infinity;
  let max = -Infinity;
  for (const t of times) [min, max] = [Math.min(min, t), Math.max(max, t)];
  return max > min ? Math.round(((times.length - 1) * 1000) / (max - min)) : null;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it answers true; throws after `timeoutMs`. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(everyMs);
  }
}
