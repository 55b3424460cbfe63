import http from 'node:http';
import pg from 'pg';
import { accessTokenPayloadSchema } from '@stackframe/stack-shared/dist/schema-fields';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyOptions } from 'jose';
import request from 'supertest';
import { DELIVERY_QUEUE } from '../../src/stack-auth/webhooks/webhook-dispatcher.service.js';
import { cleanupServers, makeTempDir, startServer } from '../helpers/server-process.js';
import { clientHeaders, createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery, createTestDatabase, dropTestDatabase, testAdminUrl } from '../helpers/test-db.js';
import { registerWebhook, userOf } from './webhooks-helpers.js';
import { startWebhookReceiver } from './webhooks-receiver.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** A request with exactly these headers and body bytes (supertest would add a content type of its own). */
function rawRequest(url: string, method: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Findings of the review of src/stack-auth, each pinned by a test that failed before its fix. */
describe('embedded provider: review findings', () => {
  let t: TestApp;
  let p: StackTestProject;
  beforeAll(async () => {
    // Retries far in the future: a failed delivery stays failed for the whole file.
    t = await startTestApp({ STACK_AUTH_WEBHOOK_POLL_SECONDS: '1', STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS: '3600' });
    p = await createStackProject(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);
  const userCount = async (projectId: string) =>
    Number((await adminQuery<{ n: string }>('SELECT count(*) AS n FROM stack_auth.users WHERE project_id = $1', [projectId], t.database))[0].n);

  describe('access tokens of restricted users', () => {
    const jwks = () => createRemoteJWKSet(new URL(`${p.baseUrl}/api/v1/projects/${p.projectId}/.well-known/jwks.json`));
    const regular = (): JWTVerifyOptions => ({ issuer: `${p.baseUrl}/api/v1/projects/${p.projectId}`, audience: p.projectId, algorithms: ['ES256'] });
    const restricted = (): JWTVerifyOptions => ({
      issuer: `${p.baseUrl}/api/v1/projects-restricted-users/${p.projectId}`,
      audience: `${p.projectId}:restricted`,
      algorithms: ['ES256'],
    });
    const signIn = async (email: string) =>
      (await api().post('/auth/password/sign-in').set(clientHeaders(p)).send({ email, password: 'password123' }).expect(200)).body as {
        access_token: string;
        refresh_token: string;
        user_id: string;
      };

    it('carry Stack Auth\'s restricted issuer and audience, so verification for regular users refuses them', async () => {
      await api()
        .post('/users')
        .set(serverHeaders(p))
        .send({ primary_email: 'banned@example.com', primary_email_auth_enabled: true, password: 'password123', restricted_by_admin: true, restricted_by_admin_reason: 'spam' })
        .expect(201);
      const tokens = await signIn('banned@example.com');
      // What an application's backend does (Stack Auth's docs): verify against the JWKS with the project's issuer and audience.
      await expect(jwtVerify(tokens.access_token, jwks(), regular())).rejects.toThrow();
      const { payload } = await jwtVerify(tokens.access_token, jwks(), restricted());
      expect(payload).toMatchObject({ sub: tokens.user_id, is_anonymous: false, is_restricted: true, restricted_reason: { type: 'restricted_by_administrator' } });
      await accessTokenPayloadSchema.validate(payload, { strict: true });

      // The provider itself still accepts the token (the SDK reads such users with includeRestricted), and signs it out.
      const me = await api().get('/users/me').set({ ...clientHeaders(p), 'x-stack-access-token': tokens.access_token }).expect(200);
      expect(me.body).toMatchObject({ id: tokens.user_id, is_restricted: true });
      await api().delete('/auth/sessions/current').set({ ...clientHeaders(p), 'x-stack-access-token': tokens.access_token }).send({}).expect(200);
    });

    it('a restriction takes effect at the next refresh; lifting it gives regular tokens again', async () => {
      await api().post('/users').set(serverHeaders(p)).send({ primary_email: 'fine@example.com', primary_email_auth_enabled: true, password: 'password123' }).expect(201);
      const tokens = await signIn('fine@example.com');
      await jwtVerify(tokens.access_token, jwks(), regular());

      await api().patch(`/users/${tokens.user_id}`).set(serverHeaders(p)).send({ restricted_by_admin: true }).expect(200);
      const refresh = () => api().post('/auth/sessions/current/refresh').set({ ...clientHeaders(p), 'x-stack-refresh-token': tokens.refresh_token }).expect(200);
      const whileRestricted = (await refresh()).body.access_token as string;
      await expect(jwtVerify(whileRestricted, jwks(), regular())).rejects.toThrow();
      await jwtVerify(whileRestricted, jwks(), restricted());

      await api().patch(`/users/${tokens.user_id}`).set(serverHeaders(p)).send({ restricted_by_admin: false }).expect(200);
      const lifted = (await refresh()).body.access_token as string;
      expect((await jwtVerify(lifted, jwks(), regular())).payload).toMatchObject({ is_restricted: false, restricted_reason: null });
    });
  });

  describe('request bodies the body parsers refuse', () => {
    const fields = Array.from({ length: 1200 }, (_, i) => `f${i}=1`).join('&');
    it.each([
      ['an unsupported JSON charset', '/users', { 'content-type': 'application/json; charset=latin1' }, '{}'],
      ['an unknown content-encoding', '/users', { 'content-type': 'application/json', 'content-encoding': 'foo' }, '{}'],
      ['a corrupt gzip body', '/users', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, '{}'],
      ['a form with too many fields', '/users', { 'content-type': 'application/x-www-form-urlencoded' }, fields],
      ['an unsupported form charset on the token endpoint', '/auth/oauth/token', { 'content-type': 'application/x-www-form-urlencoded; charset=koi8-r' }, 'grant_type=x'],
    ])('%s is 400 BODY_PARSING_ERROR, never a 500, and creates nothing', async (_name, path, headers, body) => {
      const before = await userCount(p.projectId);
      const res = await rawRequest(`${t.baseUrl}/stack-auth/api/v1${path}`, 'POST', { ...serverHeaders(p), ...headers }, body);
      expect(res.status).toBe(400);
      expect(res.headers['x-stack-known-error']).toBe('BODY_PARSING_ERROR');
      expect(JSON.parse(res.text)).toMatchObject({ code: 'BODY_PARSING_ERROR' });
      expect(await userCount(p.projectId)).toBe(before);
    });

    it('with override-error-status the refusal is 200 + x-stack-actual-status, as the SDK expects', async () => {
      const res = await rawRequest(
        `${t.baseUrl}/stack-auth/api/v1/users`,
        'POST',
        { ...serverHeaders(p), 'x-stack-override-error-status': 'true', 'content-type': 'application/json; charset=latin1' },
        '{}',
      );
      expect(res.status).toBe(200);
      expect(res.headers['x-stack-actual-status']).toBe('400');
      expect(res.headers['x-stack-known-error']).toBe('BODY_PARSING_ERROR');
    });
  });

  describe('bodies in content types no parser reads are refused, not dropped', () => {
    const body = JSON.stringify({ display_name: 'Dropped?', primary_email: 'dropped@example.com' });

    it.each([
      ['text/plain', 400, 'SCHEMA_ERROR'],
      ['application/octet-stream', 400, 'SCHEMA_ERROR'],
      ['image/png', 400, 'BODY_PARSING_ERROR'],
      [undefined, 400, 'BODY_PARSING_ERROR'],
    ])('POST /users with a %s body is %i %s and creates no user', async (type, status, code) => {
      const before = await userCount(p.projectId);
      const res = await rawRequest(`${t.baseUrl}/stack-auth/api/v1/users`, 'POST', { ...serverHeaders(p), ...(type ? { 'content-type': type } : {}) }, body);
      expect(res.status).toBe(status);
      expect(res.headers['x-stack-known-error']).toBe(code);
      if (code === 'SCHEMA_ERROR') expect(JSON.parse(res.text).error).toContain('body must be an object');
      expect(await userCount(p.projectId)).toBe(before);
    });

    it('PATCH with a text/plain body changes nothing (no new version, no user.updated)', async () => {
      const user = (await api().post('/users').set(serverHeaders(p)).send({ display_name: 'Kept' }).expect(201)).body;
      const res = await rawRequest(`${t.baseUrl}/stack-auth/api/v1/users/${user.id}`, 'PATCH', { ...serverHeaders(p), 'content-type': 'text/plain' }, '{"display_name":"x"}');
      expect(res.status).toBe(400);
      const row = (await adminQuery<{ version: string; display_name: string }>('SELECT version, display_name FROM stack_auth.users WHERE id = $1', [user.id], t.database))[0];
      expect(row).toEqual({ version: '1', display_name: 'Kept' });
    });

    it('what the SDK and browsers send still works: JSON, an empty body, DELETE with {}, the token endpoint\'s form, the transfer page', async () => {
      await api().post('/users').set(serverHeaders(p)).send({}).expect(201);
      const empty = await rawRequest(`${t.baseUrl}/stack-auth/api/v1/users`, 'POST', serverHeaders(p), '');
      expect(empty.status).toBe(201);
      const user = (await api().post('/users').set(serverHeaders(p)).send({ display_name: 'Gone soon' }).expect(201)).body;
      await api().delete(`/users/${user.id}`).set(serverHeaders(p)).set('content-type', 'application/json').send('{}').expect(200);
      const token = await rawRequest(
        `${t.baseUrl}/stack-auth/api/v1/auth/oauth/token`,
        'POST',
        { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
        `grant_type=refresh_token&client_id=${p.projectId}&client_secret=${p.publishableClientKey}&refresh_token=unknown`,
      );
      expect(token.status).toBe(401);
      expect(token.headers['x-stack-known-error']).toBe('REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED');
      // The confirm page (outside /api) keeps its own HTML answers.
      const page = await rawRequest(`${t.baseUrl}/stack-auth/integrations/neon/projects/transfer/confirm`, 'POST', { 'content-type': 'text/plain' }, 'x');
      expect(page.status).toBe(400);
      expect(page.headers['content-type']).toContain('text/html');
    });
  });

  describe('password hashing holds no transaction open', () => {
    /**
     * Holds an EXCLUSIVE lock on stack_auth.users so the request's INSERT waits, then reads from
     * pg_stat_activity how long its transaction had been open before that INSERT was sent.
     */
    async function msInTransactionBeforeInsert(send: () => Promise<unknown>): Promise<number> {
      const locker = new pg.Client({ connectionString: testAdminUrl(t.database) });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE stack_auth.users IN EXCLUSIVE MODE');
        const sent = Promise.resolve(send()); // (a supertest request starts when awaited)
        const gap = await until('the INSERT waits for the lock', async () => {
          // (Read from another session: within the locker's transaction pg_stat_activity is a frozen snapshot.)
          const rows = await adminQuery<{ ms: string }>(
            `SELECT extract(epoch FROM query_start - xact_start) * 1000 AS ms FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO stack_auth.users %'`,
            [],
            t.database,
          );
          return rows[0] ? Number(rows[0].ms) : undefined;
        });
        await locker.query('ROLLBACK');
        await sent;
        return gap;
      } finally {
        await locker.end();
      }
    }

    it('sign-up and POST /users hash the password (~0.1 s of bcrypt) before their transaction opens', async () => {
      // The transaction's first statement is the one that INSERTs the user (with its event), not bcrypt's tenth of a second.
      const signUp = await msInTransactionBeforeInsert(() =>
        api().post('/auth/password/sign-up').set(clientHeaders(p)).send({ email: 'hashed-first@example.com', password: 'password123' }).expect(200),
      );
      const create = await msInTransactionBeforeInsert(() =>
        api().post('/users').set(serverHeaders(p)).send({ primary_email: 'created@example.com', password: 'password123' }).expect(201),
      );
      expect(signUp).toBeLessThan(30);
      expect(create).toBeLessThan(30);
      // The hash is there all the same.
      await api().post('/auth/password/sign-in').set(clientHeaders(p)).send({ email: 'hashed-first@example.com', password: 'password123' }).expect(200);
    });
  });

  describe('webhook wake-ups', () => {
    it('a write wakes only its own user\'s key, not every key with a backlog behind a failing endpoint', async () => {
      const q = await createStackProject(t, 'Backlog');
      const receiver = await startWebhookReceiver();
      await registerWebhook(t, q, receiver.url);
      receiver.setBehaviour(() => 503); // the receiver is down
      const [{ id: endpointId }] = await adminQuery<{ id: string }>('SELECT id FROM stack_auth.webhook_endpoints WHERE project_id = $1', [q.projectId], t.database);
      const jobsOf = (userId: string) =>
        adminQuery<{ state: string }>('SELECT state FROM pgboss.job WHERE name = $1 AND singleton_key = $2', [DELIVERY_QUEUE, `${endpointId}:${userId}`], t.database);

      // User A: its first event failed (retry in an hour) and a second one waits behind it.
      const a = (await api().post('/users').set(serverHeaders(q)).send({ display_name: 'A' }).expect(201)).body.id as string;
      await until('A\'s first delivery failed', async () =>
        (await adminQuery<{ attempts: number }>('SELECT attempts FROM stack_auth.webhook_outbox WHERE ordering_key = $1 ORDER BY id LIMIT 1', [a], t.database))[0]?.attempts === 1,
      );
      await api().patch(`/users/${a}`).set(serverHeaders(q)).send({ display_name: 'A2' }).expect(200);
      // The failed head's retry is a pg-boss job due when its backoff ends; the second write, delivered at
      // once in process, found the failed head first and sent nothing.
      await until('A\'s retry is scheduled', async () => (await jobsOf(a)).length >= 1);
      await sleep(300);
      const before = (await jobsOf(a)).length;

      // Other users' writes: each is attempted at once, and none of them re-enqueues A's key.
      for (const name of ['B', 'C', 'D']) {
        const id = (await api().post('/users').set(serverHeaders(q)).send({ display_name: name }).expect(201)).body.id as string;
        await receiver.waitFor((rs) => rs.some((r) => userOf(r) === id), 10_000);
      }
      await sleep(300);
      expect((await jobsOf(a)).length).toBe(before);
      // A's backlog is intact, waiting for its retry (or the sweep).
      const pending = await adminQuery<{ attempts: number }>('SELECT attempts FROM stack_auth.webhook_outbox WHERE ordering_key = $1 AND delivered_at IS NULL ORDER BY id', [a], t.database);
      expect(pending.map((r) => r.attempts)).toEqual([1, 0]);
      expect(receiver.requests.filter((r) => userOf(r) === a)).toHaveLength(1);
      await receiver.close();
    }, 30_000);
  });
});

describe('embedded provider: secrets in the request log (real process, LOG_LEVEL=info)', () => {
  let database: { name: string; url: string } | undefined;
  afterAll(async () => {
    await cleanupServers();
    if (database) await dropTestDatabase(database.name);
  });

  it('the transfer confirm link\'s code never reaches the log', async () => {
    database = await createTestDatabase();
    const clientSecret = 'review-integration-client-secret';
    const server = await startServer({
      DATABASE_URL: database.url,
      DATA_DIR: makeTempDir(),
      LOG_LEVEL: 'info',
      STACK_AUTH_INTEGRATION_CLIENT_ID: 'neon',
      STACK_AUTH_INTEGRATION_CLIENT_SECRET: clientSecret,
    });
    const api = `${server.baseUrl}/stack-auth/api/v1`;
    const provisioned = await fetch(`${api}/integrations/neon/projects/provision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`neon:${clientSecret}`).toString('base64')}` },
      body: JSON.stringify({ display_name: 'Logged?' }),
    });
    expect(provisioned.status).toBe(200);
    const { project_id: projectId, super_secret_admin_key: adminKey } = (await provisioned.json()) as { project_id: string; super_secret_admin_key: string };
    const started = await fetch(`${api}/integrations/neon/projects/transfer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-stack-access-type': 'admin', 'x-stack-project-id': projectId, 'x-stack-super-secret-admin-key': adminKey },
      body: JSON.stringify({ project_id: projectId }),
    });
    expect(started.status).toBe(200);
    const link = new URL(((await started.json()) as { confirmation_url: string }).confirmation_url);
    const code = link.searchParams.get('code')!;
    expect(code).toMatch(/^[0-9a-z]{45}$/);
    // A person opens the link (and a mistyped one).
    expect((await fetch(`${server.baseUrl}${link.pathname}?code=${code}`)).status).toBe(200);
    expect((await fetch(`${server.baseUrl}${link.pathname}?lang=en&code=${code}x`)).status).toBe(404);

    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const confirmLines = server.logLines().filter((l) => String((l.req as { url?: string } | undefined)?.url ?? '').includes('/transfer/confirm'));
    expect(confirmLines).toHaveLength(2);
    expect(confirmLines.map((l) => (l.req as { url: string }).url)).toEqual([
      `${link.pathname}?code=[redacted]`,
      `${link.pathname}?lang=en&code=[redacted]`,
    ]);
    for (const secret of [code, adminKey, clientSecret]) expect(server.output).not.toContain(secret);
  }, 60_000);
});
