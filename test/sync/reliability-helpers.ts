// Helpers of the sync engine's reliability specs (test/sync/reliability-*.e2e-spec.ts): real provider
// changes captured as the events the provider would send, seeded shuffles, bounded concurrency, signed
// deliveries over plain fetch (usable against in-process apps and child server processes alike),
// comparisons of users_sync with the provider, and a write log on users_sync.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { SecretsService } from '../../src/common/secrets.js';
import type { AppConfig } from '../../src/config/config.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { seededRandom } from '../helpers/random.js';
import { makeTempDir } from '../helpers/server-process.js';
import { adminQuery, testAdminUrl } from '../helpers/test-db.js';
import { enableAuth, newAuthProject, type AuthProject, type EnabledAuth } from '../neon-auth/users-helpers.js';
import { inbox, integrationOf, signed, waitFor, type Delivery } from './receiver-helpers.js';

// ---------------------------------------------------------------------------------------------------
// Randomness and concurrency

export { seededRandom } from '../helpers/random.js';

/** Fisher-Yates with `rand`; returns a new array. */
export function shuffle<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Runs `fn` over `items` with at most `concurrency` in flight; results in input order. */
export async function mapPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * Polls `problems` until it answers an empty list; on timeout throws with the last problems (first 15)
 * and `context` (e.g. the seed), so a failure says what did not converge.
 */
