// Better Auth hosted per branch (issue 15): memory per active server, sign-ups through Better Auth (closed loop, beside
// the bare route on the same machine), and whether each sign-up's users_sync row is visible when its answer arrives
// (the trigger writes it in the sign-up's transaction: the lag is 0 by construction, measured here).
import { scrypt } from 'node:crypto';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BARE_PATH, newNonce, type BenchContext } from '../context.js';
import { closedLoop, HttpTarget, type PreparedRequest } from '../load.js';
import { withPgClient } from '../pg.js';
import { Product } from '../product.js';
import { perSecond, round, summarize, type LatencySummary } from '../stats.js';

export interface BetterAuthResult {
  /** Servers built (one per database with better_auth) for the memory figure. */
  instances: number;
  /** RSS and V8 heap growth of the product per server built and used once (after a GC-friendly pause). */
  rss_per_instance_kb: number;
  heap_per_instance_kb: number | null;
  /** The first request to each database's server (includes building it). */
  first_request_ms: LatencySummary;
  signups: number;
  concurrency: number;
  signups_per_s: number;
  failed: number;
  bare_per_s: number;
  /**
   * Better Auth's password hash alone (scrypt N=16384, r=16, p=1, 64 bytes: what every e-mail sign-up pays), as many
   * at once as the sign-ups had in flight, on this machine: the ceiling of any e-mail-and-password sign-up rate.
   */
  hash_ceiling_per_s: number;
  /** Sampled sequential sign-ups whose users_sync row was there when the 200 arrived (expected: all). */
  visible_at_answer: { sampled: number; visible: number };
}

const METRICS_TOKEN = 'bench-metrics-token-0123456789';

function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) : 0;
}

async function heapBytes(api: HttpTarget): Promise<number | null> {
  const a = await api.send({ method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } }, true);
  const m = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(a.body);
  return m ? Number(m[1]) : null;
}

