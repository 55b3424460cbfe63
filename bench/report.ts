// Verdicts against issue 5's targets, the printed table and the JSON file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchConfig } from './config.js';
import type { CpuShares } from './cpu.js';
import { mb, type MemoryPeak } from './memory.js';
import type { ApplierResult } from './scenarios/applier.js';
import { betterAuthVerdicts, type BetterAuthResult } from './scenarios/better-auth.js';
import type { BurstResult } from './scenarios/burst.js';
import type { EventLoopResult, ProbePhase } from './scenarios/event-loop.js';
import type { LagResult } from './scenarios/lag.js';
import type { ProviderCapacityResult } from './scenarios/provider-capacity.js';
import type { ResyncResult } from './scenarios/resync.js';
import type { SoakResult, SoakWindow } from './scenarios/soak.js';
import { round } from './stats.js';
import type { WritesPerEvent } from './writes.js';

export interface Results {
  eventLoop?: EventLoopResult;
  lag?: LagResult[];
  burst?: BurstResult;
  applier?: ApplierResult;
  resync?: ResyncResult;
  providerCapacity?: ProviderCapacityResult;
  soak?: SoakResult;
  betterAuth?: BetterAuthResult;
  /** os.loadavg() at the start and the end: other work on the machine skews every figure. */
  load_average?: { before: number[]; after: number[] };
  errors: { scenario: string; error: string }[];
}

export interface Verdict {
  metric: string;
  measured: string;
  value: number | null;
  target: string;
  /** null: a reference figure without a target. */
  pass: boolean | null;
}

/** Lag p99 targets of the issue, by rate. */
const LAG_P99_TARGET_MS: Record<number, number> = { 200: 25, 1000: 50 };
/** The issue's anchor figures for the baselines on a 2-core machine, for comparison. */
const NAIVE_LAG_P99_ANCHOR_MS: Record<number, number> = { 200: 12, 1000: 280 };

export function ratios(r: Results): Record<string, number | null> {
  const div = (a: number | null | undefined, b: number | null | undefined): number | null =>
    a === null || a === undefined || !b ? null : round(a / b, 2);
  return {
    burst_product_over_naive: div(r.burst?.product.events_per_s, r.burst?.naive.events_per_s),
    burst_product_over_bare: div(r.burst?.product.events_per_s, r.burst?.bare.answered_per_s),
    burst_naive_over_bare: div(r.burst?.naive.events_per_s, r.burst?.bare.answered_per_s),
    burst_product_over_bare_http: div(r.burst?.product.events_per_s, r.burst?.bareHttp?.answered_per_s),
    applier_over_ceiling: div(r.applier?.rows_per_s, r.applier?.ceiling.rows_per_s),
  };
}

