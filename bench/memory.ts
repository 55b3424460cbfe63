// The product's memory: resident set size from /proc/<pid>/status, its peak over a run, and the V8 heap from the
// product's /metrics (prom-client's nodejs_heap_size_used_bytes, with METRICS_TOKEN).
import fs from 'node:fs';
import type { HttpTarget } from './load.js';

/** VmRSS of `pid`, kB (null when it cannot be read). */
export function rssKb(pid: number): number | null {
  return statusField(pid, 'VmRSS');
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The product's V8 heap in use (bytes), from /metrics; null without a token or when the metric is not there. */
export async function heapUsedBytes(api: HttpTarget, metricsToken: string | undefined): Promise<number | null> {
  if (!metricsToken) return null;
  const a = await api.send({ method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${metricsToken}` } }, true);
  const m = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(a.body);
  return a.status === 200 && m ? Number(m[1]) : null;
}

export interface MemoryPeak {
  /** RSS when the run started, kB. */
  start_kb: number | null;
  /** Highest RSS during the run, kB. */
  peak_kb: number | null;
  /** RSS when the run ended, kB. */
  end_kb: number | null;
  /**
   * 'VmHWM': the kernel's high-water mark, reset at the start (writing 5 to /proc/<pid>/clear_refs), so the exact
   * peak; 'samples': that reset was refused, the highest of the samples taken every `every_ms`.
   */
  peak_source: 'VmHWM' | 'samples';
  every_ms: number;
}

/**
 * Watches a process's RSS during a run: resets its peak (VmHWM) where the kernel lets us, and samples VmRSS every
 * `everyMs` as well (the fallback, and a check of the reset).
 */
export class MemoryWatch {
  private maxSample: number | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly startKb: number | null;
  private readonly hwmReset: boolean;

  private constructor(
    private readonly pid: number,
    private readonly everyMs: number,
  ) {
    this.hwmReset = resetPeak(pid);
    this.startKb = rssKb(pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs).unref();
  }

  static start(pid: number, everyMs = 100): MemoryWatch {
    return new MemoryWatch(pid, everyMs);
  }

  private sample(): void {
    const kb = rssKb(this.pid);
    if (kb !== null) this.maxSample = Math.max(this.maxSample ?? 0, kb);
  }

  stop(): MemoryPeak {
    clearInterval(this.timer);
    this.sample();
    const hwm = this.hwmReset ? statusField(this.pid, 'VmHWM') : null;
    return {
      start_kb: this.startKb,
      peak_kb: hwm !== null ? Math.max(hwm, this.maxSample ?? 0) : this.maxSample,
      end_kb: rssKb(this.pid),
      peak_source: hwm !== null ? 'VmHWM' : 'samples',
      every_ms: this.everyMs,
    };
  }
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false when the kernel refuses (not our process, old kernel). */
function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** "312 MB" from kB. */
export function mb(kb: number | null | undefined): string {
  return kb === null || kb === undefined ? 'n/a' : `${Math.round(kb / 1024)} MB`;
}
