// Review findings on Neon Auth (issue 4). Each test failed before its fix.
import { randomUUID } from 'node:crypto';
import { addMember, adminOrgId, api, newAccount } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { enableAuth, newAuthProject, providerUser, usersSync, usersSyncRow, type AuthProject, type EnabledAuth } from './users-helpers.js';

describe('Neon Auth review findings', () => {
  let t: TestApp;
  let p: AuthProject;
  let mockAuth: EnabledAuth;
  let usersPath: string;

  beforeAll(async () => {
    t = await startTestApp();
    p = await newAuthProject(t, 'review');
    mockAuth = await enableAuth(t, p.projectId, p.defaultBranchId, 'mock');
    usersPath = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/users`;
  });
  afterAll(async () => {
    await t?.close();
  });

  const admin = () => api(t, t.adminKey);

  describe('a user id in another letter case (UUIDs are case-insensitive; the providers accept either)', () => {
    it('branch delete with an upper-case id deletes the user in the provider AND in users_sync (no live row left, no stray tombstone)', async () => {
      const created = await admin().post(usersPath, { email: `case-${randomUUID()}@example.com` }).expect(201);
      const id = created.body.id as string;
      expect(id).toBe(id.toLowerCase());
      await admin().delete(`${usersPath}/${id.toUpperCase()}`).expect(204);
      expect(await providerUser(t, mockAuth, id)).toBeUndefined();
      const row = await usersSyncRow(p.uri, id);
      expect(row?.deleted_at).toBeInstanceOf(Date);
      expect(await usersSync(p.uri, 'id = $1', [id.toUpperCase()])).toEqual([]);
    });

    it('legacy delete with an upper-case id does the same', async () => {
      const created = await admin().post(usersPath, { email: `case-legacy-${randomUUID()}@example.com` }).expect(201);
      const id = created.body.id as string;
      await admin().delete(`/projects/${p.projectId}/auth/users/${id.toUpperCase()}`).expect(204);
      expect((await usersSyncRow(p.uri, id))?.deleted_at).toBeInstanceOf(Date);
      expect(await usersSync(p.uri, 'id = $1', [id.toUpperCase()])).toEqual([]);
    });
  });

  describe('Idempotency-Key on the legacy routes whose project_id is in the body', () => {
    it('an access refusal (404 outside reach) is not stored: once the caller gets access, the same key runs the request', async () => {
      const outsider = await newAccount(t, 'late-member');
      const key = randomUUID();
      const body = { project_id: p.projectId, auth_provider: 'mock', email: `late-${randomUUID()}@example.com` };
      const first = await api(t, outsider.key).post('/projects/auth/user', body).set('Idempotency-Key', key);
      expect(first.status).toBe(404);
      await addMember(t, t.adminKey, await adminOrgId(t), outsider, 'member');
      const second = await api(t, outsider.key).post('/projects/auth/user', body).set('Idempotency-Key', key);
      expect(second.status).toBe(201);
      expect(second.headers['idempotent-replayed']).toBeUndefined();
      expect((await usersSyncRow(p.uri, second.body.id as string))?.email).toBe(body.email);
      // and from now on the key replays the 201
      const third = await api(t, outsider.key).post('/projects/auth/user', body).set('Idempotency-Key', key).expect(201);
      expect(third.body).toEqual(second.body);
      expect(third.headers['idempotent-replayed']).toBe('true');
    });

    it('same for SDK keys: a 404 for an outsider is not replayed after they become an admin', async () => {
      const outsider = await newAccount(t, 'late-admin');
      const key = randomUUID();
      const body = { project_id: p.projectId, auth_provider: 'mock' };
      await api(t, outsider.key).post('/projects/auth/keys', body).set('Idempotency-Key', key).expect(404);
      await addMember(t, t.adminKey, await adminOrgId(t), outsider, 'admin');
      const res = await api(t, outsider.key).post('/projects/auth/keys', body).set('Idempotency-Key', key);
      expect(res.status).toBe(201);
      expect(res.body.secret_server_key).toMatch(/^ssk_/);
    });
  });
});