export async function converge(what: string, problems: () => Promise<string[]>, timeoutMs: number, context = '', everyMs = 100): Promise<number> {
  const start = Date.now();
  let last: string[] = [];
  for (;;) {
    last = await problems();
    if (last.length === 0) return Date.now() - start;
    if (Date.now() - start > timeoutMs) {
      throw new Error(
        `${what}: not converged within ${timeoutMs} ms ${context}\n${last.length} problem(s), first ones:\n  ${last.slice(0, 15).join('\n  ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ---------------------------------------------------------------------------------------------------
// The embedded Stack provider's server API over fetch

export interface StackServer {
  /** e.g. http://127.0.0.1:1234/stack-auth/api/v1 */
  base: string;
  headers: Record<string, string>;
}

export function stackServer(baseUrl: string, auth: { auth_provider_project_id: string; secret_server_key: string }): StackServer {
  return {
    base: `${baseUrl}/stack-auth/api/v1`,
    headers: {
      'content-type': 'application/json',
      'x-stack-access-type': 'server',
      'x-stack-project-id': auth.auth_provider_project_id,
      'x-stack-secret-server-key': auth.secret_server_key,
    },
  };
}

async function stackCall(s: StackServer, method: string, path: string, body?: unknown, ok: number[] = [200, 201]): Promise<{ status: number; body: any }> {
  const res = await fetch(`${s.base}${path}`, { method, headers: s.headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!ok.includes(res.status)) throw new Error(`stack ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export const stack = {
  createUser: async (s: StackServer, body: Record<string, unknown>) => (await stackCall(s, 'POST', '/users', body)).body as Record<string, any>,
  updateUser: async (s: StackServer, id: string, body: Record<string, unknown>) => (await stackCall(s, 'PATCH', `/users/${id}`, body)).body as Record<string, any>,
  deleteUser: async (s: StackServer, id: string) => {
    await stackCall(s, 'DELETE', `/users/${id}`);
  },
  /** The user as GET /users/{id} answers it, or undefined on 404. */
  getUser: async (s: StackServer, id: string) => {
    const r = await stackCall(s, 'GET', `/users/${id}`, undefined, [200, 404]);
    return r.status === 404 ? undefined : (r.body as Record<string, any>);
  },
  /** Every user of the project (all pages). */
  listUsers: async (s: StackServer) => {
    const all: Record<string, any>[] = [];
    let cursor: string | null | undefined;
    do {
      const r = await stackCall(s, 'GET', `/users?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      all.push(...(r.body.items as Record<string, any>[]));
      cursor = r.body.pagination?.next_cursor;
    } while (cursor);
    return all;
  },
};

// ---------------------------------------------------------------------------------------------------
// Captured provider events

export interface CapturedEvent {
  /** The svix message id of this event (the same on every delivery attempt). */
  messageId: string;
  userId: string;
  /** Position of the event in its user's history (0 = created). */
  seq: number;
  event: { type: 'user.created' | 'user.updated' | 'user.deleted'; data: Record<string, unknown> };
}

export function newMessageId(tag: string): string {
  return `msg_${tag}_${randomUUID().replace(/-/g, '')}`;
}

export interface ChangePlan {
  users: number;
  /** Updates spread over the users (the seeded PRNG picks whose). */
  updates: number;
  /** Users deleted at the end of their history. */
  deletes: number;
  /** Users changed in parallel (each user's own changes stay sequential). */
  concurrency: number;
  /** How the event is captured after each create/update: 'get' re-reads the user, 'response' uses the answer. */
  capture: 'get' | 'response';
  tag: string;
}

/**
 * Makes real changes in the provider (create, updates, deletes; one user's changes in order) and
 * captures after each the event the provider would send for it, each with its own message id.
 * Returns the events in each user's order (grouped by user).
 */
export async function makeProviderChanges(s: StackServer, plan: ChangePlan, rand: () => number): Promise<{ events: CapturedEvent[]; userIds: string[]; deleted: Set<string> }> {
  const perUser: number[] = Array.from({ length: plan.users }, () => 0);
  for (let i = 0; i < plan.updates; i++) perUser[Math.floor(rand() * plan.users)]++;
  const deleteIdx = new Set(shuffle([...Array(plan.users).keys()], rand).slice(0, plan.deletes));
  const histories = await mapPool([...Array(plan.users).keys()], plan.concurrency, async (u) => {
    const events: CapturedEvent[] = [];
    const push = (userId: string, type: CapturedEvent['event']['type'], data: Record<string, unknown>) =>
      events.push({ messageId: newMessageId(plan.tag), userId, seq: events.length, event: { type, data } });
    const created = await stack.createUser(s, {
      primary_email: `${plan.tag}-${u}-${randomUUID().slice(0, 8)}@example.com`,
      display_name: `${plan.tag} user ${u} v0`,
      client_metadata: { v: 0 },
    });
    const id = created.id as string;
    push(id, 'user.created', plan.capture === 'get' ? (await stack.getUser(s, id))! : created);
    for (let v = 1; v <= perUser[u]; v++) {
      const updated = await stack.updateUser(s, id, { display_name: `${plan.tag} user ${u} v${v}`, client_metadata: { v } });
      push(id, 'user.updated', plan.capture === 'get' ? (await stack.getUser(s, id))! : updated);
    }
    if (deleteIdx.has(u)) {
      await stack.deleteUser(s, id);
      push(id, 'user.deleted', { id, teams: [] });
    }
    return { id, events };
  });
  return {
    events: histories.flatMap((h) => h.events),
    userIds: histories.map((h) => h.id),
    deleted: new Set(histories.filter((_, u) => deleteIdx.has(u)).map((h) => h.id)),
  };
}

// ---------------------------------------------------------------------------------------------------
// Deliveries over fetch

export interface DeliveryResult {
  status: number;
  /** Network error (connection refused/reset) instead of an answer. */
  error?: string;
}

/** Signs `e` now (a fresh svix timestamp, as every provider attempt has) and POSTs it to the receiver. */
export async function postEvent(baseUrl: string, integrationId: string, secret: string, e: CapturedEvent, timeoutMs = 15_000): Promise<DeliveryResult> {
  return postDelivery(baseUrl, integrationId, signed(secret, e.event, { messageId: e.messageId }), timeoutMs);
}

export async function postDelivery(baseUrl: string, integrationId: string, d: Delivery, timeoutMs = 15_000): Promise<DeliveryResult> {
  try {
    const res = await fetch(`${baseUrl}/webhooks/neon-auth/${integrationId}`, {
      method: 'POST',
      headers: d.headers,
      body: d.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { status: 0, error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

export const is2xx = (r: DeliveryResult): boolean => r.status >= 200 && r.status < 300;

// ---------------------------------------------------------------------------------------------------
// users_sync vs the provider

export interface SyncRow {
  id: string;
  raw_json: Record<string, unknown>;
  updated_at: Date | null;
  deleted_at: Date | null;
}

export async function usersSyncRows(c: pg.Client | pg.Pool): Promise<Map<string, SyncRow>> {
  const { rows } = await c.query<SyncRow>('SELECT id, raw_json, updated_at, deleted_at FROM neon_auth.users_sync');
  return new Map(rows.map((r) => [r.id, r]));
}

/** Order-insensitive deep equality of JSON values (jsonb does not keep key order). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as any)[k], (b as any)[k]));
}

const brief = (v: unknown): string => {
  const o = v as Record<string, unknown> | undefined;
  return o ? JSON.stringify({ display_name: o.display_name, client_metadata: o.client_metadata }) : String(v);
};

/**
 * Differences between users_sync and the expected state: `live` users must have a row equal to their
 * provider object with deleted_at null; `deleted` ids a row with deleted_at set; no other rows.
 */
export function diffState(rows: Map<string, SyncRow>, live: Map<string, Record<string, unknown>>, deleted: Set<string>): string[] {
  const problems: string[] = [];
  for (const [id, user] of live) {
    const r = rows.get(id);
    if (!r) problems.push(`${id}: no row (expected ${brief(user)})`);
    else if (r.deleted_at !== null) problems.push(`${id}: deleted_at set but the user exists in the provider`);
    else if (!jsonEqual(r.raw_json, user)) problems.push(`${id}: row ${brief(r.raw_json)} != provider ${brief(user)}`);
  }
  for (const id of deleted) {
    const r = rows.get(id);
    if (!r) problems.push(`${id}: deleted user has no row`);
    else if (r.deleted_at === null) problems.push(`${id}: deleted in the provider but deleted_at is null (row ${brief(r.raw_json)})`);
  }
  for (const id of rows.keys()) if (!live.has(id) && !deleted.has(id)) problems.push(`${id}: unexpected row`);
  return problems;
}

/** The provider's current state: live users by id (from its list), and which of `known` it no longer has. */
export async function providerState(s: StackServer, known: Iterable<string>): Promise<{ live: Map<string, Record<string, unknown>>; gone: Set<string> }> {
  const live = new Map((await stack.listUsers(s)).map((u) => [u.id as string, u]));
  const gone = new Set([...known].filter((id) => !live.has(id)));
  return { live, gone };
}

// ---------------------------------------------------------------------------------------------------
// A write log on users_sync (every effective INSERT/UPDATE of a row, in commit order per id)

export const WRITE_LOG_SQL = `
  CREATE TABLE public.reliability_write_log (
    seq bigserial PRIMARY KEY, id text NOT NULL, op text NOT NULL, updated_at timestamptz, deleted_at timestamptz,
    raw_json jsonb, logged_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE FUNCTION public.reliability_log_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO public.reliability_write_log (id, op, updated_at, deleted_at, raw_json)
    VALUES (NEW.id, TG_OP, NEW.updated_at, NEW.deleted_at, NEW.raw_json);
    RETURN NULL;
  END $$;
  GRANT ALL ON public.reliability_write_log TO PUBLIC;
  GRANT ALL ON SEQUENCE public.reliability_write_log_seq_seq TO PUBLIC;
  CREATE TRIGGER reliability_log_write AFTER INSERT OR UPDATE ON neon_auth.users_sync
    FOR EACH ROW EXECUTE FUNCTION public.reliability_log_write();`;

export interface LoggedWrite {
  seq: string;
  id: string;
  op: string;
  /** updated_at in microseconds (timestamptz keeps them; a JS Date would round them away), as text. */
  updated_us: string | null;
  deleted_at: Date | null;
  raw_json: Record<string, unknown>;
}

/** The write log, in write order. */
export async function readWriteLog(c: pg.Client): Promise<LoggedWrite[]> {
  const { rows } = await c.query<LoggedWrite>(
    `SELECT seq, id, op, (extract(epoch FROM updated_at) * 1000000)::bigint::text AS updated_us, deleted_at, raw_json
       FROM public.reliability_write_log ORDER BY seq`,
  );
  return rows;
}

const usIso = (us: string | null): string => {
  if (us === null) return 'null';
  const n = BigInt(us);
  return `${new Date(Number(n / 1000n)).toISOString().slice(0, -1)}${String(n % 1000n).padStart(3, '0')}Z`;
};

/**
 * "Applied twice in effect", as users_sync can show it: per id, the versions written (updated_at, in
 * write order) must strictly increase — a version written twice means some state was applied twice,
 * a version going backwards means an older state overwrote a newer one.
 */
export function writeLogProblems(log: LoggedWrite[]): string[] {
  const problems: string[] = [];
  const last = new Map<string, LoggedWrite>();
  for (const w of log) {
    const prev = last.get(w.id);
    if (prev) {
      const a = prev.updated_us === null ? null : BigInt(prev.updated_us);
      const b = w.updated_us === null ? null : BigInt(w.updated_us);
      if (a !== null && b !== null && b === a) {
        const same = jsonEqual(prev.raw_json, w.raw_json) && (prev.deleted_at === null) === (w.deleted_at === null);
        // At one version a deletion may follow a non-deletion (the writer's documented tie rule); nothing else.
        if (!(prev.deleted_at === null && w.deleted_at !== null)) {
          problems.push(`${w.id}: version ${usIso(w.updated_us)} written twice (${same ? 'same' : 'different'} content; log seq ${prev.seq}, ${w.seq})`);
        }
      } else if (a !== null && (b === null || b < a)) {
        problems.push(`${w.id}: version went backwards ${usIso(prev.updated_us)} -> ${usIso(w.updated_us)} (log seq ${prev.seq}, ${w.seq})`);
      }
    }
    last.set(w.id, w);
  }
  return problems;
}

/** JSON with sorted keys: equal JSON values give equal strings. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  return `{${Object.keys(v as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

/**
 * "Applied twice in effect", per state: when every provider change was made before the deliveries, a
 * user's intermediate states (each carried by exactly one message id) can each be written at most once;
 * only the provider's current state may be written again (by a confirmation, which reads it back).
 * A state written twice means one event took effect twice (a duplicate that was not recognized, or a
 * re-application that was not a no-op). Deletion writes (deleted_at set) keep the last state and are
 * not counted. `current` maps live user ids to the provider's current object.
 */
export function repeatedStateProblems(log: LoggedWrite[], current: Map<string, Record<string, unknown>>): string[] {
  const counts = new Map<string, { id: string; n: number; seqs: string[]; brief: string }>();
  for (const w of log) {
    if (w.deleted_at !== null) continue;
    const json = canonicalJson(w.raw_json);
    const now = current.get(w.id);
    if (now && canonicalJson(now) === json) continue;
    const key = `${w.id}\u0000${json}`;
    const c = counts.get(key) ?? { id: w.id, n: 0, seqs: [], brief: brief(w.raw_json) };
    c.n++;
    c.seqs.push(w.seq);
    counts.set(key, c);
  }
  return [...counts.values()].filter((c) => c.n > 1).map((c) => `${c.id}: state ${c.brief} written ${c.n} times (log seq ${c.seqs.join(', ')})`);
}

// ---------------------------------------------------------------------------------------------------
// Child server processes

/**
 * The environment of a server process on the control-plane database `databaseUrl` (branch databases on the test
 * server, a data directory of its own, info logs), serving on `port`, which PUBLIC_URL names; `extra` is added.
 * Replicas share `key` (the bootstrap key) and `secretsKey`.
 */
export function replicaEnv(o: { databaseUrl: string; key: string; secretsKey: string; port: number }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: o.databaseUrl,
    COMPUTE_DATABASE_URL: testAdminUrl(),
    DATA_DIR: makeTempDir(),
    BOOTSTRAP_API_KEY: o.key,
    BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com',
    SECRETS_KEY: o.secretsKey,
    PORT: String(o.port),
    PUBLIC_URL: `http://127.0.0.1:${o.port}`,
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** The integration of a branch and its webhook secret, read from the control-plane database with SECRETS_KEY. */
export async function integrationFromDb(databaseUrl: string, secretsKey: string, projectId: string, branchId: string): Promise<{ id: string; secret: string }> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ id: string; webhook_secret_encrypted: string }>(
      'SELECT id, webhook_secret_encrypted FROM neon_auth_integrations WHERE project_id = $1 AND branch_id = $2',
      [projectId, branchId],
    );
    if (rows.length !== 1) throw new Error(`expected one integration on ${branchId}, found ${rows.length}`);
    const secrets = new SecretsService({ secretsKey } as AppConfig, pino({ level: 'silent' }));
    return { id: rows[0].id, secret: secrets.decrypt(rows[0].webhook_secret_encrypted, `neon_auth_integrations.webhook_secret:${rows[0].id}`) };
  } finally {
    await c.end();
  }
}

/** Creates a project and enables Neon Auth (embedded Stack) through a server's HTTP API. */
export async function projectWithAuth(baseUrl: string, key: string, name: string) {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const p = await fetch(`${baseUrl}/api/v2/projects`, { method: 'POST', headers, body: JSON.stringify({ project: { name } }) });
  const pBody = (await p.json()) as any;
  if (p.status !== 201) throw new Error(`create project: ${p.status} ${JSON.stringify(pBody)}`);
  const projectId = pBody.project.id as string;
  const branchId = pBody.branch.id as string;
  const a = await fetch(`${baseUrl}/api/v2/projects/${projectId}/branches/${branchId}/auth`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ auth_provider: 'stack' }),
  });
  const auth = (await a.json()) as any;
  if (a.status !== 201) throw new Error(`enable auth: ${a.status} ${JSON.stringify(auth)}`);
  return { projectId, branchId, uri: pBody.connection_uris[0].connection_uri as string, auth: auth as { auth_provider_project_id: string; secret_server_key: string } };
}

/**
 * Stops the provider's own webhook deliveries for its project (its endpoint disabled), so that the
 * test's deliveries are the only ones the receiver gets. Returns how many endpoints were disabled.
 */
export async function disableProviderWebhooks(databaseUrl: string, providerProjectId: string): Promise<number> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query('UPDATE stack_auth.webhook_endpoints SET disabled_at = now() WHERE project_id = $1 AND disabled_at IS NULL', [providerProjectId]);
    return r.rowCount ?? 0;
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------------
// The outage scenario of reliability-outage.e2e-spec.ts: the branch database stops accepting connections
// during a burst of provider changes (ALLOW_CONNECTIONS false + its sessions terminated), then comes
// back -> every row converges, nothing dead, nothing lost.

const OUTAGE_SEED = Number(process.env.RELIABILITY_SEED ?? 5150);

/**
 * The outage scenario (one app per file): `MAX_ATTEMPTS` is SYNC_MAX_ATTEMPTS.
 */
export function describeOutage(title: string, MAX_ATTEMPTS: number): void {
  describe(`${title} (seed ${OUTAGE_SEED}, SYNC_MAX_ATTEMPTS ${MAX_ATTEMPTS})`, () => {
    let t: TestApp;
    let project: AuthProject;
    let auth: EnabledAuth;
    let integration: { id: string; secret: string };
    let physicalName: string;

    const connectionsAllowed = async (allowed: boolean) => {
      await adminQuery(`ALTER DATABASE ${pg.escapeIdentifier(physicalName)} WITH ALLOW_CONNECTIONS ${allowed}`);
      if (!allowed) {
        await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [physicalName]);
      }
    };
    const canConnect = async (): Promise<boolean> => {
      const c = new pg.Client({ connectionString: project.uri, connectionTimeoutMillis: 3000 });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => undefined);
      }
    };

    beforeAll(async () => {
      t = await startTestApp({
        SYNC_RETRY_DELAY_SECONDS: '1', // the minimum
        SYNC_POLL_SECONDS: '1', // the minimum
        SYNC_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS: '1',
        STACK_AUTH_WEBHOOK_POLL_SECONDS: '1',
      });
      project = await newAuthProject(t, 'sync reliability outage');
      auth = await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
      integration = await integrationOf(t, project.projectId, project.defaultBranchId);
      const [db] = await t.app
        .get(DataSource)
        .query(`SELECT physical_name FROM branch_databases WHERE branch_id = $1 AND name = 'neondb'`, [project.defaultBranchId]);
      physicalName = db.physical_name as string;
    });
    afterAll(async () => {
      if (physicalName) await connectionsAllowed(true).catch(() => undefined);
      await t?.close();
    });

    it('~300 provider changes while the branch database refuses connections -> receiver keeps answering 2xx, rows converge after it is back, nothing dead or lost', async () => {
      const ctx = `(seed ${OUTAGE_SEED})`;
      const s = stackServer(t.baseUrl, auth);
      const outboxOf = async () =>
        (await t.app.get(DataSource).query(
          `SELECT o.message_id, o.attempts, o.delivered_at, o.last_error FROM stack_auth.webhook_outbox o
             JOIN stack_auth.webhook_endpoints e ON e.id = o.endpoint_id WHERE e.project_id = $1`,
          [auth.auth_provider_project_id],
        )) as { message_id: string; attempts: number; delivered_at: Date | null; last_error: string | null }[];

      await connectionsAllowed(false);
      const downAt = performance.now();
      let changes: Awaited<ReturnType<typeof makeProviderChanges>>;
      try {
        expect(await canConnect()).toBe(false);
        // ~300 real changes: 60 sign-ups, 225 updates, 15 deletions (each user's changes in order).
        changes = await makeProviderChanges(
          s,
          { users: 60, updates: 225, deletes: 15, concurrency: 8, capture: 'response', tag: `out${OUTAGE_SEED}` },
          seededRandom(OUTAGE_SEED),
        );
        expect(changes.events).toHaveLength(300);
        // The provider's deliveries reach the receiver and are made durable while the database is down: every
        // event of the burst is in the inbox, and the provider saw a 2xx on its first attempt for each.
        await converge(
          'burst durable while the branch database is down',
          async () => {
            const outbox = await outboxOf();
            const problems = outbox
              .filter((o) => o.delivered_at === null || o.attempts !== 1 || o.last_error !== null)
              .map((o) => `${o.message_id}: delivered ${o.delivered_at !== null}, attempts ${o.attempts}, ${o.last_error}`);
            if (outbox.length !== 300) problems.unshift(`${outbox.length} provider messages, expected 300`);
            const stored = new Set((await inbox(t, integration.id)).map((r) => r.message_id));
            const missing = outbox.filter((o) => !stored.has(o.message_id));
            if (missing.length > 0) problems.push(`${missing.length} delivered messages are not in the inbox`);
            return problems;
          },
          20_000,
          ctx,
          50,
        );
        // Still down, and the engine did try (and fail) to apply: events wait, none applied.
        expect(await canConnect()).toBe(false);
        await waitFor(async () => (await inbox(t, integration.id)).some((r) => r.attempts >= 1 && r.last_error), 10_000, 50);
        const during = await inbox(t, integration.id);
        expect(during.filter((r) => r.status === 'applied')).toEqual([]);
        console.log(
          `outage ${ctx}: ${during.length} events durable while down; attempts so far max ${Math.max(...during.map((r) => r.attempts))}, ` +
            `statuses ${JSON.stringify(countBy(during.map((r) => r.status)))}`,
        );
        // A few seconds of outage must not exhaust the retry budget (SYNC_MAX_ATTEMPTS tries with backoff
        // from SYNC_RETRY_DELAY_SECONDS: 10 tries from 1 s cover minutes, not seconds).
        expect(countBy(during.filter((r) => r.status === 'dead').map((r) => `dead after ${r.attempts} attempts`))).toEqual({});
      } finally {
        await connectionsAllowed(true);
      }
      const downMs = performance.now() - downAt;
      const upAt = performance.now();
      expect(await canConnect()).toBe(true);

      // Converges within seconds (retry delay and poll at their 1 s minimum; backoff doubles).
      const expected = await providerState(s, changes!.userIds);
      expect(expected.gone).toEqual(changes!.deleted);
      const client = new pg.Client({ connectionString: project.uri });
      await client.connect();
      try {
        const convergedMs = await converge(
          'users_sync vs the provider after the outage',
          async () => diffState(await usersSyncRows(client), expected.live, expected.gone),
          20_000,
          ctx,
        );
        // Nothing went dead, nothing was lost: every provider message is in the inbox once, applied.
        const outboxIds = new Set((await outboxOf()).map((o) => o.message_id));
        await converge(
          'inbox applied',
          async () => {
            const rows = await inbox(t, integration.id);
            const problems = rows.filter((r) => r.status !== 'applied').map((r) => `${r.message_id}: ${r.status} attempts ${r.attempts} ${r.last_error}`);
            const stored = new Set(rows.map((r) => r.message_id));
            if (stored.size !== rows.length) problems.push('a message id is stored twice');
            for (const id of outboxIds) if (!stored.has(id)) problems.push(`${id}: delivered but not in the inbox`);
            if (rows.length !== outboxIds.size) problems.push(`${rows.length} inbox rows for ${outboxIds.size} provider messages`);
            return problems;
          },
          10_000,
          ctx,
        );
        const rows = await inbox(t, integration.id);
        expect(rows.filter((r) => r.status === 'dead')).toEqual([]);
        expect(Math.max(...rows.map((r) => r.attempts))).toBeLessThan(MAX_ATTEMPTS);
        console.log(
          `outage ${ctx}: down ${downMs.toFixed(0)} ms; converged ${convergedMs} ms after connections were allowed again ` +
            `(${(performance.now() - upAt).toFixed(0)} ms incl. checks); attempts per event ${JSON.stringify(countBy(rows.map((r) => r.attempts)))}`,
        );
      } finally {
        await client.end();
      }
    }, 120_000);
  });
}

function countBy<T extends string | number>(values: T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}