export function verdicts(r: Results): Verdict[] {
  const out: Verdict[] = [];
  const q = ratios(r);
  for (const lag of r.lag ?? []) {
    const p99 = lag.overall.p99_ms;
    const late = (v: number | null): string => (v === null && lag.lost > 0 ? 'timeout' : fmt(v));
    const shown =
      `p50 ${late(lag.overall.p50_ms)} / p99 ${late(p99)} ms (created p99 ${late(lag.created.p99_ms)}, updated p99 ${late(lag.updated.p99_ms)}; ` +
      `answer p50 ${fmt(lag.response.p50_ms)} ms)${lag.lost || lag.failed ? `, ${lag.lost} lost, ${lag.failed} failed${lag.aborted ? ` (${lag.aborted} unanswered, aborted)` : ''}` : ''}` +
      saturation(lag) +
      (lag.writes ? `; ${writesText(lag.writes)}` : '');
    if (lag.target === 'product') {
      const target = LAG_P99_TARGET_MS[lag.rate_per_s];
      out.push({
        metric: `Lag, product, ${lag.rate_per_s}/s`,
        measured: shown,
        value: p99,
        target: target === undefined ? '-' : `p99 <= ${target} ms`,
        pass: target === undefined ? null : p99 !== null && p99 <= target && lag.lost === 0 && lag.failed === 0,
      });
    } else {
      const anchor = NAIVE_LAG_P99_ANCHOR_MS[lag.rate_per_s];
      out.push({ metric: `Lag, naive (a), ${lag.rate_per_s}/s`, measured: shown, value: p99, target: anchor === undefined ? 'reference' : `reference (issue: p99 ~${anchor} ms)`, pass: null });
    }
  }
  if (r.eventLoop) out.push(eventLoopVerdict(r.eventLoop));
  if (r.burst) {
    const b = r.burst;
    out.push({
      metric: `Burst, product (applied)`,
      measured: `${fmt(b.product.events_per_s)} events/s (${b.product.events} in ${fmt(b.product.applied_ms)} ms; answered ${b.product.answered_per_s}/s; ${writesText(b.product.writes)})`,
      value: b.product.events_per_s,
      target: '-',
      pass: null,
    });
    out.push({ metric: 'Burst, naive (a)', measured: `${fmt(b.naive.events_per_s)} events/s (${writesText(b.naive.writes)})`, value: b.naive.events_per_s, target: 'reference (issue: ~2,100/s)', pass: null });
    out.push({ metric: 'Burst, bare route (c)', measured: `${b.bare.answered_per_s} req/s`, value: b.bare.answered_per_s, target: 'reference (issue: ~4,100/s)', pass: null });
    if (b.product.memory) out.push(memoryVerdict('Product RSS, burst', b.product.memory));
    out.push(ratioVerdict('Burst, product / naive', q.burst_product_over_naive, 1.5, '>= 1.5x'));
    out.push(ratioVerdict('Burst, product / bare', q.burst_product_over_bare, 0.8, '>= 0.80'));
    if (b.bareHttp) {
      out.push({ metric: 'Burst, bare node:http (d)', measured: `${b.bareHttp.answered_per_s} req/s`, value: b.bareHttp.answered_per_s, target: 'reference (the receiver\'s server, no Express)', pass: null });
      out.push(ratioVerdict('Burst, product / bare node:http', q.burst_product_over_bare_http, 0.8, '>= 0.80'));
    }
  }
  if (r.applier) {
    const a = r.applier;
    out.push({ metric: 'Applier alone', measured: `${fmt(a.rows_per_s)} rows/s (${a.rows} in ${fmt(a.applied_ms)} ms; ${writesText(a.writes).replace('event', 'row')})`, value: a.rows_per_s, target: '-', pass: null });
    out.push({ metric: 'Raw upsert ceiling (b)', measured: `${a.ceiling.rows_per_s} rows/s (batches of ${a.ceiling.batch})`, value: a.ceiling.rows_per_s, target: 'reference (issue: ~29,000/s)', pass: null });
    out.push(ratioVerdict('Applier / ceiling', q.applier_over_ceiling, 0.6, '>= 0.60'));
  }
  if (r.providerCapacity) {
    const p = r.providerCapacity;
    out.push({
      metric: `Provider sign-ups, closed loop x${p.concurrency}`,
      measured: `${p.answered_per_s} answered/s, ${fmt(p.synced_per_s)} in users_sync/s (${writesText(p.writes)})${p.failed ? `, ${p.failed} failed` : ''}; API alone (webhook endpoint disabled): ${p.api_only.answered_per_s} answered/s${p.api_only.failed ? `, ${p.api_only.failed} failed` : ''}`,
      value: p.answered_per_s,
      // Issue 17: ten times the 103 sign-ups/s measured when it was filed.
      target: `>= ${fmt(PROVIDER_SIGNUPS_TARGET)}/s answered (10x)`,
      pass: p.answered_per_s >= PROVIDER_SIGNUPS_TARGET,
    });
  }
  if (r.soak) out.push(...soakVerdicts(r.soak));
  if (r.betterAuth) out.push(...betterAuthVerdicts(r.betterAuth));
  if (r.resync) {
    const s = r.resync;
    out.push({
      metric: `Resync, ${s.provider_users} users (${s.seed} seed)`,
      measured: `${s.visible_ms === null ? 'not complete' : `${fmt(s.visible_ms / 1000, 2)} s`} (POST answered in ${fmt(s.request_ms / 1000, 2)} s, ${s.status})`,
      value: s.visible_ms,
      target: '<= 4 s (issue 17)',
      pass: s.visible_ms !== null && s.visible_ms <= 4000,
    });
    if (s.memory) out.push(memoryVerdict('Product RSS, resync', s.memory));
  }
  return out;
}

