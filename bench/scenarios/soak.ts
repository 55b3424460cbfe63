// Soak (issue 17): the product's memory under a long steady load. An open loop of provider changes through the
// embedded provider's server API at BENCH_SOAK_RATE/s for BENCH_SOAK_SECONDS, 50/50 sign-ups (POST /users) and
// display-name updates (PATCH /users/{id}) of seeded users, as in the lag scenario. Every few seconds: the product's
// RSS (/proc) and V8 heap (/metrics), the changes sent, answered and visible in users_sync, where the rest waits
// (webhook outbox, sync inbox) and the cores each process used. After the load, the product is left to drain and
// its RSS taken again. Flat: the highest RSS of the last minute within BENCH_SOAK_RSS_TOLERANCE_PCT of the highest
// of minute 1 (of a shorter run: its first and last fifth).
import { performance } from 'node:perf_hooks';
import { cpuMeter, type BenchContext } from '../context.js';
import type { CpuShares } from '../cpu.js';
import { backlog, waitForDrain, type Backlog, type DrainResult } from '../drain.js';
import { HttpTarget, openLoopOf, type PreparedRequest } from '../load.js';
import { heapUsedBytes, MemoryWatch, rssKb, type MemoryPeak } from '../memory.js';
import { VisibilityListener } from '../pg.js';
import { arrivalRate, round, sleep, summarize, type LatencySummary } from '../stats.js';
import { seedProviderUsers } from './provider-users.js';

export interface SoakSample {
  /** Seconds since the load started. */
  t_s: number;
  phase: 'load' | 'drained';
  rss_kb: number | null;
  heap_used_kb: number | null;
  /** Changes sent, answered (any status), answered other than 2xx, skipped by the generator, and seen in users_sync so far. */
  sent: number;
  answered: number;
  failed: number;
  skipped: number;
  visible: number;
  /** Where changes waited at that moment (null: not readable). */
  backlog: Backlog | null;
  /** Cores used per process since the previous sample. */
  cores: Record<string, number | null>;
}

export interface SoakWindow {
  from_s: number;
  to_s: number;
  /** Changes due in the window that were sent, answered 2xx, and seen in users_sync. */
  sent: number;
  answered_ok: number;
  visible: number;
  /** From scheduled send to visible; a change sent and never seen counts as infinitely late. */
  lag: LatencySummary;
  /** The product's highest RSS in the window (read every 250 ms): the top of its garbage-collection sawtooth. */
  rss_max_kb: number | null;
  /**
   * The lowest V8 heap in use among the window's samples: the floor of the collection sawtooth, close to what stays
   * alive. Growth per change shows here first (RSS keeps pages the allocator once used).
   */
  heap_min_kb: number | null;
}

export interface SoakResult {
  rate_per_s: number;
  seconds: number;
  /** Changes due in all (rate x seconds). */
  changes: number;
  sent: number;
  answered_ok: number;
  /** Answered other than 2xx, or never answered (aborted). */
  failed: number;
  aborted: number;
  /** Due while BENCH_SOAK_MAX_OUTSTANDING were unanswered, so not sent. */
  skipped: number;
  statuses: Record<string, number>;
  /** Seen in users_sync by the end of the drain. */
  visible: number;
  /** Answered 2xx, never seen in users_sync. */
  lost: number;
  /** 2xx answers per second, from the first to the last (offered: rate_per_s; well below it: the product saturated). */
  answered_per_s: number | null;
  /** Seeded users the updates take turns on. */
  update_users: number;
  response: LatencySummary;
  lag: LatencySummary;
  windows: SoakWindow[];
  rss: {
    before_kb: number | null;
    /** The early mark: minute 1 (or a fifth of a shorter run). */
    early_at_s: number;
    early_kb: number | null;
    /** When the last change was due. */
    end_kb: number | null;
    /** After the drain. */
    drained_kb: number | null;
    /** Over the load and the drain. */
    peak: MemoryPeak;
  };
  heap_used_kb: { before: number | null; early: number | null; end: number | null; drained: number | null };
  /** RSS at the end of the load (and after the drain) over RSS at the early mark, and the slope in between. */
  growth: {
    tolerance_pct: number;
    /** The verdict's figure: highest RSS in the last window over the highest in the first (the early mark ends it). */
    last_window_over_first_pct: number | null;
    end_over_early_pct: number | null;
    drained_over_early_pct: number | null;
    /** Least-squares slope of RSS against changes answered, samples from the early mark to the end of the load. */
    kb_per_1000_changes: number | null;
  };
  /**
   * Highest RSS of the last window within tolerance_pct of the highest of the first (null: not measured). Maxima of
   * windows, not two samples: RSS saws up and down with V8's collections by more than the tolerance.
   */
  flat: boolean | null;
  drain: DrainResult;
  /** Cores used per process over the load. */
  cpu?: CpuShares;
  max_send_delay_ms: number;
  samples: SoakSample[];
}

