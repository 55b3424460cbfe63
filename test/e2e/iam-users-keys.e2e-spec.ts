import { createHash } from 'node:crypto';
import request from 'supertest';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * IAM, part 1: who the caller is (GET /auth, /users/me, /users/me/organizations), personal API keys
 * (list / create / revoke; secrets shown once, stored only as hashes) and the platform-admin
 * account creation extension.
 */

interface Account {
  id: string;
  email: string;
  key: string;
  keyId: number;
}

const bearer = (key: string): [string, string] => ['Authorization', `Bearer ${key}`];
const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

describe('IAM: users, auth details and personal API keys', () => {
  let t: TestApp;
  let adminAccountId: string;
  let adminOrgId: string;
  let orgKey: string;
  let projectKey: string;
  const projectId = 'iam-users-project-1';

  async function newAccount(label: string): Promise<Account> {
    const email = `${label}@example.com`;
    const res = await request(t.baseUrl).post('/api/v2/admin/accounts').set(...bearer(t.adminKey)).send({ email, name: `User ${label}` });
    expect(res.status).toBe(201);
    return { id: res.body.account.id, email, key: res.body.api_key.key, keyId: res.body.api_key.id };
  }

  beforeAll(async () => {
    t = await startTestApp();
    const me = await request(t.baseUrl).get('/api/v2/users/me').set(...bearer(t.adminKey)).expect(200);
    adminAccountId = me.body.id;
    const orgs = await request(t.baseUrl).get('/api/v2/users/me/organizations').set(...bearer(t.adminKey)).expect(200);
    adminOrgId = orgs.body.organizations[0].id;
    // The projects API is built elsewhere: a project row is enough for a project-scoped key.
    await adminQuery(`INSERT INTO projects (id, org_id, name, region_id, pg_version) VALUES ($1, $2, 'p', 'local', 17)`, [projectId, adminOrgId], t.database);
    const ok = await request(t.baseUrl).post(`/api/v2/organizations/${adminOrgId}/api_keys`).set(...bearer(t.adminKey)).send({ key_name: 'org' }).expect(200);
    orgKey = ok.body.key;
    const pk = await request(t.baseUrl)
      .post(`/api/v2/organizations/${adminOrgId}/api_keys`)
      .set(...bearer(t.adminKey))
      .send({ key_name: 'proj', project_id: projectId })
      .expect(200);
    projectKey = pk.body.key;
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('GET /auth', () => {
    it('personal key -> api_key_user with the account id', async () => {
      const res = await request(t.baseUrl).get('/api/v2/auth').set(...bearer(t.adminKey)).expect(200);
      expect(res.body).toEqual({ account_id: adminAccountId, auth_method: 'api_key_user' });
    });

    it('organization key -> api_key_org with the organization id', async () => {
      const res = await request(t.baseUrl).get('/api/v2/auth').set(...bearer(orgKey)).expect(200);
      expect(res.body).toEqual({ account_id: adminOrgId, auth_method: 'api_key_org' });
    });

    it('project-scoped key -> api_key_org, with the project in auth_data', async () => {
      const res = await request(t.baseUrl).get('/api/v2/auth').set(...bearer(projectKey)).expect(200);
      expect(res.body).toEqual({ account_id: adminOrgId, auth_method: 'api_key_org', auth_data: projectId });
    });

    it('no key or an unknown key -> 401', async () => {
      await request(t.baseUrl).get('/api/v2/auth').expect(401);
      await request(t.baseUrl).get('/api/v2/auth').set(...bearer(`napi_${'0'.repeat(64)}`)).expect(401);
    });
  });

  describe('GET /users/me', () => {
    it('personal key -> the account, in Neon\'s CurrentUserInfoResponse shape', async () => {
      const res = await request(t.baseUrl).get('/api/v2/users/me').set(...bearer(t.adminKey)).expect(200);
      expect(res.body).toMatchObject({
        id: adminAccountId,
        email: 'admin@example.com',
        login: 'admin@example.com',
        name: expect.any(String),
        last_name: expect.any(String),
        image: expect.any(String),
        plan: expect.any(String),
        active_seconds_limit: expect.any(Number),
        projects_limit: expect.any(Number),
        branches_limit: expect.any(Number),
        max_autoscaling_limit: expect.any(Number),
        auth_accounts: [expect.objectContaining({ email: 'admin@example.com', provider: expect.any(String) })],
      });
    });

    it('a second account sees itself, not the admin', async () => {
      const bob = await newAccount('me-bob');
      const res = await request(t.baseUrl).get('/api/v2/users/me').set(...bearer(bob.key)).expect(200);
      expect(res.body).toMatchObject({ id: bob.id, email: bob.email, name: 'User me-bob' });
    });

    it('organization and project keys belong to no person -> 404', async () => {
      for (const key of [orgKey, projectKey]) {
        const res = await request(t.baseUrl).get('/api/v2/users/me').set(...bearer(key)).expect(404);
        expect(res.body).toEqual({ request_id: expect.any(String), code: 'NOT_FOUND', message: expect.any(String) });
      }
    });
  });

  describe('GET /users/me/organizations', () => {
    it('personal key -> exactly the organizations the account belongs to', async () => {
      const carol = await newAccount('orgs-carol');
      const none = await request(t.baseUrl).get('/api/v2/users/me/organizations').set(...bearer(carol.key)).expect(200);
      expect(none.body).toEqual({ organizations: [] });

      const created = await request(t.baseUrl).post('/api/v2/organizations').set(...bearer(carol.key)).send({ name: 'Carol Co' }).expect(201);
      const mine = await request(t.baseUrl).get('/api/v2/users/me/organizations').set(...bearer(carol.key)).expect(200);
      expect(mine.body.organizations).toEqual([created.body]);

      const admins = await request(t.baseUrl).get('/api/v2/users/me/organizations').set(...bearer(t.adminKey)).expect(200);
      const ids = admins.body.organizations.map((o: { id: string }) => o.id);
      expect(ids).toContain(adminOrgId);
      expect(ids).not.toContain(created.body.id);
    });

    it("organization and project keys -> the key's organization only", async () => {
      for (const key of [orgKey, projectKey]) {
        const res = await request(t.baseUrl).get('/api/v2/users/me/organizations').set(...bearer(key)).expect(200);
        expect(res.body.organizations.map((o: { id: string }) => o.id)).toEqual([adminOrgId]);
        expect(res.body.organizations[0]).toMatchObject({
          id: adminOrgId,
          name: expect.any(String),
          handle: expect.any(String),
          plan: expect.any(String),
          managed_by: expect.any(String),
          created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
          updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        });
      }
    });
  });

  describe('personal API keys', () => {
    let dave: Account;
    beforeAll(async () => {
      dave = await newAccount('keys-dave');
    });

    it('create -> 200 with the secret, once; list never shows it', async () => {
      const res = await request(t.baseUrl).post('/api/v2/api_keys').set(...bearer(dave.key)).send({ key_name: 'ci' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: expect.any(Number),
        key: expect.stringMatching(/^napi_[a-z0-9]{64}$/),
        name: 'ci',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        created_by: dave.id,
      });
      const secret: string = res.body.key;
      // The new key works at once.
      const who = await request(t.baseUrl).get('/api/v2/auth').set(...bearer(secret)).expect(200);
      expect(who.body.account_id).toBe(dave.id);

      const list = await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(dave.key)).expect(200);
      expect(list.body.map((k: { id: number }) => k.id).sort()).toEqual([dave.keyId, res.body.id].sort());
      const item = list.body.find((k: { id: number }) => k.id === res.body.id);
      expect(item).toEqual({
        id: res.body.id,
        name: 'ci',
        created_at: res.body.created_at,
        created_by: { id: dave.id, name: 'User keys-dave', image: expect.any(String) },
        last_used_at: item.last_used_at === null ? null : expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        last_used_from_addr: expect.any(String),
      });
      expect(JSON.stringify(list.body)).not.toContain(secret);
      expect(JSON.stringify(list.body)).not.toContain(dave.key);
      expect(JSON.stringify(list.body)).not.toContain(secret.slice(5, 25));
    });

    it("list shows only the caller's own personal keys", async () => {
      const list = await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(dave.key)).expect(200);
      const adminList = await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(t.adminKey)).expect(200);
      const daveIds = new Set(list.body.map((k: { id: number }) => k.id));
      expect(adminList.body.length).toBeGreaterThan(0);
      for (const k of adminList.body) expect(daveIds.has(k.id)).toBe(false);
      for (const k of list.body) expect(k.created_by.id).toBe(dave.id);
    });

    it('invalid create bodies -> 400 and nothing created', async () => {
      const before = await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(dave.key)).expect(200);
      for (const body of [{}, { key_name: '' }, { key_name: 'x'.repeat(65) }, { key_name: 5 }, { key_name: 'ok', extra: true }]) {
        const res = await request(t.baseUrl).post('/api/v2/api_keys').set(...bearer(dave.key)).send(body);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_ERROR');
      }
      const after = await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(dave.key)).expect(200);
      expect(after.body).toEqual(before.body);
    });

    it('revoke -> 200 revoked:true, the key gets 401 on the very next request, and it leaves the list', async () => {
      const created = await request(t.baseUrl).post('/api/v2/api_keys').set(...bearer(dave.key)).send({ key_name: 'to-revoke' }).expect(200);
      await request(t.baseUrl).get('/api/v2/users/me').set(...bearer(created.body.key)).expect(200);
      const res = await request(t.baseUrl).delete(`/api/v2/api_keys/${created.body.id}`).set(...bearer(dave.key)).expect(200);
      expect(res.body).toEqual({
        id: created.body.id,
        name: 'to-revoke',
        created_at: created.body.created_at,
        created_by: dave.id,
        last_used_at: res.body.last_used_at === null ? null : expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        last_used_from_addr: expect.any(String),
        revoked: true,
      });
      const after = await request(t.baseUrl).get('/api/v2/users/me').set(...bearer(created.body.key));
      expect(after.status).toBe(401);
      expect(after.body.code).toBe('UNAUTHORIZED');
      const list = await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(dave.key)).expect(200);
      expect(list.body.map((k: { id: number }) => k.id)).not.toContain(created.body.id);
    });

    it('a key can revoke itself, and is refused from then on', async () => {
      const created = await request(t.baseUrl).post('/api/v2/api_keys').set(...bearer(dave.key)).send({ key_name: 'self' }).expect(200);
      await request(t.baseUrl).delete(`/api/v2/api_keys/${created.body.id}`).set(...bearer(created.body.key)).expect(200);
      await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(created.body.key)).expect(401);
    });

    it('revoking twice -> 404', async () => {
      const created = await request(t.baseUrl).post('/api/v2/api_keys').set(...bearer(dave.key)).send({ key_name: 'twice' }).expect(200);
      await request(t.baseUrl).delete(`/api/v2/api_keys/${created.body.id}`).set(...bearer(dave.key)).expect(200);
      const again = await request(t.baseUrl).delete(`/api/v2/api_keys/${created.body.id}`).set(...bearer(dave.key)).expect(404);
      expect(again.body.code).toBe('NOT_FOUND');
    });

    it("revoking someone else's key -> 404, and that key keeps working", async () => {
      const eve = await newAccount('keys-eve');
      const res = await request(t.baseUrl).delete(`/api/v2/api_keys/${eve.keyId}`).set(...bearer(dave.key)).expect(404);
      expect(res.body.code).toBe('NOT_FOUND');
      // Even a platform admin revokes only its own personal keys through this route.
      await request(t.baseUrl).delete(`/api/v2/api_keys/${eve.keyId}`).set(...bearer(t.adminKey)).expect(404);
      await request(t.baseUrl).get('/api/v2/users/me').set(...bearer(eve.key)).expect(200);
    });

    it('an organization key id is not a personal key -> 404, and it keeps working', async () => {
      const created = await request(t.baseUrl)
        .post(`/api/v2/organizations/${adminOrgId}/api_keys`)
        .set(...bearer(t.adminKey))
        .send({ key_name: 'org-not-personal' })
        .expect(200);
      await request(t.baseUrl).delete(`/api/v2/api_keys/${created.body.id}`).set(...bearer(t.adminKey)).expect(404);
      await request(t.baseUrl).get('/api/v2/auth').set(...bearer(created.body.key)).expect(200);
    });

    it('records when and from where a key was last used', async () => {
      const created = await request(t.baseUrl).post('/api/v2/api_keys').set(...bearer(dave.key)).send({ key_name: 'used' }).expect(200);
      const fresh = (await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(dave.key)).expect(200)).body.find((k: { id: number }) => k.id === created.body.id);
      expect(fresh.last_used_at).toBeNull();
      await request(t.baseUrl).get('/api/v2/auth').set(...bearer(created.body.key)).expect(200);
      // The use is recorded off the request path; give it a moment.
      let item: { last_used_at: string | null; last_used_from_addr: string } | undefined;
      for (let i = 0; i < 50 && !item?.last_used_at; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const list = await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(dave.key)).expect(200);
        item = list.body.find((k: { id: number }) => k.id === created.body.id);
      }
      expect(item?.last_used_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(item?.last_used_from_addr).toMatch(/127\.0\.0\.1$/);
    });

    it('a non-existent key id -> 404', async () => {
      await request(t.baseUrl).delete('/api/v2/api_keys/987654321').set(...bearer(dave.key)).expect(404);
    });

    it('organization and project keys cannot use the personal key routes -> 403', async () => {
      for (const key of [orgKey, projectKey]) {
        await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(key)).expect(403);
        await request(t.baseUrl).post('/api/v2/api_keys').set(...bearer(key)).send({ key_name: 'x' }).expect(403);
        await request(t.baseUrl).delete(`/api/v2/api_keys/${dave.keyId}`).set(...bearer(key)).expect(403);
      }
      await request(t.baseUrl).get('/api/v2/users/me').set(...bearer(dave.key)).expect(200);
    });
  });

  describe('key secrets', () => {
    it('keys carry at least 256 random bits: 64 characters drawn uniformly from [a-z0-9], all distinct', async () => {
      const frank = await newAccount('entropy-frank');
      const secrets: string[] = [frank.key];
      for (let i = 0; i < 19; i++) {
        const res = await request(t.baseUrl).post('/api/v2/api_keys').set(...bearer(frank.key)).send({ key_name: `k${i}` }).expect(200);
        secrets.push(res.body.key);
      }
      const bodies = secrets.map((s) => {
        expect(s).toMatch(/^napi_[a-z0-9]{64}$/);
        return s.slice('napi_'.length);
      });
      // 64 symbols of log2(36) bits each = 330 bits >= 256.
      expect(64 * Math.log2(36)).toBeGreaterThanOrEqual(256);
      expect(new Set(bodies).size).toBe(bodies.length);
      // 1280 symbols: with a uniform draw every one of the 36 appears (P(miss) < 1e-14); a narrower
      // alphabet (hex, digits, a fixed prefix) would fail this.
      const seen = new Set(bodies.join(''));
      expect(seen.size).toBe(36);
      // No long shared prefixes between keys (a counter or timestamp-derived key would share them).
      for (let i = 1; i < bodies.length; i++) expect(bodies[i].slice(0, 8)).not.toBe(bodies[0].slice(0, 8));
    });

    it('are stored only as SHA-256 hashes: no column of any control-plane table contains a secret', async () => {
      const gina = await newAccount('storage-gina');
      const extra = await request(t.baseUrl).post('/api/v2/api_keys').set(...bearer(gina.key)).send({ key_name: 'stored' }).expect(200);
      const secrets = [t.adminKey, orgKey, projectKey, gina.key, extra.body.key];

      const rows = await adminQuery<Record<string, unknown>>('SELECT * FROM api_keys', [], t.database);
      expect(rows.length).toBeGreaterThanOrEqual(secrets.length);
      for (const secret of secrets) {
        const body = secret.slice('napi_'.length);
        for (const row of rows) {
          for (const value of Object.values(row)) {
            const text = value instanceof Date ? value.toISOString() : String(value);
            expect(text).not.toContain(body);
          }
        }
        // What is stored is the hash of the whole key.
        expect(rows.filter((r) => r.token_hash === sha256(secret))).toHaveLength(1);
      }

      // And no other table holds a secret either (bootstrap state, accounts, ...).
      const tables = await adminQuery<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
        [],
        t.database,
      );
      expect(tables.map((r) => r.table_name)).toContain('api_keys');
      for (const { table_name } of tables) {
        const dump = await adminQuery<{ row: string }>(`SELECT t::text AS row FROM "${table_name}" t`, [], t.database);
        const all = dump.map((r) => r.row).join('\n');
        for (const secret of secrets) expect(all).not.toContain(secret.slice('napi_'.length));
      }
    });
  });

  describe('POST /admin/accounts (Extension)', () => {
    it('platform admin -> 201 {account, api_key}; the key is a working personal key', async () => {
      const res = await request(t.baseUrl)
        .post('/api/v2/admin/accounts')
        .set(...bearer(t.adminKey))
        .send({ email: 'New.Person@Example.com', name: 'New Person' })
        .expect(201);
      expect(res.body).toEqual({
        account: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: 'new.person@example.com', name: 'New Person' },
        api_key: { id: expect.any(Number), key: expect.stringMatching(/^napi_[a-z0-9]{64}$/) },
      });
      const me = await request(t.baseUrl).get('/api/v2/users/me').set(...bearer(res.body.api_key.key)).expect(200);
      expect(me.body).toMatchObject({ id: res.body.account.id, email: 'new.person@example.com' });
      // A new account is not a platform admin.
      await request(t.baseUrl)
        .post('/api/v2/admin/accounts')
        .set(...bearer(res.body.api_key.key))
        .send({ email: 'by-new@example.com', name: 'x' })
        .expect(403);
    });

    it('duplicate email (case-insensitively) -> 409, and no second account', async () => {
      await newAccount('dup-harry');
      for (const email of ['dup-harry@example.com', 'DUP-Harry@example.COM']) {
        const res = await request(t.baseUrl).post('/api/v2/admin/accounts').set(...bearer(t.adminKey)).send({ email, name: 'again' }).expect(409);
        expect(res.body.code).toBe('CONFLICT');
      }
      const rows = await adminQuery(`SELECT id FROM accounts WHERE lower(email) = 'dup-harry@example.com'`, [], t.database);
      expect(rows).toHaveLength(1);
      // The failed attempts left no orphan keys behind.
      const keys = await adminQuery(`SELECT k.id FROM api_keys k LEFT JOIN accounts a ON a.id = k.account_id WHERE k.kind = 'personal' AND a.id IS NULL`, [], t.database);
      expect(keys).toHaveLength(0);
    });

    it('bad bodies -> 400', async () => {
      for (const body of [{ email: 'not-an-email', name: 'x' }, { email: 'ok@example.com' }, { name: 'x' }, { email: 'ok@example.com', name: '' }, { email: 'ok@example.com', name: ' \t ' }]) {
        const res = await request(t.baseUrl).post('/api/v2/admin/accounts').set(...bearer(t.adminKey)).send(body);
        expect(res.status).toBe(400);
      }
      expect(await adminQuery(`SELECT id FROM accounts WHERE email = 'ok@example.com'`, [], t.database)).toHaveLength(0);
    });

    it('non-platform-admins -> 403: an ordinary personal key, an organization key, a project key', async () => {
      const ivan = await newAccount('notadmin-ivan');
      for (const key of [ivan.key, orgKey, projectKey]) {
        const res = await request(t.baseUrl).post('/api/v2/admin/accounts').set(...bearer(key)).send({ email: 'sneaky@example.com', name: 'x' });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
      await request(t.baseUrl).post('/api/v2/admin/accounts').send({ email: 'sneaky@example.com', name: 'x' }).expect(401);
      const rows = await adminQuery(`SELECT id FROM accounts WHERE email = 'sneaky@example.com'`, [], t.database);
      expect(rows).toHaveLength(0);
    });
  });
});
