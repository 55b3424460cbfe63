// Event loop under password sign-ins: does the product stay responsive while it hashes and verifies passwords?
// A product process of its own (throttling off: STACK_AUTH_RATE_LIMIT_PER_ACCOUNT=0, STACK_AUTH_RATE_LIMIT_PER_IP=0),
// a provider project, a few accounts created by password sign-up; then GET /health/live every BENCH_EVENT_LOOP_PROBE_MS
// (20) ms for BENCH_EVENT_LOOP_SECONDS (10) s with nothing else running (idle), and again while an open loop sends
// BENCH_EVENT_LOOP_RATE (50) password sign-ins per second through the provider's client API (loaded). Both loops are
// open: each probe's latency is from its scheduled send, so a stalled event loop cannot hide behind fewer probes.
// The product's own view, its event-loop delay per phase, comes from prom-client's monitorEventLoopDelay histogram on
// /metrics (reset by each scrape; a 10 ms timer, whose lateness is the delay reported).
import { randomBytes } from 'node:crypto';
import type { BenchConfig } from '../config.js';
import { newNonce } from '../context.js';
import { closedLoop, HttpTarget, openLoop, type OpenLoopResult, type PreparedRequest, type Scheduled } from '../load.js';
import type { BenchPostgres } from '../pg.js';
import { Product } from '../product.js';
import { perSecond, round, sleep, summarize, type LatencySummary } from '../stats.js';