export async function soakScenario(ctx: BenchContext, log: (s: string) => void): Promise<SoakResult> {
  const { soakRate: rate, soakSeconds: seconds, soakSampleSeconds: every } = ctx.config;
  const n = Math.round(rate * seconds);
  // Minute 1 of a 5-minute run; a fifth of a shorter one. The windows of the lag and RSS figures are as long.
  const earlyAt = Math.min(60, seconds / 5);
  const windowS = earlyAt;
  const windowCount = Math.ceil(seconds / windowS - 1e-9);
  const pool = Math.max(1, Math.min(ctx.config.soakUsers, Math.ceil(n / 2)));
  log(`soak: seeding ${pool} provider users for the updates (${ctx.config.seed}; untimed)`);
  const users = await seedProviderUsers(ctx, Array.from({ length: pool }, (_, i) => `pre-soak-${ctx.nonce}-${i}`));

  const token = (k: number): string => `soak-${ctx.nonce}-${k}`;
  const atMs = (k: number): number => (k * 1000) / rate;
  let sent = 0;
  let skipped = 0;
  let answered = 0;
  let failed = 0;
  // Built when due: 150,000 prepared requests held beforehand would be the generator's memory, not the product's.
  const make = (k: number): PreparedRequest => {
    sent++;
    const t = token(k);
    if (k % 2 === 0) return ctx.product.provider(ctx.branch, 'POST', '/users', { primary_email: `${t}@bench.example`, display_name: t });
    return ctx.product.provider(ctx.branch, 'PATCH', `/users/${users[((k - 1) / 2) % pool]}`, { display_name: t });
  };

  const listener = await VisibilityListener.install(ctx.branch.branchDbUrl);
  // Its own connection: a scrape must not queue behind the load's 256 sockets.
  const metrics = new HttpTarget(ctx.product.server.baseUrl, 1);
  const pid = ctx.product.server.pid;
  const heapKb = async (): Promise<number | null> => {
    const bytes = await heapUsedBytes(metrics, ctx.metricsToken);
    return bytes === null ? null : Math.round(bytes / 1024);
  };
  try {
    await ctx.pg.checkpoint();
    await sleep(1000);
    const before = { rss: rssKb(pid), heap: await heapKb() };
    const peak = MemoryWatch.start(pid, 250);
    const meter = cpuMeter(ctx);
    const samples: Promise<SoakSample>[] = [];
    const loadStart = performance.now();
    let loadDone = false;
    let cpu: CpuShares | undefined;
    const sample = (phase: SoakSample['phase']): Promise<SoakSample> => {
      // What can be read at once is read at the scheduled moment; the heap and the backlog follow.
      const tS = round((performance.now() - loadStart) / 1000, 1) ?? 0;
      const fixed = { t_s: tS, phase, rss_kb: rssKb(pid), sent, answered, failed, skipped, visible: listener.seen.size, cores: meter.lap().cores };
      return Promise.all([heapKb(), backlog(ctx)]).then(([heap, b]) => ({ ...fixed, heap_used_kb: heap, backlog: b }));
    };
    const rssMax = new Array<number | null>(windowCount).fill(null);
    const rssTimer = setInterval(() => {
      const w = Math.floor((performance.now() - loadStart) / 1000 / windowS);
      const kb = rssKb(pid);
      if (!loadDone && w < windowCount && kb !== null) rssMax[w] = Math.max(rssMax[w] ?? 0, kb);
    }, 250).unref();
    const times = [...new Set([...Array.from({ length: Math.floor(seconds / every) + 1 }, (_, i) => i * every), earlyAt])].filter((t) => t < seconds).sort((a, b) => a - b);
    const sampling = (async (): Promise<void> => {
      for (const t of times) {
        const wait = loadStart + t * 1000 - performance.now();
        if (wait > 0) await sleep(wait);
        if (loadDone) return;
        samples.push(sample('load'));
      }
    })();

    log(`soak: ${n} changes at ${rate}/s for ${seconds} s (samples every ${every} s)`);
    const run = await openLoopOf(ctx.product.api, n, atMs, make, {
      answerTimeoutMs: ctx.config.visibilityTimeoutMs,
      maxOutstanding: ctx.config.soakMaxOutstanding,
      onSkip: () => skipped++,
      onAnswer: (_k, status) => {
        answered++;
        if (status < 200 || status >= 300) failed++;
      },
      onScheduleDone: () => {
        loadDone = true;
        cpu = meter.stop();
        samples.push(sample('load'));
      },
    });
    await sampling;
    clearInterval(rssTimer);
    const answeredOk = run.sent - run.failed;
    log(`soak: load done (${run.sent} sent, ${answeredOk} answered 2xx, ${run.skipped} skipped, ${run.aborted} aborted); waiting for the product to drain`);
    const drain = await waitForDrain(ctx, ctx.config.drainTimeoutMs, listener);
    // The tokens still missing get the visibility timeout's chance too (the drain may have stopped at its bound).
    const missingOk = Array.from({ length: n }, (_, k) => k).filter((k) => run.status[k] >= 200 && run.status[k] < 300 && !listener.seen.has(token(k)));
    if (missingOk.length > 0 && drain.drained) await listener.waitForAll(missingOk.map(token), Math.min(ctx.config.visibilityTimeoutMs, 5000));
    await sleep(1000);
    samples.push(sample('drained'));
    const memory = peak.stop();
    const all = await Promise.all(samples);
    all.sort((a, b) => a.t_s - b.t_s);

    const load = all.filter((s) => s.phase === 'load');
    const early = load.find((s) => s.t_s >= earlyAt - 0.5) ?? null;
    const end = load[load.length - 1] ?? null;
    const drained = all.find((s) => s.phase === 'drained') ?? null;
    const pct = (a: number | null | undefined, b: number | null | undefined): number | null => (a == null || !b ? null : round(((a - b) / b) * 100, 1));
    const endOverEarly = pct(end?.rss_kb, early?.rss_kb);
    const tolerance = ctx.config.soakRssTolerancePct;

    const lagOf = (k: number): number => (listener.seen.has(token(k)) ? listener.seen.get(token(k))! - (run.origin + atMs(k)) : Infinity);
    const sentKs = Array.from({ length: n }, (_, k) => k).filter((k) => run.status[k] !== -1);
    const windows: SoakWindow[] = [];
    for (let w = 0; w < windowCount; w++) {
      const from = w * windowS;
      const ks = sentKs.filter((k) => atMs(k) >= from * 1000 && atMs(k) < (from + windowS) * 1000);
      windows.push({
        from_s: round(from, 1) ?? 0,
        to_s: round(Math.min(seconds, from + windowS), 1) ?? 0,
        sent: ks.length,
        answered_ok: ks.filter((k) => run.status[k] >= 200 && run.status[k] < 300).length,
        visible: ks.filter((k) => listener.seen.has(token(k))).length,
        lag: summarize(ks.map(lagOf)),
        rss_max_kb: rssMax[w],
        heap_min_kb: minOf(load.filter((x) => x.t_s > from && x.t_s <= from + windowS).map((x) => x.heap_used_kb)),
      });
    }
    const lastOverFirst = pct(windows[windows.length - 1]?.rss_max_kb, windows[0]?.rss_max_kb);
    const visible = sentKs.filter((k) => listener.seen.has(token(k))).length;
    const lost = sentKs.filter((k) => run.status[k] >= 200 && run.status[k] < 300 && !listener.seen.has(token(k))).length;
    ctx.providerUsers += sentKs.filter((k) => k % 2 === 0 && run.status[k] >= 200 && run.status[k] < 300).length;
    return {
      rate_per_s: rate,
      seconds,
      changes: n,
      sent: run.sent,
      answered_ok: answeredOk,
      failed: run.failed,
      aborted: run.aborted,
      skipped: run.skipped,
      statuses: run.statuses,
      visible,
      lost,
      answered_per_s: arrivalRate(sentKs.filter((k) => run.status[k] >= 200 && run.status[k] < 300).map((k) => atMs(k) + run.responseMs[k])),
      update_users: pool,
      response: summarize(sentKs.map((k) => run.responseMs[k])),
      lag: summarize(sentKs.map(lagOf)),
      windows,
      rss: { before_kb: before.rss, early_at_s: early?.t_s ?? earlyAt, early_kb: early?.rss_kb ?? null, end_kb: end?.rss_kb ?? null, drained_kb: drained?.rss_kb ?? null, peak: memory },
      heap_used_kb: { before: before.heap, early: early?.heap_used_kb ?? null, end: end?.heap_used_kb ?? null, drained: drained?.heap_used_kb ?? null },
      growth: {
        tolerance_pct: tolerance,
        last_window_over_first_pct: lastOverFirst,
        end_over_early_pct: endOverEarly,
        drained_over_early_pct: pct(drained?.rss_kb, early?.rss_kb),
        kb_per_1000_changes: slope(load.filter((s) => s.t_s >= (early?.t_s ?? earlyAt)).map((s) => [s.answered, s.rss_kb])),
      },
      flat: lastOverFirst === null || windows.length < 2 ? null : lastOverFirst <= tolerance,
      drain,
      cpu,
      max_send_delay_ms: Math.round(run.maxSendDelayMs * 10) / 10,
      samples: all,
    };
  } finally {
    metrics.close();
    await listener.remove();
  }
}

/** kB of RSS per 1,000 changes answered: least-squares slope over (answered, rss) points; null with too few. */
function slope(points: [number, number | null][]): number | null {
  const p = points.filter((x): x is [number, number] => x[1] !== null);
  if (p.length < 3) return null;
  const mx = p.reduce((a, [x]) => a + x, 0) / p.length;
  const my = p.reduce((a, [, y]) => a + y, 0) / p.length;
  const sxx = p.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  if (sxx === 0) return null;
  const sxy = p.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  return round((sxy / sxx) * 1000, 1);
}

function minOf(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : Math.min(...known);
}