/** GET /health/live while password sign-ins run, beside the same probe idle (no target: the issue asks for the figures). */
export function eventLoopVerdict(e: EventLoopResult): Verdict {
  const s = e.loaded.sign_ins;
  const failedProbes = (p: ProbePhase): string => (p.probe_failed ? `, ${p.probe_failed} probes failed` : '');
  const delay = (p: ProbePhase): string => fmt(p.event_loop_delay?.p99_ms);
  return {
    metric: `Event loop under ${fmt(e.rate_per_s)} sign-ins/s`,
    measured:
      `/health/live p99 ${fmt(e.loaded.probe.p99_ms)} ms, p50 ${fmt(e.loaded.probe.p50_ms)} ms${failedProbes(e.loaded)} ` +
      `(idle p99 ${fmt(e.idle.probe.p99_ms)} ms, p50 ${fmt(e.idle.probe.p50_ms)} ms${failedProbes(e.idle)}); ` +
      `product's event-loop delay p99 ${delay(e.loaded)} ms (idle ${delay(e.idle)} ms); ` +
      `sign-ins ${fmt(s.answered_per_s)} answered/s, answer p50 ${fmt(s.response.p50_ms)} / p99 ${fmt(s.response.p99_ms)} ms` +
      `${s.failed ? `, ${s.failed} failed ${JSON.stringify(s.statuses)}` : ''}`,
    value: e.loaded.probe.p99_ms,
    target: '-',
    pass: null,
  };
}

/** For a run the target did not keep up with: what it answered and where the changes waited when the last was sent. */
function saturation(lag: LagResult): string {
  if (lag.answered_per_s === null || lag.answered_per_s >= 0.9 * lag.rate_per_s) return '';
  const b = lag.backlog_at_last_send;
  const at = b ? `; at the last send ${fmt(b.unanswered)} unanswered, ${fmt(b.outbox)} webhooks undelivered, ${fmt(b.inbox)} deliveries unapplied` : '';
  const drain = lag.drain ? `; ${lag.drain.drained ? `drained in ${fmt(lag.drain.ms / 1000, 1)} s` : `not drained after ${fmt(lag.drain.ms / 1000, 1)} s`}` : '';
  return `; saturated: ${fmt(lag.answered_per_s)} answered/s${at}${drain}`;
}

/** Peak RSS of the product over a run. */
function memoryVerdict(metric: string, m: MemoryPeak): Verdict {
  return {
    metric,
    measured: `peak ${mb(m.peak_kb)} (${mb(m.start_kb)} before, ${mb(m.end_kb)} at the end; ${m.peak_source === 'VmHWM' ? 'VmHWM' : `max of samples every ${m.every_ms} ms`})`,
    value: m.peak_kb,
    target: '-',
    pass: null,
  };
}

