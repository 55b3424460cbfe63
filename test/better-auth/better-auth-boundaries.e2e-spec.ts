// The edges of the hosted Better Auth servers: bad input (malformed JSON, huge bodies, wrong content type) gets a 4xx
// and changes nothing; sign-in and sign-up are rate-limited per address and branch; unknown branches are 404; only
// organization admins enable, disable and read the mailbox, members create users; the schema is what Better Auth
// itself expects, with the JWT roles an RLS policy names.
import http from 'node:http';
import { DataSource } from 'typeorm';
import { BetterAuthSchema } from '../../src/better-auth/better-auth-schema.js';
import { pruneBranchLog } from '../../src/better-auth/branch-log.js';
import { BranchDatabasesService } from '../../src/projects/branch-databases/branch-databases.service.js';
import { addMember, adminOrgId, api, newAccount, withClient } from '../helpers/fixtures.js';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { newAuthProject } from '../neon-auth/users-helpers.js';
import { betterAuthProject } from './better-auth-helpers.js';

const RATE_LIMIT = 9;
const METRICS = 'better-auth-metrics-token-0123456789';

/** A POST whose path is sent exactly as written (fetch and URL would normalize dot segments first). */
function rawPost(path: string, body: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: rawPort, method: 'POST', path, headers: { 'content-type': 'application/json', origin: rawOrigin } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
let rawPort = 0;
let rawOrigin = '';

describe('Better Auth per branch: boundaries', () => {
  let t: TestApp;
  let project: Awaited<ReturnType<typeof betterAuthProject>>;
  const userCount = () => withClient(project.uri, async (c) => Number((await c.query('SELECT count(*) AS n FROM neon_auth."user"')).rows[0].n));

  beforeAll(async () => {
    t = await startTestApp({ BETTER_AUTH_RATE_LIMIT_PER_IP: String(RATE_LIMIT), BODY_LIMIT: '16kb', METRICS_TOKEN: METRICS, BETTER_AUTH_MAX_INSTANCES: '2' });
    project = await betterAuthProject(t, 'boundaries');
    rawPort = Number(new URL(t.baseUrl).port);
    rawOrigin = t.baseUrl;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('bad input gets a 4xx and changes nothing', async () => {
    const signUp = `${project.auth.base_url}/sign-up/email`;
    const before = await userCount();
    const cases: [RequestInit, number, string][] = [
      [{ body: '{"email": "broken@example.com", "password": ', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON'],
      [{ body: JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(20_000), name: 'big' }), headers: { 'content-type': 'application/json' } }, 413, 'PAYLOAD_TOO_LARGE'],
      [{ body: 'email=plain@example.com', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ body: JSON.stringify({ email: 'not-an-email', password: 'good password', name: 'x' }), headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [init, status, code] of cases) {
      const res = await fetch(signUp, { method: 'POST', ...init, headers: { ...(init.headers as Record<string, string>), origin: t.baseUrl } });
      expect({ status: res.status, code: ((await res.json()) as { code: string }).code }).toEqual({ status, code });
    }
    expect(await userCount()).toBe(before);
    // Dot segments would be folded away by a URL parser after the rate limit looked at the path: refused outright.
    for (const path of ['/x/../sign-in/email', '/x/%2e%2e/sign-in/email', '/x/%2E./sign-up/email', '//sign-in/email', '/sign-in%2femail']) {
      const res = await rawPost(`${new URL(project.auth.base_url).pathname}${path}`, JSON.stringify({ email: 'dots@example.com', password: 'good password' }));
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
    }
    // Names the API refuses (a NUL byte, an invalid branch id) name no server: 404, not a 500.
    for (const path of [`/neon-auth/br%00x/neondb/auth/get-session`, `/neon-auth/${project.defaultBranchId}/neon%00db/auth/get-session`, `/neon-auth/BR_UPPER/neondb/auth/get-session`]) {
      expect((await fetch(`${t.baseUrl}${path}`)).status).toBe(404);
    }
    // An unknown branch or database, or a path outside the layout, is 404 in the same error shape.
    for (const url of [`${t.baseUrl}/neon-auth/br-nope-123456/neondb/auth/get-session`, `${t.baseUrl}/neon-auth/${project.defaultBranchId}/otherdb/auth/get-session`, `${t.baseUrl}/neon-auth/x`]) {
      const res = await fetch(url);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('NOT_FOUND');
    }
  });

  it('sessions record the TCP peer as the client address, whatever header the client sends', async () => {
    const res = await fetch(`${project.auth.base_url}/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: t.baseUrl, 'x-neon-auth-client-ip': '203.0.113.9', 'x-forwarded-for': '198.51.100.7' },
      body: JSON.stringify({ email: `ip-${Date.now()}@example.com`, password: 'good password', name: 'IP' }),
    });
    expect(res.status).toBe(200);
    const { user } = (await res.json()) as { user: { id: string } };
    const sessions = await withClient(project.uri, async (c) => (await c.query(`SELECT "ipAddress" FROM neon_auth.session WHERE "userId" = $1`, [user.id])).rows);
    expect(sessions).toEqual([{ ipAddress: '127.0.0.1' }]);
  });

  it('Better Auth reaches the branch database only as its least-privilege role: a trap the tenant sets gains nothing', async () => {
    // The tenant (database owner) adds a trigger that tries to escalate when Better Auth writes a user.
    await withClient(project.uri, async (c) => {
      await c.query(`CREATE FUNCTION public.trap() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO public.trap_log SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
          BEGIN EXECUTE 'CREATE ROLE trap_escalated SUPERUSER'; EXCEPTION WHEN insufficient_privilege THEN NULL; END;
          RETURN NEW;
        END $$`);
      await c.query('CREATE TABLE public.trap_log (who text, super boolean)');
      await c.query('GRANT INSERT ON public.trap_log TO PUBLIC');
      await c.query('CREATE TRIGGER trap AFTER INSERT ON neon_auth."user" FOR EACH ROW EXECUTE FUNCTION public.trap()');
    });
    const res = await fetch(`${project.auth.base_url}/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: t.baseUrl },
      body: JSON.stringify({ email: `trap-${Date.now()}@example.com`, password: 'good password', name: 'Trap' }),
    });
    expect(res.status).toBe(200);
    // Provisioning again (an enable, or a copied branch adopted) writes the settings row and completes users_sync: as
    // that role too, never as the cluster admin, so the tenant's triggers on those tables gain nothing either.
    await withClient(project.uri, async (c) => {
      await c.query('CREATE TRIGGER trap_config BEFORE UPDATE ON neon_auth.project_config FOR EACH ROW EXECUTE FUNCTION public.trap()');
      await c.query('CREATE TRIGGER trap_sync BEFORE INSERT OR UPDATE ON neon_auth.users_sync FOR EACH ROW EXECUTE FUNCTION public.trap()');
      await c.query(`UPDATE neon_auth.users_sync SET raw_json = raw_json || '{"display_name": "drifted"}' WHERE id = (SELECT min(id) FROM neon_auth.users_sync)`);
      await c.query('TRUNCATE public.trap_log');
    });
    const target = await t.app.get(BranchDatabasesService).resolve(project.projectId, project.defaultBranchId);
    const schema = t.app.get(BetterAuthSchema);
    await schema.provision(target, { configId: '00000000-0000-4000-8000-000000000001', endpointId: project.defaultBranchId, name: 'x' });
    await schema.provision(target, { configId: project.auth.auth_provider_project_id, endpointId: project.defaultBranchId, name: 'x' });
    const log = await withClient(project.uri, async (c) => {
      const rows = (await c.query('SELECT who, super FROM public.trap_log')).rows;
      await c.query('DROP TRIGGER trap ON neon_auth."user"');
      await c.query('DROP TRIGGER trap_config ON neon_auth.project_config');
      await c.query('DROP TRIGGER trap_sync ON neon_auth.users_sync');
      return rows;
    });
    expect(log.length).toBeGreaterThanOrEqual(3);
    for (const entry of log) expect(entry).toEqual({ who: expect.stringMatching(/^neon_auth_data_/), super: false });
    expect(await withClient(project.uri, async (c) => (await c.query(`SELECT 1 FROM pg_roles WHERE rolname = 'trap_escalated'`)).rows)).toEqual([]);
  });

  it('a request from an untrusted origin is refused by Better Auth and granted no CORS', async () => {
    const res = await fetch(`${project.auth.base_url}/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ email: `evil-${Date.now()}@example.com`, password: 'good password', name: 'Evil' }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${project.auth.base_url}/sign-in/email`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sign-in is rate-limited per client address and branch (429 with Retry-After); other branches are not affected', async () => {
    const other = await betterAuthProject(t, 'rate limit other');
    const attempt = (base: string) =>
      fetch(`${base}/sign-in/email`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.baseUrl }, body: JSON.stringify({ email: 'nobody@example.com', password: 'wrong password' }) });
    const statuses: number[] = [];
    // The boundaries spec above already spent some of this branch's budget on sign-ups.
    for (let i = 0; i < RATE_LIMIT + 1; i++) statuses.push((await attempt(project.auth.base_url)).status);
    expect(statuses.at(-1)).toBe(429);
    const limited = await attempt(project.auth.base_url);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The budget covers every route that signs in, signs up or sends a message (each sends mail to an address).
    for (const route of ['/send-verification-email', '/email-otp/send-verification-otp', '/request-password-reset', '/Sign-Up/email']) {
      const res = await fetch(`${project.auth.base_url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.baseUrl }, body: JSON.stringify({ email: 'nobody@example.com' }) });
      expect({ route, status: res.status }).toEqual({ route, status: 429 });
    }
    expect((await attempt(other.auth.base_url)).status).toBe(401);
  });

  it('only organization admins enable, disable and read the mailbox; members create users', async () => {
    const member = await newAccount(t, 'ba-member');
    await addMember(t, t.adminKey, await adminOrgId(t), member, 'member');
    const plain = await newAuthProject(t, 'member target');
    const m = api(t, member.key);
    await m.post(`/projects/${plain.projectId}/branches/${plain.defaultBranchId}/auth`, { auth_provider: 'better_auth' }).expect(403);
    await m.post('/projects/auth/create', { auth_provider: 'better_auth', project_id: plain.projectId, branch_id: plain.defaultBranchId }).expect(403);
    await m.delete(`/projects/${project.projectId}/branches/${project.defaultBranchId}/auth`).send({ delete_data: true }).expect(403);
    await m.get(`/projects/${project.projectId}/branches/${project.defaultBranchId}/auth/mailbox`).expect(403);
    const created = await m.post(`/projects/${project.projectId}/branches/${project.defaultBranchId}/auth/users`, { email: `by-member-${Date.now()}@example.com` }).expect(201);
    await m.put(`/projects/${project.projectId}/branches/${project.defaultBranchId}/auth/users/${created.body.id}/role`, { roles: ['editor'] }).expect(200);
    await m.delete(`/projects/${project.projectId}/branches/${project.defaultBranchId}/auth/users/${created.body.id}`).expect(204);
    // The legacy create takes better_auth too (organization admins).
    const legacy = await api(t, t.adminKey).post('/projects/auth/create', { auth_provider: 'better_auth', project_id: plain.projectId, branch_id: plain.defaultBranchId }).expect(201);
    expect(legacy.body).toMatchObject({ auth_provider: 'better_auth', pub_client_key: '', secret_server_key: '', base_url: `${t.baseUrl}/neon-auth/${plain.defaultBranchId}/neondb/auth` });
    // SDK keys and ownership transfer do not exist for better_auth: a clear 400.
    const keys = await api(t, t.adminKey).post('/projects/auth/keys', { project_id: project.projectId, auth_provider: 'better_auth' }).expect(400);
    expect(keys.body).toMatchObject({ code: 'AUTH_PROVIDER_NOT_SUPPORTED', message: `auth provider better_auth has no SDK keys: applications use NEON_AUTH_BASE_URL=${project.auth.base_url}` });
    const transfer = await api(t, t.adminKey).post('/projects/auth/transfer_ownership', { project_id: project.projectId, auth_provider: 'better_auth' }).expect(400);
    expect(transfer.body).toMatchObject({ code: 'AUTH_PROVIDER_NOT_SUPPORTED', message: expect.stringMatching(/no provider project to transfer/) });
  });

  it('/metrics counts the servers and labels their requests by Better Auth endpoint, never by raw path', async () => {
    const res = await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } });
    const text = await res.text();
    expect(Number(/^neon_auth_better_auth_servers (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/neon-auth\/:branch_id\/:database\/auth\/sign-up\/email",status="200"\} \d+/);
    expect(text).not.toContain(project.defaultBranchId);
  });

  it('servers are kept in a bounded LRU: a third branch evicts the least recently used, which is rebuilt on its next request', async () => {
    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })).text();
      return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
    };
    const bases = [project.auth.base_url, (await betterAuthProject(t, 'lru b')).auth.base_url, (await betterAuthProject(t, 'lru c')).auth.base_url];
    const before = await metric('neon_auth_better_auth_server_builds_total');
    for (let round = 0; round < 2; round++) {
      for (const base of bases) expect((await fetch(`${base}/get-session`)).status).toBe(200);
    }
    expect(await metric('neon_auth_better_auth_servers')).toBe(2);
    // Round-robin over three with room for two: every request after the first two builds again.
    expect(await metric('neon_auth_better_auth_server_builds_total')).toBeGreaterThanOrEqual(before + 5);
    // The same server answers repeated requests without a rebuild.
    const steady = await metric('neon_auth_better_auth_server_builds_total');
    for (let i = 0; i < 5; i++) expect((await fetch(`${bases[2]}/get-session`)).status).toBe(200);
    expect(await metric('neon_auth_better_auth_server_builds_total')).toBe(steady);
  });

  it('Better Auth\'s own migration check finds nothing to do; provisioning again changes nothing; the JWT roles exist', async () => {
    const target = await t.app.get(BranchDatabasesService).resolve(project.projectId, project.defaultBranchId);
    const schema = t.app.get(BetterAuthSchema);
    expect(await schema.pendingMigrations(target)).toEqual({ toBeCreated: [], toBeAdded: [] });
    const again = await schema.provision(target, { configId: project.auth.auth_provider_project_id, endpointId: project.defaultBranchId, name: 'x' });
    expect(again).toEqual({ configId: project.auth.auth_provider_project_id, migrated: 0 });
    const roles = await withClient(project.uri, async (c) => (await c.query(`SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('authenticated', 'anonymous') ORDER BY 1`)).rows);
    expect(roles).toEqual([{ rolname: 'anonymous', rolcanlogin: false }, { rolname: 'authenticated', rolcanlogin: false }]);
    // The tables are the application's (owned by the database owner), as users_sync is.
    const owners = await withClient(project.uri, async (c) => (await c.query(`SELECT DISTINCT tableowner = current_user AS mine FROM pg_tables WHERE schemaname = 'neon_auth'`)).rows);
    expect(owners).toEqual([{ mine: true }]);
  });

  it('the branch logs (mailbox, webhook deliveries) keep a day and at most their bound per branch, the newest; other branches untouched', async () => {
    const other = await betterAuthProject(t, 'boundaries log other');
    const insert = (branchId: string, ageMs: number, subject: string) =>
      adminQuery(
        `INSERT INTO neon_auth_mailbox (integration_id, project_id, branch_id, database_name, kind, recipient, subject, body, data, created_at)
         VALUES (gen_random_uuid(), 'p', $1, 'neondb', 'email_otp', 'log@example.com', $2, 'x', '{}', now() - make_interval(secs => $3))`,
        [branchId, subject, ageMs / 1000],
        t.database,
      );
    const mine = project.defaultBranchId;
    await insert(mine, 2 * 86_400_000, 'too old');
    for (const [i, age] of [30_000, 20_000, 10_000].entries()) await insert(mine, age, `recent ${i}`);
    await insert(other.defaultBranchId, 2 * 86_400_000, 'other branch, old');
    const left = () => adminQuery<{ branch_id: string; subject: string }>(`SELECT branch_id, subject FROM neon_auth_mailbox WHERE recipient = 'log@example.com' ORDER BY created_at`, [], t.database);
    const db = t.app.get(DataSource);
    // Older than the retention: gone, though under the bound.
    await pruneBranchLog(db, 'neon_auth_mailbox', mine, { retentionMs: 86_400_000, maxPerBranch: 10 });
    expect((await left()).map((r) => r.subject)).toEqual(['other branch, old', 'recent 0', 'recent 1', 'recent 2']);
    // Over the bound: the oldest go.
    await pruneBranchLog(db, 'neon_auth_mailbox', mine, { retentionMs: 86_400_000, maxPerBranch: 2 });
    expect(await left()).toEqual([
      { branch_id: other.defaultBranchId, subject: 'other branch, old' },
      { branch_id: mine, subject: 'recent 1' },
      { branch_id: mine, subject: 'recent 2' },
    ]);
  });
});
