// Neon Auth users on branches (POST/DELETE/PUT role, and the users list extension): real provider (embedded
// Stack-Auth-compatible server over HTTP, and the mock), real branch databases read through their connection URIs.
import request from 'supertest';
import { api, type Api } from '../helpers/fixtures.js';
import { startRelay } from '../helpers/relay.js';
import { createStackProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import {
  BREAK_USERS_SYNC,
  enableAuth,
  newAuthProject,
  newBranch,
  ownerSql,
  providerUser,
  providerUsers,
  REPAIR_USERS_SYNC,
  uniqueEmail,
  usersSync,
  usersSyncRow,
  type AuthProject,
  type EnabledAuth,
} from './users-helpers.js';


/** Polls `check` until it holds (the sync engine applies provider webhooks asynchronously, in milliseconds). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Neon Auth users (branch routes)', () => {
  let t: TestApp;
  let admin: Api;
  let project: AuthProject;
  let stack: EnabledAuth;
  let mock: EnabledAuth;
  let mockBranch: { id: string; uri: string };
  let plainBranch: { id: string; uri: string };
  const base = (branchId: string) => `/projects/${project.projectId}/branches/${branchId}/auth/users`;

  beforeAll(async () => {
    // The relay of 'provider unavailable' listens on 127.0.0.1, which outgoing calls may only reach when the operator allows it.
    t = await startTestApp({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
    admin = api(t, t.adminKey);
    project = await newAuthProject(t);
    // Branches first: a branch is a copy of its parent, made while nothing is connected to it.
    mockBranch = await newBranch(t, admin, project.projectId, 'mock-auth');
    plainBranch = await newBranch(t, admin, project.projectId, 'no-auth');
    stack = await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
    mock = await enableAuth(t, project.projectId, mockBranch.id, 'mock');
  });
  afterAll(async () => {
    await t?.close();
  });

  describe.each([
    ['stack', () => ({ branch: project.defaultBranchId, uri: project.uri, auth: stack })],
    ['mock', () => ({ branch: mockBranch.id, uri: mockBranch.uri, auth: mock })],
  ])('%s', (_kind, target) => {
    it('creates a user in the provider and in users_sync before the 201; raw_json is the provider user object', async () => {
      const { branch, uri, auth } = target();
      const email = uniqueEmail('jane');
      const res = await admin.post(base(branch), { email, name: 'Jane Doe' }).expect(201);
      expect(res.body).toEqual({ id: expect.any(String) });
      const id = res.body.id as string;

      // Immediately visible to the application (SELECT * through the project's connection URI).
      const row = await usersSyncRow(uri, id);
      expect(row).toMatchObject({ id, email, name: 'Jane Doe', deleted_at: null });
      expect(row!.created_at).toBeInstanceOf(Date);
      expect(row!.updated_at).toBeInstanceOf(Date);
      // raw_json is exactly what the provider says about the user.
      const fromProvider = await providerUser(t, auth, id);
      expect(fromProvider).toBeDefined();
      expect(row!.raw_json).toEqual(fromProvider);
      expect(row!.raw_json).toMatchObject({ id, primary_email: email, display_name: 'Jane Doe' });
      expect(row!.created_at!.getTime()).toBe(fromProvider!.signed_up_at_millis);
    });

    it('name is optional: it defaults to the email (as neonctl sends it)', async () => {
      const { branch, uri } = target();
      const email = uniqueEmail('noname');
      const res = await admin.post(base(branch), { email }).expect(201);
      expect(await usersSyncRow(uri, res.body.id)).toMatchObject({ email, name: email });
    });

    it('duplicate email -> 409 AUTH_USER_ALREADY_EXISTS, and nothing changes', async () => {
      const { branch, uri, auth } = target();
      const email = uniqueEmail('dup');
      await admin.post(base(branch), { email, name: 'First' }).expect(201);
      const before = await usersSync(uri);
      const providerBefore = await providerUsers(t, auth);
      const res = await admin.post(base(branch), { email, name: 'Second' }).expect(409);
      expect(res.body).toMatchObject({ code: 'AUTH_USER_ALREADY_EXISTS', request_id: expect.any(String) });
      expect(res.body.message).toContain(email);
      expect(await usersSync(uri)).toEqual(before);
      expect(await providerUsers(t, auth)).toEqual(providerBefore);
    });

    it('set-role stores the roles with the provider user and shows them in users_sync.raw_json', async () => {
      const { branch, uri, auth } = target();
      const id = (await admin.post(base(branch), { email: uniqueEmail('roles') }).expect(201)).body.id as string;
      const put = await putRoles(branch, id, { roles: ['admin', 'editor'] }).expect(200);
      expect(put.body).toEqual({ id });
      const fromProvider = await providerUser(t, auth, id);
      expect(fromProvider!.server_metadata).toEqual({ roles: ['admin', 'editor'] });
      const row = await usersSyncRow(uri, id);
      expect(row!.raw_json).toEqual(fromProvider);
      // Replaced, not merged; the row's updated_at moves forward.
      const before = row!.updated_at!.getTime();
      await putRoles(branch, id, { roles: ['user'] }).expect(200);
      const after = await usersSyncRow(uri, id);
      expect((after!.raw_json.server_metadata as { roles: string[] }).roles).toEqual(['user']);
      expect(after!.updated_at!.getTime()).toBeGreaterThanOrEqual(before);
    });

    it('delete -> 204 with no body; provider user gone; users_sync row soft-deleted (deleted_at set, row kept)', async () => {
      const { branch, uri, auth } = target();
      const email = uniqueEmail('del');
      const id = (await admin.post(base(branch), { email, name: 'To delete' }).expect(201)).body.id as string;
      const res = await admin.delete(`${base(branch)}/${id}`).expect(204);
      expect(res.text).toBe('');
      expect(await providerUser(t, auth, id)).toBeUndefined();
      const row = await usersSyncRow(uri, id);
      expect(row).toMatchObject({ id, email, name: 'To delete' });
      expect(row!.deleted_at).toBeInstanceOf(Date);
      // Gone is gone: a second delete is 404, and the email can be used again.
      const again = await admin.delete(`${base(branch)}/${id}`).expect(404);
      expect(again.body.code).toBe('AUTH_USER_NOT_FOUND');
      await admin.post(base(branch), { email }).expect(201);
    });

    it('unknown users -> 404 AUTH_USER_NOT_FOUND for delete and set-role (UUIDs and other ids)', async () => {
      const { branch } = target();
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', 'user%20with%20spaces']) {
        const del = await admin.delete(`${base(branch)}/${id}`).expect(404);
        expect(del.body.code).toBe('AUTH_USER_NOT_FOUND');
        const put = await putRoles(branch, id, { roles: ['admin'] }).expect(404);
        expect(put.body.code).toBe('AUTH_USER_NOT_FOUND');
      }
    });
  });

  describe('errors', () => {
    it('bad bodies -> 400 naming the field, nothing created', async () => {
      const before = await usersSync(project.uri);
      const cases: [object, string][] = [
        [{}, '[email]'],
        [{ email: 'not-an-email' }, '[email] must be an email address'],
        [{ email: 42 }, '[email]'],
        [{ email: `${'a'.repeat(250)}@example.com` }, '[email]'],
        [{ email: uniqueEmail(), name: '' }, '[name]'],
        [{ email: uniqueEmail(), name: null }, '[name]'],
        [{ email: uniqueEmail(), name: 'x'.repeat(256) }, '[name]'],
        [{ email: uniqueEmail(), name: 7 }, '[name]'],
        [{ email: uniqueEmail(), role: 'admin' }, 'property role should not exist'],
      ];
      for (const [body, field] of cases) {
        const res = await admin.post(base(project.defaultBranchId), body).expect(400);
        expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR' });
        expect(res.body.message).toContain(field);
      }
      expect(await usersSync(project.uri)).toEqual(before);
    });

    it('bad role bodies -> 400', async () => {
      const id = (await admin.post(base(project.defaultBranchId), { email: uniqueEmail('badroles') }).expect(201)).body.id as string;
      for (const body of [{}, { roles: [] }, { roles: 'admin' }, { roles: [''] }, { roles: ['  '] }, { roles: [1] }, { roles: ['x'.repeat(256)] }, { roles: Array.from({ length: 101 }, (_, i) => `r${i}`) }, { roles: ['a'], extra: 1 }]) {
        const res = await putRoles(project.defaultBranchId, id, body).expect(400);
        expect(res.body.code).toBe('VALIDATION_ERROR');
        expect(res.body.message).toMatch(/roles|extra/);
      }
    });

    it('a branch without Neon Auth -> 404 NEON_AUTH_NOT_ENABLED; an unknown branch -> 404; a bad branch id -> 400', async () => {
      const res = await admin.post(base(plainBranch.id), { email: uniqueEmail() }).expect(404);
      expect(res.body.code).toBe('NEON_AUTH_NOT_ENABLED');
      expect((await admin.delete(`${base(plainBranch.id)}/00000000-0000-4000-8000-000000000000`).expect(404)).body.code).toBe('NEON_AUTH_NOT_ENABLED');
      expect((await putRoles(plainBranch.id, 'x', { roles: ['a'] }).expect(404)).body.code).toBe('NEON_AUTH_NOT_ENABLED');
      expect((await admin.get(base(plainBranch.id)).expect(404)).body.code).toBe('NEON_AUTH_NOT_ENABLED');
      expect((await admin.post(base('br-no-such-branch-000000'), { email: uniqueEmail() }).expect(404)).body.code).toBe('NOT_FOUND');
      expect((await admin.post(base('BAD_ID'), { email: uniqueEmail() }).expect(400)).body.code).toBe('VALIDATION_ERROR');
      expect((await admin.get(`/projects/no-such-project/branches/${project.defaultBranchId}/auth/users`).expect(404)).body.code).toBe('NOT_FOUND');
    });

    it('an auth_user_id longer than 1024 characters -> 400', async () => {
      const res = await admin.delete(`${base(project.defaultBranchId)}/${'u'.repeat(1025)}`).expect(400);
      expect(res.body.message).toContain('auth_user_id');
    });
  });

  describe('users_sync failures are answered honestly and leave nothing half-made', () => {
    it('create: a failed users_sync write deletes the provider user again and answers 503; the same email works once repaired', async () => {
      const email = uniqueEmail('compensated');
      const providerBefore = await providerUsers(t, stack);
      await ownerSql(project.uri, BREAK_USERS_SYNC);
      try {
        const res = await admin.post(base(project.defaultBranchId), { email, name: 'Half made' }).expect(503);
        expect(res.body.code).toBe('NEON_AUTH_USERS_SYNC_UNAVAILABLE');
        expect(res.body.message).toContain('the user was not created');
        expect(res.body.message).not.toContain('read-only for this test'); // no internals
      } finally {
        await ownerSql(project.uri, REPAIR_USERS_SYNC);
      }
      expect(await providerUsers(t, stack)).toEqual(providerBefore);
      // The provider's own user.created and user.deleted webhooks reach users_sync through the sync engine once
      // the table is repaired: the compensated user may appear there, but only as deleted.
      await eventually(async () => (await usersSync(project.uri, 'email = $1 AND deleted_at IS NULL', [email])).length === 0);
      const ok = await admin.post(base(project.defaultBranchId), { email, name: 'Whole' }).expect(201);
      expect(await usersSyncRow(project.uri, ok.body.id)).toMatchObject({ email, name: 'Whole' });
    });

    it('create: users_sync dropped -> 409 NEON_AUTH_USERS_SYNC_MISSING, and the provider user is deleted again', async () => {
      // A branch of its own, enabled with mock, whose neon_auth schema the application then drops.
      const b = await newBranch(t, admin, project.projectId, 'dropped');
      const auth = await enableAuth(t, project.projectId, b.id, 'mock');
      await ownerSql(b.uri, 'DROP SCHEMA neon_auth CASCADE');
      const res = await admin.post(base(b.id), { email: uniqueEmail('dropped') }).expect(409);
      expect(res.body.code).toBe('NEON_AUTH_USERS_SYNC_MISSING');
      expect(res.body.message).toMatch(/does not exist in database neondb: disable and enable Neon Auth/);
      expect(await providerUsers(t, auth)).toEqual([]);
      expect((await admin.get(base(b.id)).expect(409)).body.code).toBe('NEON_AUTH_USERS_SYNC_MISSING');
    });

    it('delete: a failed users_sync write answers 503; retrying the delete records it (204) instead of 404', async () => {
      const email = uniqueEmail('retry-delete');
      const id = (await admin.post(base(project.defaultBranchId), { email }).expect(201)).body.id as string;
      await ownerSql(project.uri, BREAK_USERS_SYNC);
      try {
        const res = await admin.delete(`${base(project.defaultBranchId)}/${id}`).expect(503);
        expect(res.body.code).toBe('NEON_AUTH_USERS_SYNC_UNAVAILABLE');
        expect(res.body.message).toContain('retry');
      } finally {
        await ownerSql(project.uri, REPAIR_USERS_SYNC);
      }
      expect(await providerUser(t, stack, id)).toBeUndefined();
      // Once the table is repaired, the delete reaches users_sync: by the provider's user.deleted webhook through
      // the sync engine, or by retrying the call (204 while the row is still live there, 404 once it is not).
      const retry = await admin.delete(`${base(project.defaultBranchId)}/${id}`);
      expect([204, 404]).toContain(retry.status);
      await eventually(async () => (await usersSyncRow(project.uri, id))!.deleted_at instanceof Date);
      await admin.delete(`${base(project.defaultBranchId)}/${id}`).expect(404);
    });

    it('set-role: a failed users_sync write answers 503; the PUT is retried to 200 and users_sync catches up', async () => {
      const id = (await admin.post(base(project.defaultBranchId), { email: uniqueEmail('retry-role') }).expect(201)).body.id as string;
      await ownerSql(project.uri, BREAK_USERS_SYNC);
      try {
        expect((await putRoles(project.defaultBranchId, id, { roles: ['auditor'] }).expect(503)).body.code).toBe('NEON_AUTH_USERS_SYNC_UNAVAILABLE');
      } finally {
        await ownerSql(project.uri, REPAIR_USERS_SYNC);
      }
      await putRoles(project.defaultBranchId, id, { roles: ['auditor'] }).expect(200);
      expect((await usersSyncRow(project.uri, id))!.raw_json.server_metadata).toEqual({ roles: ['auditor'] });
    });

    it('concurrent set-role calls for one user leave users_sync equal to the provider', async () => {
      const id = (await admin.post(base(project.defaultBranchId), { email: uniqueEmail('race') }).expect(201)).body.id as string;
      const results = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((r) => putRoles(project.defaultBranchId, id, { roles: [r] })));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const fromProvider = await providerUser(t, stack, id);
      expect((await usersSyncRow(project.uri, id))!.raw_json).toEqual(fromProvider);
    });
  });

  describe('provider unavailable', () => {
    it('create, set-role and delete answer 503 AUTH_PROVIDER_UNAVAILABLE and write nothing to users_sync', async () => {
      // A provider project connected by hand (manual setup) through a relay we can switch off: the embedded
      // provider's own HTTP API behind a local forwarding server.
      const own = await createStackProject(t, 'behind a relay');
      const relay = await startRelay(own.baseUrl);
      const p = await newAuthProject(t, 'relay');
      await admin
        .post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, {
          auth_provider: 'stack',
          auth_provider_base_url: relay.url,
          auth_provider_project_id: own.projectId,
          secret_server_key: own.secretServerKey,
        })
        .expect(201);
      // A manual-setup enable reconciles in the background: let it finish, or its write may land after `before`.
      const sync = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/sync`;
      for (let i = 0; i < 200 && (await admin.get(sync).expect(200)).body.last_reconciled_at === null; i++) await new Promise((r) => setTimeout(r, 50));
      const users = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/users`;
      const id = (await admin.post(users, { email: uniqueEmail('relayed') }).expect(201)).body.id as string;
      const before = await usersSync(p.uri);
      await relay.close();
      const created = await admin.post(users, { email: uniqueEmail('down') }).expect(503);
      expect(created.body).toMatchObject({ code: 'AUTH_PROVIDER_UNAVAILABLE', message: expect.stringContaining('retry') });
      expect((await request(t.baseUrl).put(`/api/v2${users}/${id}/role`).set('Authorization', `Bearer ${t.adminKey}`).send({ roles: ['x'] }).expect(503)).body.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
      expect((await admin.delete(`${users}/${id}`).expect(503)).body.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
      expect(await usersSync(p.uri)).toEqual(before);
    });
  });

  describe('Idempotency-Key', () => {
    it('the same key and body answers the first 201 again without creating a second user; another body -> 422', async () => {
      const email = uniqueEmail('idem');
      const key = `users-${Date.now()}`;
      const first = await admin.post(base(project.defaultBranchId), { email }).set('Idempotency-Key', key).expect(201);
      const again = await admin.post(base(project.defaultBranchId), { email }).set('Idempotency-Key', key).expect(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await usersSync(project.uri, 'email = $1', [email])).toHaveLength(1);
      const other = await admin.post(base(project.defaultBranchId), { email: uniqueEmail('idem2') }).set('Idempotency-Key', key).expect(422);
      expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    });
  });

  describe('list and search users_sync (extension)', () => {
    let listProject: AuthProject;
    let ids: string[];
    beforeAll(async () => {
      listProject = await newAuthProject(t, 'list users');
      await enableAuth(t, listProject.projectId, listProject.defaultBranchId, 'mock');
      ids = [];
      for (let i = 0; i < 7; i++) {
        const res = await admin
          .post(`/projects/${listProject.projectId}/branches/${listProject.defaultBranchId}/auth/users`, { email: `list-${i}@example.com`, name: i % 2 ? `Odd_${i}` : `Even%${i}` })
          .expect(201);
        ids.push(res.body.id);
      }
      await admin.delete(`/projects/${listProject.projectId}/branches/${listProject.defaultBranchId}/auth/users/${ids[3]}`).expect(204);
      await request(t.baseUrl)
        .put(`/api/v2/projects/${listProject.projectId}/branches/${listProject.defaultBranchId}/auth/users/${ids[1]}/role`)
        .set('Authorization', `Bearer ${t.adminKey}`)
        .send({ roles: ['admin'] })
        .expect(200);
    });
    const listBase = () => `/projects/${listProject.projectId}/branches/${listProject.defaultBranchId}/auth/users`;

    it('newest first, live users only by default, with the fields of users_sync', async () => {
      const res = await admin.get(listBase()).expect(200);
      expect(res.body.users.map((u: { id: string }) => u.id)).toEqual(await expectedOrder(ids.filter((_, i) => i !== 3)));
      expect(res.body.pagination).toEqual({});
      const one = res.body.users.find((u: { id: string }) => u.id === ids[1]);
      expect(one).toEqual({
        id: ids[1],
        email: 'list-1@example.com',
        name: 'Odd_1',
        roles: ['admin'],
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        updated_at: expect.stringMatching(/Z$/),
        deleted_at: null,
        raw_json: expect.objectContaining({ id: ids[1], primary_email: 'list-1@example.com', server_metadata: { roles: ['admin'] } }),
      });
    });

    it('include_deleted=true adds soft-deleted users; bad values -> 400', async () => {
      const res = await admin.get(`${listBase()}?include_deleted=true`).expect(200);
      expect(res.body.users).toHaveLength(7);
      expect(res.body.users.find((u: { id: string }) => u.id === ids[3]).deleted_at).toMatch(/Z$/);
      expect((await admin.get(`${listBase()}?include_deleted=yes`).expect(400)).body.code).toBe('VALIDATION_ERROR');
    });

    it('cursor pages cover every user once, in order', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await admin.get(`${listBase()}?limit=2&include_deleted=true${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).expect(200);
        expect(res.body.users.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.users.map((u: { id: string }) => u.id));
        cursor = res.body.pagination.next;
        if (!cursor) break;
      }
      expect(seen).toEqual(await expectedOrder(ids));
      expect(seen).toEqual([...ids].reverse()); // created one after the other
    });

    it('query searches email and name (case-insensitive, % and _ literal) and matches ids exactly', async () => {
      const q = async (query: string) => (await admin.get(`${listBase()}?query=${encodeURIComponent(query)}`).expect(200)).body.users.map((u: { email: string }) => u.email).sort();
      expect(await q('LIST-5@')).toEqual(['list-5@example.com']);
      expect(await q('odd_')).toEqual(['list-1@example.com', 'list-5@example.com']); // list-3 is deleted
      expect(await q('%')).toEqual(['list-0@example.com', 'list-2@example.com', 'list-4@example.com', 'list-6@example.com']);
      expect(await q(ids[2])).toEqual(['list-2@example.com']);
      expect(await q('nobody')).toEqual([]);
    });

    it('bad limits and cursors -> 400', async () => {
      for (const qs of ['limit=0', 'limit=1001', 'limit=x', 'cursor=garbage', `cursor=${Buffer.from(JSON.stringify({ k: 'not a time', id: 'x' })).toString('base64url')}`, 'sort=asc']) {
        expect((await admin.get(`${listBase()}?${qs}`).expect(400)).body.code).toBe('VALIDATION_ERROR');
      }
    });

    /** Newest sign-up first, ties by id descending (byte order), restricted to `subset`. */
    async function expectedOrder(subset: string[]): Promise<string[]> {
      const rows = await usersSync(listProject.uri);
      rows.sort((x, y) => y.created_at!.getTime() - x.created_at!.getTime() || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0));
      const order = rows.map((r) => r.id).filter((id) => subset.includes(id));
      expect(order).toHaveLength(subset.length);
      return order;
    }
  });

  function putRoles(branch: string, id: string, body: object, key = t.adminKey) {
    return request(t.baseUrl).put(`/api/v2${base(branch)}/${id}/role`).set('Authorization', `Bearer ${key}`).send(body);
  }
});
