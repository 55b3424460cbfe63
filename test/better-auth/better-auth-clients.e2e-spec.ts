// Better Auth hosted per branch, driven by the real clients: Better Auth's own (`better-auth/client`) and Neon's SDK
// (`@neondatabase/auth`), against base_url as Neon's enable answers it. Tokens verified with jose against jwks_url.
import { asc, eq, isNull } from 'drizzle-orm';
import { usersSync } from 'drizzle-orm/neon';
import { drizzle } from 'drizzle-orm/node-postgres';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import pg from 'pg';
import { api, withClient } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { usersSyncRow } from '../neon-auth/users-helpers.js';
import { betterAuthClient, betterAuthProject, CookieJar, type BetterAuthEnabled } from './better-auth-helpers.js';

describe('Better Auth per branch: real clients', () => {
  let t: TestApp;
  let auth: BetterAuthEnabled;
  let uri: string;
  let projectId: string;
  let branchId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const p = await betterAuthProject(t, 'clients');
    auth = p.auth;
    uri = p.uri;
    projectId = p.projectId;
    branchId = p.defaultBranchId;
  });

  afterAll(async () => {
    await t?.close();
  });

  const client = (jar: CookieJar) => betterAuthClient(auth.base_url, jar);


  it('answers the enable with Neon\'s better_auth shape', () => {
    expect(auth).toEqual({
      auth_provider: 'better_auth',
      auth_provider_project_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      pub_client_key: '',
      secret_server_key: '',
      jwks_url: `${t.baseUrl}/neon-auth/${branchId}/neondb/auth/.well-known/jwks.json`,
      schema_name: 'neon_auth',
      table_name: 'users_sync',
      base_url: `${t.baseUrl}/neon-auth/${branchId}/neondb/auth`,
    });
  });

  it('signs up, signs in, gets the session with a JWT that verifies against jwks_url, and signs out', async () => {
    const jar = new CookieJar(t.baseUrl);
    const c = client(jar);
    const email = `ada-${Date.now()}@example.com`;
    const signUp = await c.signUp.email({ email, password: 'correct horse battery', name: 'Ada Lovelace' });
    expect(signUp.error).toBeNull();
    const userId = signUp.data!.user.id;
    expect(userId).toMatch(/^[0-9a-f-]{36}$/);
    // users_sync has the user at once (same transaction as the sign-up).
    const row = await usersSyncRow(uri, userId);
    expect(row).toMatchObject({ id: userId, email, name: 'Ada Lovelace', deleted_at: null });
    expect(row!.created_at).toBeInstanceOf(Date);

    expect(jar.has('__Secure-neon-auth.session_token')).toBe(true);
    let jwt: string | null = null;
    const session = await c.getSession({ fetchOptions: { onSuccess: (ctx) => void (jwt = ctx.response.headers.get('set-auth-jwt')) } });
    expect(session.data?.user.email).toBe(email);
    expect(jwt).toBeTruthy();
    const keys = createRemoteJWKSet(new URL(auth.jwks_url));
    const { payload } = await jwtVerify(jwt!, keys, { issuer: auth.base_url, audience: auth.base_url });
    expect(payload).toMatchObject({ sub: userId, role: 'authenticated', email });
    expect(payload.exp! - payload.iat!).toBe(15 * 60);

    await c.signOut();
    expect((await c.getSession()).data).toBeNull();
    const again = new CookieJar(t.baseUrl);
    const signIn = await client(again).signIn.email({ email, password: 'correct horse battery' });
    expect(signIn.error).toBeNull();
    expect((await client(again).getSession()).data?.user.id).toBe(userId);
    const wrong = await client(new CookieJar(t.baseUrl)).signIn.email({ email, password: 'wrong password!' });
    expect(wrong.error?.status).toBe(401);
  });

  it('creates users through the management API that sign in with their password', async () => {
    const email = `mgmt-${Date.now()}@example.com`;
    const res = await api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth/users`, { email, name: 'Grace', password: 'a long password' }).expect(201);
    const row = await usersSyncRow(uri, res.body.id);
    expect(row).toMatchObject({ email, name: 'Grace' });
    const signIn = await client(new CookieJar(t.baseUrl)).signIn.email({ email, password: 'a long password' });
    expect(signIn.error).toBeNull();
  });

  it('drizzle\'s usersSync, a foreign key to users_sync(id) with ON DELETE CASCADE and the seed\'s LEFT JOIN keep working', async () => {
    const stamp = Date.now();
    const ada = await client(new CookieJar(t.baseUrl)).signUp.email({ email: `drizzle-ada-${stamp}@example.com`, password: 'correct horse battery', name: 'Ada D' });
    const bob = await client(new CookieJar(t.baseUrl)).signUp.email({ email: `drizzle-bob-${stamp}@example.com`, password: 'correct horse battery', name: 'Bob D' });
    const [adaId, bobId] = [ada.data!.user.id, bob.data!.user.id];
    const pool = new pg.Pool({ connectionString: uri, max: 2 });
    try {
      const db = drizzle(pool);
      const rows = await db.select().from(usersSync).where(eq(usersSync.id, adaId)).orderBy(asc(usersSync.id));
      expect(rows.map((r) => [r.id, r.name, r.email, r.deletedAt])).toEqual([[adaId, 'Ada D', `drizzle-ada-${stamp}@example.com`, null]]);
      expect(Math.abs(new Date(rows[0].createdAt!).getTime() - stamp)).toBeLessThan(60_000);
      await pool.query(`CREATE TABLE todos (id serial PRIMARY KEY, owner_id text NOT NULL REFERENCES neon_auth.users_sync(id) ON DELETE CASCADE, task text)`);
      await pool.query(`INSERT INTO todos (owner_id, task) VALUES ($1, 'ada task'), ($2, 'bob task')`, [adaId, bobId]);
      await expect(pool.query(`INSERT INTO todos (owner_id, task) VALUES ('nobody', 'x')`)).rejects.toThrow(/foreign key/);
      // Bob is deleted through the API: his users_sync row stays (deleted_at), so his todo does too, and the seed's join hides it.
      await api(t, t.adminKey).delete(`/projects/${projectId}/branches/${branchId}/auth/users/${bobId}`).expect(204);
      const joined = await pool.query(
        `SELECT t.task, u.name FROM todos t LEFT JOIN neon_auth.users_sync u ON t.owner_id = u.id WHERE u.deleted_at IS NULL ORDER BY t.id`,
      );
      expect(joined.rows).toEqual([{ task: 'ada task', name: 'Ada D' }]);
      const live = await db.select().from(usersSync).where(isNull(usersSync.deletedAt));
      expect(live.map((r) => r.id)).toContain(adaId);
      expect(live.map((r) => r.id)).not.toContain(bobId);
    } finally {
      await pool.end();
    }
  });

  it('the phone number plugin, once project_config enables it, verifies a phone number with a code from the mailbox', async () => {
    const jar = new CookieJar(t.baseUrl);
    const c = client(jar);
    expect((await c.signUp.email({ email: `phone-${Date.now()}@example.com`, password: 'correct horse battery', name: 'Phone' })).error).toBeNull();
    const phone = `+1555${String(Date.now()).slice(-7)}`;
    // Off by default (Neon's default row): the route does not exist.
    expect((await c.phoneNumber.sendOtp({ phoneNumber: phone })).error?.status).toBe(404);
    await withClient(uri, (db) => db.query(`UPDATE neon_auth.project_config SET plugin_configs = jsonb_set(plugin_configs, '{phoneNumber,enabled}', 'true')`));
    await new Promise((r) => setTimeout(r, 1100));
    expect((await c.phoneNumber.sendOtp({ phoneNumber: phone })).error).toBeNull();
    const mail = await api(t, t.adminKey).get(`/projects/${projectId}/branches/${branchId}/auth/mailbox?to=${encodeURIComponent(phone)}`).expect(200);
    expect(mail.body.messages).toHaveLength(1);
    expect(mail.body.messages[0]).toMatchObject({ kind: 'phone_otp', to: phone });
    const code = mail.body.messages[0].data.otp as string;
    const verified = await c.phoneNumber.verify({ phoneNumber: phone, code, updatePhoneNumber: true });
    expect(verified.error).toBeNull();
    const row = await withClient(uri, async (db) => (await db.query(`SELECT raw_json FROM neon_auth.users_sync WHERE raw_json->>'phoneNumber' = $1`, [phone])).rows);
    expect(row).toHaveLength(1);
    expect(row[0].raw_json.phoneNumberVerified).toBe(true);
  });
});
