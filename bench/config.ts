// Counts and rates of one benchmark run, from the environment (BENCH_QUICK=1 scales the counts down ~10x).

export const SCENARIOS = ['eventLoop', 'burst', 'applier', 'resync', 'providerCapacity', 'lag', 'soak', 'betterAuth'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchConfig {
  quick: boolean;
  /** Scenarios to run (BENCH_SCENARIOS, comma-separated; default all), always in the order of SCENARIOS. */
  scenarios: ScenarioName[];
  /** Change rates of the lag scenario (changes per second). */
  lagRates: number[];
  /** Measured seconds per lag rate, after the warm-up. */
  lagSeconds: number;
  warmupSeconds: number;
  /** Signed deliveries of distinct users in the burst scenario (each target gets the same requests). */
  burstEvents: number;
  /** Keep-alive connections of the closed-loop burst generator. */
  burstConcurrency: number;
  /** Pending inbox rows the applier-alone scenario inserts (also the rows of the raw ceiling). */
  applierRows: number;
  /** Rows per statement of the raw ceiling (baseline b). */
  ceilingBatch: number;
  /** Sign-ups of the provider capacity diagnostic. */
  capacitySignups: number;
  /** Provider users of the resync scenario. */
  resyncUsers: number;
  /** How provider users are created for the resync and the lag scenario's updates (see scenarios/provider-users.ts). */
  seed: 'sql' | 'api';
  /** Concurrent provider API requests while creating users (untimed setup). */
  setupConcurrency: number;
  /** How long a change may take to become visible before it counts as lost (also how long answers are awaited after an open loop's last send). */
  visibilityTimeoutMs: number;
  /** Bound on waiting for the product to drain (webhook outbox and sync inbox empty) after a lag rate and after the soak. */
  drainTimeoutMs: number;
  /** Provider changes per second of the soak (open loop). */
  soakRate: number;
  /** Seconds of soak load. */
  soakSeconds: number;
  /** Seconds between the soak's samples of RSS, heap, progress and CPU. */
  soakSampleSeconds: number;
  /** Seeded provider users the soak's updates take turns on (at most half its changes). */
  soakUsers: number;
  /** The soak's memory verdict: the highest RSS of its last window within this many percent of the highest of its first (minute 1). */
  soakRssTolerancePct: number;
  /** Changes the soak's generator lets wait for an answer before it skips (does not send) the ones due. */
  soakMaxOutstanding: number;
  /** Password sign-ins per second of the event-loop scenario (open loop). */
  eventLoopRate: number;
  /** Seconds of each event-loop phase (idle probe, then probe under sign-ins). */
  eventLoopSeconds: number;
  /** Interval of the GET /health/live probe, ms. */
  eventLoopProbeMs: number;
  /** Accounts the sign-ins take turns on (created by sign-ups first). */
  eventLoopAccounts: number;
  /** Better Auth servers built for the memory figure (one branch each). */
  betterAuthInstances: number;
  /** Sign-ups through Better Auth (closed loop). */
  betterAuthSignups: number;
  /** BENCH_SYNC_WORKER=1: the sync engine's applier in a worker process (`npm run worker`), the product with SYNC_ENGINE=receive. */
  syncWorker: boolean;
  /** Where the JSON results go. */
  outputFile: string;
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
  return n;
}

export function loadBenchConfig(): BenchConfig {
  const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
  const scale = (full: number): number => (quick ? Math.max(1, Math.round(full / 10)) : full);
  const rates = (process.env.BENCH_LAG_RATES ?? '50,100,200,1000,2000').split(',').map((r) => Number(r.trim()));
  if (rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error('BENCH_LAG_RATES must be a comma-separated list of positive rates');
  const seed = process.env.BENCH_SEED ?? 'sql';
  if (seed !== 'sql' && seed !== 'api') throw new Error(`BENCH_SEED must be sql or api (got "${seed}")`);
  const wanted = (process.env.BENCH_SCENARIOS ?? SCENARIOS.join(',')).split(',').map((x) => x.trim());
  const unknown = wanted.filter((w) => !(SCENARIOS as readonly string[]).includes(w));
  if (unknown.length > 0) throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  const soakRate = int('BENCH_SOAK_RATE', 500);
  return {
    quick,
    scenarios: SCENARIOS.filter((x) => wanted.includes(x)),
    seed,
    lagRates: rates,
    lagSeconds: int('BENCH_LAG_SECONDS', quick ? 1 : 5),
    warmupSeconds: int('BENCH_WARMUP_SECONDS', quick ? 0.5 : 1),
    burstEvents: int('BENCH_BURST_EVENTS', scale(50_000)),
    burstConcurrency: int('BENCH_BURST_CONCURRENCY', 64),
    applierRows: int('BENCH_APPLIER_ROWS', scale(50_000)),
    ceilingBatch: int('BENCH_CEILING_BATCH', 1_000),
    capacitySignups: int('BENCH_CAPACITY_SIGNUPS', scale(6_000)),
    resyncUsers: int('BENCH_RESYNC_USERS', scale(100_000)),
    setupConcurrency: int('BENCH_SETUP_CONCURRENCY', 32),
    visibilityTimeoutMs: int('BENCH_VISIBILITY_TIMEOUT_MS', 15_000),
    drainTimeoutMs: int('BENCH_DRAIN_TIMEOUT_MS', 120_000),
    soakRate,
    soakSeconds: int('BENCH_SOAK_SECONDS', quick ? 30 : 300),
    soakSampleSeconds: int('BENCH_SOAK_SAMPLE_SECONDS', quick ? 2 : 5),
    soakUsers: int('BENCH_SOAK_USERS', 20_000),
    soakRssTolerancePct: int('BENCH_SOAK_RSS_TOLERANCE_PCT', 10),
    soakMaxOutstanding: int('BENCH_SOAK_MAX_OUTSTANDING', soakRate * 10),
    eventLoopRate: int('BENCH_EVENT_LOOP_RATE', 50),
    eventLoopSeconds: int('BENCH_EVENT_LOOP_SECONDS', quick ? 3 : 10),
    eventLoopProbeMs: int('BENCH_EVENT_LOOP_PROBE_MS', 20),
    eventLoopAccounts: int('BENCH_EVENT_LOOP_ACCOUNTS', 10),
    betterAuthInstances: int('BENCH_BETTER_AUTH_INSTANCES', quick ? 5 : 20),
    betterAuthSignups: scale(int('BENCH_BETTER_AUTH_SIGNUPS', 2000)),
    syncWorker: process.env.BENCH_SYNC_WORKER === '1',
    outputFile: process.env.BENCH_OUTPUT ?? 'bench/results/latest.json',
  };
}
