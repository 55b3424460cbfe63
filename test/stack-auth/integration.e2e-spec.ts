import { StackClientApp as StackClientApp108, StackServerApp as StackServerApp108 } from '@stackframe/js';
import { usersCrudServerReadSchema } from '@stackframe/stack-shared/dist/interface/crud/users';
import { createHash } from 'node:crypto';
import { StackClientApp as StackClientApp102, StackServerApp as StackServerApp102 } from 'stackframe-js-2-8-102';
import request from 'supertest';
import { SecretsService } from '../../src/common/secrets.js';
import { webhookSecretContext } from '../../src/stack-auth/webhooks/webhook-endpoints.service.js';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CLIENT_ID = 'neon-local';
const CLIENT_SECRET = 'neon-local-secret-for-tests';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Neon's integration API: provisioning with client credentials, SDK keys, webhook endpoints. */
describe('embedded provider: Neon integration API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ STACK_AUTH_INTEGRATION_CLIENT_ID: CLIENT_ID, STACK_AUTH_INTEGRATION_CLIENT_SECRET: CLIENT_SECRET });
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const q = async (sql: string, params: unknown[] = []) => ({ rows: await adminQuery<any>(sql, params, t.database) });
  const projectCount = async () => Number((await q('SELECT count(*)::int AS n FROM stack_auth.projects')).rows[0].n);
  const adminHeaders = (projectId: string, sak: string) => ({
    'x-stack-access-type': 'admin',
    'x-stack-project-id': projectId,
    'x-stack-super-secret-admin-key': sak,
  });

  async function provision(displayName = 'Neon project') {
    const res = await api()
      .post('/integrations/neon/projects/provision')
      .set('authorization', basic(CLIENT_ID, CLIENT_SECRET))
      .send({ display_name: displayName })
      .expect(200);
    return res.body as { project_id: string; super_secret_admin_key: string };
  }

  describe('POST /integrations/neon/projects/provision', () => {
    it('creates a project and answers its id and a super secret admin key', async () => {
      const res = await api()
        .post('/integrations/neon/projects/provision')
        .set('authorization', basic(CLIENT_ID, CLIENT_SECRET))
        .send({ display_name: 'My Neon app', connection_strings: [{ branch_id: 'br-main-1', connection_string: 'postgresql://u:p@h/db' }] })
        .expect(200);
      expect(Object.keys(res.body).sort()).toEqual(['project_id', 'super_secret_admin_key']);
      expect(res.body.project_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[089ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(res.body.super_secret_admin_key).toMatch(/^sak_[0-9a-hjkmnp-tv-z]{45}$/);
      const row = (await q('SELECT display_name, description, owned_by FROM stack_auth.projects WHERE id = $1', [res.body.project_id])).rows[0];
      expect(row).toEqual({ display_name: 'My Neon app', description: 'Created with Neon', owned_by: 'neon' });
      // The admin key works (admin access to the project's own routes).
      const cur = await api().get('/projects/current').set(adminHeaders(res.body.project_id, res.body.super_secret_admin_key)).expect(200);
      expect(cur.body).toMatchObject({ id: res.body.project_id, display_name: 'My Neon app' });
      // JWKS is ready (a signing key was created).
      const jwks = await api().get(`/projects/${res.body.project_id}/.well-known/jwks.json`).expect(200);
      expect(jwks.body.keys).toHaveLength(1);
    });

    it.each([
      ['no Authorization header', undefined],
      ['a wrong secret', basic(CLIENT_ID, 'wrong-secret-wrong-secret')],
      ['a wrong client id', basic('someone-else', CLIENT_SECRET)],
      ['the secret of another id', basic('neon', CLIENT_SECRET)],
      ['an empty secret', basic(CLIENT_ID, '')],
      ['no colon', `Basic ${Buffer.from(CLIENT_ID + CLIENT_SECRET).toString('base64')}`],
      ['a Bearer token', `Bearer ${CLIENT_SECRET}`],
      ['bare Basic', 'Basic'],
      ['not base64', 'Basic !!!not-base64!!!'],
    ])('refuses %s with 401 and creates nothing', async (_name, authorization) => {
      const before = await projectCount();
      const req = api().post('/integrations/neon/projects/provision').send({ display_name: 'Nope' });
      if (authorization !== undefined) req.set('authorization', authorization);
      const res = await req.expect(401);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('Invalid client_id:client_secret values; did you use the correct values for the integration?');
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
      expect(res.headers['x-stack-known-error']).toBeUndefined();
      expect(await projectCount()).toBe(before);
    });

    it('honours override-error-status on a refused client (401 -> 200 + actual status)', async () => {
      const res = await api()
        .post('/integrations/neon/projects/provision')
        .set({ authorization: basic(CLIENT_ID, 'nope-nope-nope-nope'), 'x-stack-override-error-status': 'true' })
        .send({ display_name: 'Nope' })
        .expect(200);
      expect(res.headers['x-stack-actual-status']).toBe('401');
    });

    it.each([
      ['no display_name', {}],
      ['an empty display_name', { display_name: '' }],
      ['an oversize display_name', { display_name: 'x'.repeat(257) }],
      ['a non-string display_name', { display_name: 42 }],
      ['an unknown field', { display_name: 'A', owner: 'x' }],
      ['malformed connection_strings', { display_name: 'A', connection_strings: [{ branch_id: 'br' }] }],
      ['connection_strings that is not an array', { display_name: 'A', connection_strings: 'postgres://x' }],
    ])('answers SCHEMA_ERROR for %s, creating nothing', async (_name, body) => {
      const before = await projectCount();
      const res = await api().post('/integrations/neon/projects/provision').set('authorization', basic(CLIENT_ID, CLIENT_SECRET)).send(body).expect(400);
      expect(res.body.code).toBe('SCHEMA_ERROR');
      expect(res.headers['x-stack-known-error']).toBe('SCHEMA_ERROR');
      expect(await projectCount()).toBe(before);
    });
  });

  describe('POST /integrations/neon/api-keys', () => {
    const keysBody = (over: Record<string, unknown> = {}) => ({
      description: 'Neon Auth keys',
      expires_at_millis: Date.now() + 365 * 24 * 3600 * 1000,
      has_publishable_client_key: true,
      has_secret_server_key: true,
      has_super_secret_admin_key: false,
      ...over,
    });

    it('issues pck_/ssk_ keys shown once and stored only as hashes; they work with both SDKs', async () => {
      const p = await provision('Keys project');
      const expiresAt = Date.now() + 365 * 24 * 3600 * 1000;
      const before = Date.now();
      const res = await api()
        .post('/integrations/neon/api-keys')
        .set(adminHeaders(p.project_id, p.super_secret_admin_key))
        .send(keysBody({ expires_at_millis: expiresAt }))
        .expect(200);
      expect(Object.keys(res.body).sort()).toEqual(['created_at_millis', 'description', 'expires_at_millis', 'id', 'publishable_client_key', 'secret_server_key']);
      expect(res.body).toMatchObject({ description: 'Neon Auth keys', expires_at_millis: expiresAt });
      expect(res.body.created_at_millis).toBeGreaterThanOrEqual(before - 1000);
      const { publishable_client_key: pck, secret_server_key: ssk } = res.body as { publishable_client_key: string; secret_server_key: string };
      expect(pck).toMatch(/^pck_[0-9a-hjkmnp-tv-z]{45}$/);
      expect(ssk).toMatch(/^ssk_[0-9a-hjkmnp-tv-z]{45}$/);

      // Only hashes are stored.
      const row = (await q('SELECT * FROM stack_auth.api_key_sets WHERE id = $1', [res.body.id])).rows[0];
      expect(row.publishable_client_key_hash).toBe(sha256(pck));
      expect(row.secret_server_key_hash).toBe(sha256(ssk));
      expect(row.super_secret_admin_key_hash).toBeNull();
      expect(new Date(row.expires_at).getTime()).toBe(expiresAt);
      const dump = JSON.stringify((await q('SELECT * FROM stack_auth.api_key_sets')).rows);
      expect(dump).not.toContain(pck);
      expect(dump).not.toContain(ssk);

      // Raw headers: server access with the ssk, client access with the pck.
      await api().get('/projects/current').set({ 'x-stack-access-type': 'server', 'x-stack-project-id': p.project_id, 'x-stack-secret-server-key': ssk }).expect(200);
      await api().get('/projects/current').set({ 'x-hexclave-access-type': 'client', 'x-hexclave-project-id': p.project_id, 'x-hexclave-publishable-client-key': pck }).expect(200);

      // Both SDK versions, server and client apps.
      const baseUrl = `${t.baseUrl}/stack-auth`;
      for (const [Server, Client, tag] of [
        [StackServerApp108, StackClientApp108, '108'],
        [StackServerApp102, StackClientApp102, '102'],
      ] as const) {
        const server = new (Server as typeof StackServerApp108)({ projectId: p.project_id, publishableClientKey: pck, secretServerKey: ssk, baseUrl, tokenStore: 'memory' });
        const created = await server.createUser({ primaryEmail: `keys-${tag}@example.com`, primaryEmailAuthEnabled: true, password: 'a-good-password-123' });
        const listed = await server.listUsers();
        expect(listed.map((u) => u.id)).toContain(created.id);
        const client = new (Client as typeof StackClientApp108)({ projectId: p.project_id, publishableClientKey: pck, baseUrl, tokenStore: 'memory' });
        const project = await client.getProject();
        expect(project.id).toBe(p.project_id);
      }
      const users = await api().get('/users').set({ 'x-stack-access-type': 'server', 'x-stack-project-id': p.project_id, 'x-stack-secret-server-key': ssk }).expect(200);
      for (const u of users.body.items) await usersCrudServerReadSchema.validate(u, { strict: true });
    });

    it('can issue an admin key alone, and that key works as admin', async () => {
      const p = await provision('Admin keys');
      const res = await api()
        .post('/integrations/neon/api-keys')
        .set(adminHeaders(p.project_id, p.super_secret_admin_key))
        .send(keysBody({ has_publishable_client_key: false, has_secret_server_key: false, has_super_secret_admin_key: true }))
        .expect(200);
      expect(res.body.publishable_client_key).toBeUndefined();
      expect(res.body.secret_server_key).toBeUndefined();
      expect(res.body.super_secret_admin_key).toMatch(/^sak_/);
      await api().get('/projects/current').set(adminHeaders(p.project_id, res.body.super_secret_admin_key)).expect(200);
    });

    it('keys stop working when they expire', async () => {
      const p = await provision('Expiring keys');
      const past = await api()
        .post('/integrations/neon/api-keys')
        .set(adminHeaders(p.project_id, p.super_secret_admin_key))
        .send(keysBody({ expires_at_millis: Date.now() - 1000 }))
        .expect(200);
      const pastRes = await api()
        .get('/users')
        .set({ 'x-stack-access-type': 'server', 'x-stack-project-id': p.project_id, 'x-stack-secret-server-key': past.body.secret_server_key })
        .expect(401);
      expect(pastRes.body.code).toBe('INVALID_SECRET_SERVER_KEY');

      const soon = await api()
        .post('/integrations/neon/api-keys')
        .set(adminHeaders(p.project_id, p.super_secret_admin_key))
        .send(keysBody({ expires_at_millis: Date.now() + 1500 }))
        .expect(200);
      const server = { 'x-stack-access-type': 'server', 'x-stack-project-id': p.project_id, 'x-stack-secret-server-key': soon.body.secret_server_key };
      const client = { 'x-stack-access-type': 'client', 'x-stack-project-id': p.project_id, 'x-stack-publishable-client-key': soon.body.publishable_client_key };
      await api().get('/users').set(server).expect(200);
      await api().get('/projects/current').set(client).expect(200);
      await new Promise((r) => setTimeout(r, 1700));
      expect((await api().get('/users').set(server).expect(401)).body.code).toBe('INVALID_SECRET_SERVER_KEY');
      expect((await api().get('/projects/current').set(client).expect(401)).body.code).toBe('INVALID_PUBLISHABLE_CLIENT_KEY');
    });

    it('needs admin access to that very project', async () => {
      const p = await provision('Guarded keys');
      const other = await provision('Other keys');
      const created = await api().post('/integrations/neon/api-keys').set(adminHeaders(p.project_id, p.super_secret_admin_key)).send(keysBody()).expect(200);
      const cases: [Record<string, string>, number, string][] = [
        [{}, 400, 'ACCESS_TYPE_REQUIRED'],
        [{ 'x-stack-access-type': 'server', 'x-stack-project-id': p.project_id, 'x-stack-secret-server-key': created.body.secret_server_key }, 401, 'INSUFFICIENT_ACCESS_TYPE'],
        [{ 'x-stack-access-type': 'admin', 'x-stack-project-id': p.project_id }, 401, 'ADMIN_AUTHENTICATION_REQUIRED'],
        [adminHeaders(p.project_id, other.super_secret_admin_key), 401, 'INVALID_SUPER_SECRET_ADMIN_KEY'],
        [adminHeaders(p.project_id, 'sak_not-a-real-key'), 401, 'INVALID_SUPER_SECRET_ADMIN_KEY'],
      ];
      const before = Number((await q('SELECT count(*)::int AS n FROM stack_auth.api_key_sets')).rows[0].n);
      for (const [headers, status, code] of cases) {
        const res = await api().post('/integrations/neon/api-keys').set(headers).send(keysBody()).expect(status);
        expect(res.body.code).toBe(code);
      }
      expect(Number((await q('SELECT count(*)::int AS n FROM stack_auth.api_key_sets')).rows[0].n)).toBe(before);
    });

    it.each([
      ['a missing field', { has_super_secret_admin_key: undefined }],
      ['a string expiry', { expires_at_millis: 'tomorrow' }],
      ['a fractional expiry', { expires_at_millis: 1.5 }],
      ['a non-boolean flag', { has_secret_server_key: 'yes' }],
      ['an oversize description', { description: 'd'.repeat(1001) }],
      ['an unknown field', { scopes: ['all'] }],
    ])('answers SCHEMA_ERROR for %s', async (_name, over) => {
      const p = await provision('Bad keys');
      const res = await api().post('/integrations/neon/api-keys').set(adminHeaders(p.project_id, p.super_secret_admin_key)).send(keysBody(over)).expect(400);
      expect(res.body.code).toBe('SCHEMA_ERROR');
    });

    it('refuses a key set with no keys in it', async () => {
      const p = await provision('Empty keys');
      const res = await api()
        .post('/integrations/neon/api-keys')
        .set(adminHeaders(p.project_id, p.super_secret_admin_key))
        .send(keysBody({ has_publishable_client_key: false, has_secret_server_key: false }))
        .expect(400);
      expect(res.text).toMatch(/At least one of/);
    });
  });

  describe('POST /integrations/neon/webhooks', () => {
    it('registers an endpoint and answers its whsec_ secret, kept encrypted at rest', async () => {
      const p = await provision('Hooks project');
      const res = await api()
        .post('/integrations/neon/webhooks')
        .set({ ...adminHeaders(p.project_id, p.super_secret_admin_key), authorization: basic(CLIENT_ID, CLIENT_SECRET) })
        .send({ url: 'http://127.0.0.1:9/hooks', description: 'users_sync' })
        .expect(200);
      expect(Object.keys(res.body)).toEqual(['secret']);
      const secret = res.body.secret as string;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
      const raw = Buffer.from(secret.slice('whsec_'.length), 'base64');
      expect(raw.length).toBeGreaterThanOrEqual(24);
      expect(raw.length).toBeLessThanOrEqual(32);

      const rows = (await q('SELECT * FROM stack_auth.webhook_endpoints WHERE project_id = $1', [p.project_id])).rows;
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ url: 'http://127.0.0.1:9/hooks', description: 'users_sync', disabled_at: null });
      expect(JSON.stringify(rows[0])).not.toContain(secret.slice('whsec_'.length));
      expect(t.app.get(SecretsService).decrypt(rows[0].secret_encrypted, webhookSecretContext(rows[0].id))).toBe(secret);

      // A second registration is a second endpoint with its own secret.
      const again = await api()
        .post('/integrations/neon/webhooks')
        .set({ ...adminHeaders(p.project_id, p.super_secret_admin_key), authorization: basic(CLIENT_ID, CLIENT_SECRET) })
        .send({ url: 'https://hooks.example.com/stack' })
        .expect(200);
      expect(again.body.secret).not.toBe(secret);
    });

    it('needs both admin access and the integration client credentials', async () => {
      const p = await provision('Hooks guarded');
      const body = { url: 'http://127.0.0.1:9/hooks' };
      const noBasic = await api().post('/integrations/neon/webhooks').set(adminHeaders(p.project_id, p.super_secret_admin_key)).send(body).expect(401);
      expect(noBasic.text).toMatch(/client_id:client_secret/);
      await api()
        .post('/integrations/neon/webhooks')
        .set({ ...adminHeaders(p.project_id, p.super_secret_admin_key), authorization: basic(CLIENT_ID, 'wrong-wrong-wrong-wrong') })
        .send(body)
        .expect(401);
      const noAdmin = await api().post('/integrations/neon/webhooks').set({ authorization: basic(CLIENT_ID, CLIENT_SECRET) }).send(body).expect(400);
      expect(noAdmin.body.code).toBe('ACCESS_TYPE_REQUIRED');
      expect((await q('SELECT count(*)::int AS n FROM stack_auth.webhook_endpoints WHERE project_id = $1', [p.project_id])).rows[0].n).toBe(0);
    });

    it.each([
      ['ftp://example.com/x'],
      ['javascript:alert(1)'],
      ['file:///etc/passwd'],
      ['http://user:pass@example.com/hook'],
      ['http://user@example.com/hook'],
      ['/relative/path'],
      ['http://exa mple.com/'],
      ['not a url'],
      ['https://example.com/' + 'a'.repeat(2100)],
    ])('refuses the URL %#: %.40s with SCHEMA_ERROR', async (url) => {
      const p = await provision('Hooks bad');
      const res = await api()
        .post('/integrations/neon/webhooks')
        .set({ ...adminHeaders(p.project_id, p.super_secret_admin_key), authorization: basic(CLIENT_ID, CLIENT_SECRET) })
        .send({ url })
        .expect(400);
      expect(res.body.code).toBe('SCHEMA_ERROR');
      expect((await q('SELECT count(*)::int AS n FROM stack_auth.webhook_endpoints WHERE project_id = $1', [p.project_id])).rows[0].n).toBe(0);
    });
  });
});