function soakVerdicts(s: SoakResult): Verdict[] {
  const pct = (v: number | null): string => (v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(1)} %`);
  const heap = s.heap_used_kb;
  const first = s.windows[0];
  const last = s.windows[s.windows.length - 1];
  const lagText = (l: { p50_ms: number | null; p99_ms: number | null }): string =>
    `p50 ${l.p50_ms === null ? 'timeout' : fmt(l.p50_ms)} / p99 ${l.p99_ms === null ? 'timeout' : fmt(l.p99_ms)} ms`;
  return [
    {
      metric: `Soak, ${fmt(s.rate_per_s)} changes/s x ${fmt(s.seconds)} s`,
      measured:
        `${fmt(s.sent)} sent, ${fmt(s.answered_ok)} answered 2xx (${fmt(s.answered_per_s)}/s)` +
        `${s.failed ? `, ${fmt(s.failed)} failed${s.aborted ? ` (${fmt(s.aborted)} aborted)` : ''}` : ''}${s.skipped ? `, ${fmt(s.skipped)} skipped (generator at its bound)` : ''}; ` +
        `${fmt(s.visible)} in users_sync, ${fmt(s.lost)} lost; lag ${lagText(s.lag)}; ` +
        `${s.drain.drained ? `drained ${fmt(s.drain.ms / 1000, 1)} s after the load` : `not drained ${fmt(s.drain.ms / 1000, 1)} s after the load (left ${JSON.stringify(s.drain.left)})`}`,
      value: s.answered_per_s,
      target: '-',
      pass: null,
    },
    {
      metric: `Soak, product RSS`,
      measured:
        `highest ${mb(first?.rss_max_kb)} in ${fmt(first?.from_s)}-${fmt(first?.to_s)} s, ${mb(last?.rss_max_kb)} in ${fmt(last?.from_s)}-${fmt(last?.to_s)} s ` +
        `(${pct(s.growth.last_window_over_first_pct)}); ${mb(s.rss.early_kb)} at ${fmt(s.rss.early_at_s)} s, ${mb(s.rss.end_kb)} at ${fmt(s.seconds)} s ` +
        `(${pct(s.growth.end_over_early_pct)}), ${mb(s.rss.drained_kb)} drained; peak ${mb(s.rss.peak.peak_kb)}, ${mb(s.rss.before_kb)} before; ` +
        `${fmt(s.growth.kb_per_1000_changes)} kB per 1,000 changes; V8 heap ${mb(heap.early)} / ${mb(heap.end)} / ${mb(heap.drained)}`,
      value: s.growth.last_window_over_first_pct,
      target: `last window's highest <= first's +${s.growth.tolerance_pct} %`,
      pass: s.flat,
    },
  ];
}

/** Issue 17's provider target: ten times the closed-loop sign-ups of the day it was filed (103/s). */
const PROVIDER_SIGNUPS_TARGET = 1030;

/** The soak's windows, one line each, and its RSS series. */
export function soakLines(s: SoakResult): string[] {
  const load = s.samples.filter((x) => x.phase === 'load');
  const line = (w: SoakWindow): string => {
    const at = load.reduce((best, x) => (Math.abs(x.t_s - w.to_s) < Math.abs(best.t_s - w.to_s) ? x : best), load[0]);
    const late = (v: number | null): string => (v === null ? 'timeout' : fmt(v));
    return (
      `${fmt(w.from_s)}-${fmt(w.to_s)} s: ${fmt(w.sent)} sent, ${fmt(w.answered_ok)} answered 2xx, ${fmt(w.visible)} in users_sync, ` +
      `lag p50 ${late(w.lag.p50_ms)} / p99 ${late(w.lag.p99_ms)} ms; highest RSS ${mb(w.rss_max_kb)}, lowest V8 heap ${mb(w.heap_min_kb)}` +
      (at?.backlog ? `; at ${fmt(at.t_s)} s ${fmt(at.backlog.outbox)} webhooks undelivered, ${fmt(at.backlog.inbox)} deliveries unapplied` : '')
    );
  };
  // At most about 20 points of the RSS series (all of them are in the JSON).
  const stride = Math.max(1, Math.ceil(s.samples.length / 20));
  const series = s.samples.filter((x, i) => i % stride === 0 || i === s.samples.length - 1 || x.phase === 'drained');
  return [...s.windows.map(line), `RSS: ${series.map((x) => `${fmt(x.t_s)} s ${mb(x.rss_kb)}${x.phase === 'drained' ? ' (drained)' : ''}`).join(', ')}`];
}

/** One row per measured run that has CPU figures: cores used per process group. */
export function cpuRows(r: Results): { run: string; cpu: CpuShares }[] {
  const rows: { run: string; cpu: CpuShares }[] = [];
  const add = (run: string, cpu: CpuShares | undefined): void => {
    if (cpu) rows.push({ run, cpu });
  };
  add('Burst, product', r.burst?.product.cpu);
  add('Burst, naive (a)', r.burst?.naive.cpu);
  add('Burst, bare (c)', r.burst?.bare.cpu);
  add('Resync', r.resync?.cpu);
  add('Provider sign-ups', r.providerCapacity?.cpu);
  add('Provider sign-ups, API alone', r.providerCapacity?.api_only.cpu);
  for (const lag of r.lag ?? []) add(`Lag, ${lag.target === 'product' ? 'product' : 'naive (a)'}, ${lag.rate_per_s}/s`, lag.cpu);
  add(`Soak, ${r.soak?.rate_per_s}/s`, r.soak?.cpu);
  return rows;
}

const CPU_COLUMNS = ['product', 'worker', 'postgres', 'bench', 'naive', 'bare', 'other', 'machine'] as const;

/** Cores used (CPU seconds / wall seconds) per process group, one row per run. */
export function cpuTable(r: Results): string | null {
  const rows = cpuRows(r);
  if (rows.length === 0) return null;
  // The worker column only when a run had one (BENCH_SYNC_WORKER=1).
  const columns = CPU_COLUMNS.filter((c) => c !== 'worker' || rows.some(({ cpu }) => cpu.cores.worker !== undefined && cpu.cores.worker !== null));
  const head = ['Run', 'wall s', ...columns.map((c) => (c === 'bench' ? 'bench (generator)' : c === 'worker' ? 'sync worker' : c))];
  const cells = rows.map(({ run, cpu }) => [run, fmt(cpu.wall_s, 1), ...columns.map((c) => (cpu.cores[c] === null || cpu.cores[c] === undefined ? '-' : cpu.cores[c]!.toFixed(2)))]);
  return grid(head, cells);
}

/** "2.1 commits, 1,900 WAL bytes per event" (diagnostic). */
function writesText(w: WritesPerEvent | undefined): string {
  return w ? `${fmt(w.write_transactions, 2)} commits, ${fmt(w.wal_bytes)} WAL bytes per event` : 'writes n/a';
}

function ratioVerdict(metric: string, value: number | null, min: number, target: string): Verdict {
  return { metric, measured: value === null ? 'n/a' : `${value.toFixed(2)}`, value, target, pass: value === null ? false : value >= min };
}

function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined) return 'n/a';
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(digits);
}

export function table(rows: Verdict[]): string {
  const cells = rows.map((v) => [v.metric, v.measured, v.target, v.pass === null ? '' : v.pass ? 'PASS' : 'MISS']);
  return grid(['Metric', 'Measured', 'Target', 'Verdict'], cells);
}

function grid(head: string[], cells: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => `| ${c.map((s, i) => s.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export function writeJson(file: string, config: BenchConfig, results: Results, startedAt: Date): void {
  const doc = {
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? null, memory_gb: round(os.totalmem() / 2 ** 30, 1), node: process.version, platform: `${os.platform()} ${os.release()}` },
    config,
    notes: [
      'All servers, PostgreSQL and the load generator share this machine; the generator runs in the bench process.',
      'No request logging in any server (the product runs with LOG_LEVEL=warn; it logs successful requests at info).',
      'Lag is measured from the scheduled send time (open loop) to the NOTIFY of a trigger on users_sync.',
      'The product runs with NEON_AUTH_RECONCILE_INTERVAL_SECONDS=0 so no scheduled reconciliation runs during a measurement.',
    ],
    results,
    ratios: ratios(results),
    verdicts: verdicts(results),
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}