export async function betterAuthScenario(ctx: BenchContext, log: (s: string) => void): Promise<BetterAuthResult> {
  const instances = ctx.config.betterAuthInstances;
  const signups = ctx.config.betterAuthSignups;
  const concurrency = 32;
  // Its own product process: its memory and CPU are this scenario's alone; no rate limit on sign-ups.
  const product = await Product.start(ctx.pg, {
    name: 'product-better-auth',
    database: 'bench_better_auth',
    env: { BETTER_AUTH_RATE_LIMIT_PER_IP: '0', BRANCHES_LIMIT: String(instances + 10), METRICS_TOKEN },
  });
  try {
    const created = await product.api.json<{ project: { id: string }; branch: { id: string }; connection_uris: { connection_uri: string }[] }>(
      product.neon('POST', '/projects', { project: { name: 'bench better auth' } }),
    );
    const projectId = created.project.id;
    const branchId = created.branch.id;
    log(`better auth: ${instances} servers (the default branch with better_auth, then branches copied from it, each with its own)`);
    const auth = await product.api.json<{ base_url: string }>(product.neon('POST', `/projects/${projectId}/branches/${branchId}/auth`, { auth_provider: 'better_auth' }), [201]);
    const bases: string[] = [new URL(auth.base_url).pathname];
    for (let i = 1; i < instances; i++) {
      const b = await product.api.json<{ branch: { id: string } }>(product.neon('POST', `/projects/${projectId}/branches`, { branch: { name: `ba-${i}` } }), [201]);
      bases.push(`/neon-auth/${b.branch.id}/neondb/auth`);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const heapBefore = await heapBytes(product.api);
    const rssBefore = rssKb(product.server.pid);
    const first: number[] = [];
    for (const base of bases) {
      const started = performance.now();
      const a = await product.api.send({ method: 'GET', path: `${base}/get-session`, headers: {} });
      if (a.status !== 200) throw new Error(`first request to ${base}: ${a.status}`);
      first.push(performance.now() - started);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const heapAfter = await heapBytes(product.api);
    const rssAfter = rssKb(product.server.pid);

    const nonce = newNonce();
    const signUp = (i: number): PreparedRequest => ({
      method: 'POST',
      path: `${bases[0]}/sign-up/email`,
      headers: { 'content-type': 'application/json', origin: 'http://localhost:3000' },
      body: Buffer.from(JSON.stringify({ email: `ba-${nonce}-${i}@bench.example`, password: 'bench password 123', name: `BA ${i}` })),
    });
    log(`better auth: ${signups} sign-ups, ${concurrency} concurrent`);
    const loop = await closedLoop(product.api, Array.from({ length: signups }, (_, i) => signUp(i)), concurrency);
    const bare = await closedLoop(ctx.bare.http, Array.from({ length: signups * 4 }, () => ({ method: 'POST', path: BARE_PATH, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') })), concurrency);

    const hashes = Math.max(64, Math.round(signups / 10));
    const hashStarted = performance.now();
    await Promise.all(
      Array.from({ length: hashes }, (_, i) => new Promise<void>((resolve, reject) => scrypt('bench password 123', `salt-${nonce}-${i}`, 64, { N: 16384, r: 16, p: 1, maxmem: 64 * 1024 * 1024 }, (err) => (err ? reject(err) : resolve())))),
    );
    const hashPerS = perSecond(hashes, performance.now() - hashStarted);

    const sampled = 200;
    let visible = 0;
    const dbUrl = ctx.pg.url(new URL(created.connection_uris[0].connection_uri).pathname.slice(1));
    await withPgClient(dbUrl, async (c) => {
      for (let i = 0; i < sampled; i++) {
        const a = await product.api.send(signUp(signups + i), true);
        const id = (JSON.parse(a.body) as { user: { id: string } }).user.id;
        const { rows } = await c.query('SELECT 1 FROM neon_auth.users_sync WHERE id = $1 AND deleted_at IS NULL', [id]);
        if (rows.length === 1) visible++;
      }
    });
    return {
      instances: bases.length,
      rss_per_instance_kb: Math.round((rssAfter - rssBefore) / bases.length),
      heap_per_instance_kb: heapBefore === null || heapAfter === null ? null : Math.round((heapAfter - heapBefore) / 1024 / bases.length),
      first_request_ms: summarize(first),
      signups,
      concurrency,
      signups_per_s: perSecond(signups, loop.ms),
      failed: loop.failed,
      bare_per_s: perSecond(signups * 4, bare.ms),
      hash_ceiling_per_s: hashPerS,
      visible_at_answer: { sampled, visible },
    };
  } finally {
    await product.stop();
  }
}

export function betterAuthVerdicts(b: BetterAuthResult): { metric: string; measured: string; value: number | null; target: string; pass: boolean | null }[] {
  return [
    {
      metric: `Better Auth servers, memory (${b.instances} built)`,
      measured: `${b.rss_per_instance_kb} KB RSS and ${b.heap_per_instance_kb ?? '?'} KB heap per server; first request p50 ${round(b.first_request_ms.p50_ms)} / p99 ${round(b.first_request_ms.p99_ms)} ms`,
      value: b.rss_per_instance_kb,
      target: 'reference',
      pass: null,
    },
    {
      metric: `Better Auth sign-ups, closed loop x${b.concurrency}`,
      measured:
        `${b.signups_per_s}/s = ${round(b.signups_per_s / b.hash_ceiling_per_s, 2)} of the password hash alone (scrypt ${b.hash_ceiling_per_s}/s); ` +
        `bare route ${b.bare_per_s}/s${b.failed ? `, ${b.failed} failed` : ''}`,
      value: b.signups_per_s,
      target: 'reference',
      pass: null,
    },
    {
      metric: 'Better Auth users_sync lag',
      measured: `${b.visible_at_answer.visible} of ${b.visible_at_answer.sampled} sign-ups visible in users_sync when answered (lag 0)`,
      value: b.visible_at_answer.visible,
      target: 'all visible',
      pass: b.visible_at_answer.visible === b.visible_at_answer.sampled,
    },
  ];
}