export interface EventLoopDelay {
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

export interface ProbePhase {
  /** GET /health/live answer time from its scheduled send. */
  probe: LatencySummary;
  /** Probes not answered 200. */
  probe_failed: number;
  /** The product's event-loop delay over the phase: lateness of a 10 ms timer (prom-client, from /metrics). */
  event_loop_delay: EventLoopDelay | null;
}

export interface EventLoopResult {
  rate_per_s: number;
  seconds: number;
  probe_interval_ms: number;
  accounts: number;
  idle: ProbePhase;
  loaded: ProbePhase & {
    sign_ins: {
      sent: number;
      failed: number;
      statuses: Record<string, number>;
      /** Successful sign-ins per second, from the first scheduled send to the last answer. */
      answered_per_s: number;
      /** Answer time from the scheduled send. */
      response: LatencySummary;
      /** How long after the last scheduled sign-in the last answer came. */
      drain_ms: number | null;
      max_send_delay_ms: number;
    };
  };
}

const PASSWORD = 'bench-correct-horse-battery';
/** prom-client's monitorEventLoopDelay resolution (its default). */
const MONITOR_RESOLUTION_MS = 10;
const PROBE: PreparedRequest = { method: 'GET', path: '/health/live', headers: {} };

export async function eventLoopScenario(pgServer: BenchPostgres, config: BenchConfig, log: (s: string) => void): Promise<EventLoopResult> {
  const metricsToken = randomBytes(24).toString('hex');
  log('event loop: starting a product with sign-in throttling off');
  const product = await Product.start(pgServer, {
    name: 'product-event-loop',
    database: 'bench_event_loop',
    env: { STACK_AUTH_RATE_LIMIT_PER_ACCOUNT: '0', STACK_AUTH_RATE_LIMIT_PER_IP: '0', METRICS_TOKEN: metricsToken },
  });
  const probes = new HttpTarget(product.server.baseUrl, 16);
  try {
    const branch = await product.enableAuthBranch(pgServer);
    const nonce = newNonce();
    const emails = Array.from({ length: config.eventLoopAccounts }, (_, i) => `evloop-${nonce}-${i}@bench.example`);
    const signIn = (k: number): PreparedRequest => product.client(branch, 'POST', '/auth/password/sign-in', { email: emails[k % emails.length], password: PASSWORD });

    log(`event loop: ${emails.length} password sign-ups, a warm-up`);
    const signUps = await closedLoop(product.api, emails.map((email) => product.client(branch, 'POST', '/auth/password/sign-up', { email, password: PASSWORD })), 2);
    if (signUps.failed > 0) throw new Error(`sign-ups: ${JSON.stringify(signUps.statuses)}`);
    const warmSignIns = await closedLoop(product.api, emails.map((_, k) => signIn(k)), 2);
    if (warmSignIns.failed > 0) throw new Error(`warm-up sign-ins: ${JSON.stringify(warmSignIns.statuses)}`);
    await closedLoop(probes, Array.from({ length: 100 }, () => PROBE), 1);
    await sleep(1000); // the sign-ups' webhooks are delivered and applied
    await pgServer.checkpoint();

    const metrics = new HttpTarget(product.server.baseUrl, 1);
    const scrape = async (): Promise<EventLoopDelay | null> => {
      const a = await metrics.send({ method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${metricsToken}` } }, true);
      if (a.status !== 200) return null;
      const value = (name: string): number | null => {
        const m = new RegExp(`^nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(a.body);
        // The histogram holds the intervals of a 10 ms repeating timer: what exceeds 10 ms is the delay.
        return m ? round(Math.max(0, Number(m[1]) * 1000 - MONITOR_RESOLUTION_MS)) : null;
      };
      return { p50_ms: value('p50'), p99_ms: value('p99'), max_ms: value('max') };
    };
    const probeSchedule = (): Scheduled[] =>
      Array.from({ length: Math.round((config.eventLoopSeconds * 1000) / config.eventLoopProbeMs) }, (_, k) => ({ atMs: k * config.eventLoopProbeMs, req: PROBE }));
    const phase = (run: OpenLoopResult, delay: EventLoopDelay | null): ProbePhase => ({
      probe: summarize(run.responseMs),
      probe_failed: run.status.filter((s) => s !== 200).length,
      event_loop_delay: delay,
    });

    try {
      log(`event loop: idle, GET /health/live every ${config.eventLoopProbeMs} ms for ${config.eventLoopSeconds} s`);
      await scrape(); // resets the product's event-loop histogram
      const idleRun = await openLoop(probes, probeSchedule());
      const idle = phase(idleRun, await scrape());

      log(`event loop: the same probe under ${config.eventLoopRate} password sign-ins/s`);
      const n = Math.round(config.eventLoopRate * config.eventLoopSeconds);
      const signInSchedule: Scheduled[] = Array.from({ length: n }, (_, k) => ({ atMs: (k * 1000) / config.eventLoopRate, req: signIn(k) }));
      await scrape();
      const [loadedProbe, signIns] = await Promise.all([
        // Scraped when the probe window ends, not after the sign-ins' drain.
        openLoop(probes, probeSchedule()).then(async (run) => ({ run, delay: await scrape() })),
        openLoop(product.api, signInSchedule),
      ]);
      const ok = signIns.status.filter((s) => s >= 200 && s < 300).length;
      const lastDue = signIns.origin + signInSchedule[n - 1].atMs;
      const lastAnswer = Math.max(...signIns.responseMs.map((ms, k) => signIns.origin + signInSchedule[k].atMs + ms));
      return {
        rate_per_s: config.eventLoopRate,
        seconds: config.eventLoopSeconds,
        probe_interval_ms: config.eventLoopProbeMs,
        accounts: emails.length,
        idle,
        loaded: {
          ...phase(loadedProbe.run, loadedProbe.delay),
          sign_ins: {
            sent: n,
            failed: signIns.failed,
            statuses: signIns.statuses,
            answered_per_s: perSecond(ok, signIns.ms),
            response: summarize(signIns.responseMs),
            drain_ms: round(lastAnswer - lastDue),
            max_send_delay_ms: round(signIns.maxSendDelayMs) ?? 0,
          },
        },
      };
    } finally {
      metrics.close();
    }
  } finally {
    probes.close();
    await product.stop();
  }
}

