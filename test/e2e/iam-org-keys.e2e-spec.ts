import request from 'supertest';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * IAM, part 3: organization and project-scoped API keys (create with a personal admin key, list,
 * revoke), what each kind of key may do in its organization, and the rule that another
 * organization's admin gets 404 on everything of this organization.
 */

interface Account {
  id: string;
  email: string;
  key: string;
}

const bearer = (key: string): [string, string] => ['Authorization', `Bearer ${key}`];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe('IAM: organization API keys and cross-organization isolation', () => {
  let t: TestApp;
  let counter = 0;
  let owner: Account;
  let member: Account;
  let orgId: string;
  let memberId: string;
  const projectId = 'orgkeys-project-1';

  async function newAccount(label: string): Promise<Account> {
    const email = `${label}-${++counter}@example.com`;
    const res = await request(t.baseUrl).post('/api/v2/admin/accounts').set(...bearer(t.adminKey)).send({ email, name: label });
    expect(res.status).toBe(201);
    return { id: res.body.account.id, email, key: res.body.api_key.key };
  }

  async function newOrg(admin: Account): Promise<string> {
    const res = await request(t.baseUrl).post('/api/v2/organizations').set(...bearer(admin.key)).send({ name: 'Keys Org' });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function join(org: string, admin: Account, who: Account, role: 'admin' | 'member'): Promise<string> {
    const inv = await request(t.baseUrl).post(`/api/v2/organizations/${org}/invitations`).set(...bearer(admin.key)).send({ invitations: [{ email: who.email, role }] });
    expect(inv.status).toBe(200);
    const acc = await request(t.baseUrl).post(`/api/v2/invitations/${inv.body.invitations[0].id}/accept`).set(...bearer(who.key));
    expect(acc.status).toBe(200);
    return acc.body.id;
  }

  async function createKey(org: string, key: string, body: Record<string, unknown>): Promise<request.Response> {
    return request(t.baseUrl).post(`/api/v2/organizations/${org}/api_keys`).set(...bearer(key)).send(body);
  }

  beforeAll(async () => {
    t = await startTestApp();
    owner = await newAccount('ok-owner');
    orgId = await newOrg(owner);
    member = await newAccount('ok-member');
    memberId = await join(orgId, owner, member, 'member');
    await adminQuery(`INSERT INTO projects (id, org_id, name, region_id, pg_version) VALUES ($1, $2, 'p', 'local', 17)`, [projectId, orgId], t.database);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('create, list, revoke', () => {
    it('create an organization key (personal admin key) -> 200 with the secret once', async () => {
      const res = await createKey(orgId, owner.key, { key_name: 'deploy' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: expect.any(Number),
        key: expect.stringMatching(/^napi_[a-z0-9]{64}$/),
        name: 'deploy',
        created_at: expect.stringMatching(ISO),
        created_by: owner.id,
      });
      const auth = await request(t.baseUrl).get('/api/v2/auth').set(...bearer(res.body.key)).expect(200);
      expect(auth.body).toEqual({ account_id: orgId, auth_method: 'api_key_org' });

      const list = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(owner.key)).expect(200);
      const item = list.body.find((k: { id: number }) => k.id === res.body.id);
      expect(item).toEqual({
        id: res.body.id,
        name: 'deploy',
        created_at: res.body.created_at,
        created_by: { id: owner.id, name: 'ok-owner', image: expect.any(String) },
        last_used_at: item.last_used_at === null ? null : expect.stringMatching(ISO),
        last_used_from_addr: expect.any(String),
      });
      expect(JSON.stringify(list.body)).not.toContain(res.body.key.slice(5));
    });

    it('create with project_id -> a project-scoped key, listed with its project_id', async () => {
      const res = await createKey(orgId, owner.key, { key_name: 'proj', project_id: projectId });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'proj', project_id: projectId, key: expect.stringMatching(/^napi_[a-z0-9]{64}$/) });
      const auth = await request(t.baseUrl).get('/api/v2/auth').set(...bearer(res.body.key)).expect(200);
      expect(auth.body).toEqual({ account_id: orgId, auth_method: 'api_key_org', auth_data: projectId });
      const list = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(owner.key)).expect(200);
      expect(list.body.find((k: { id: number }) => k.id === res.body.id)).toMatchObject({ project_id: projectId });
      const row = await adminQuery<{ kind: string; project_id: string }>('SELECT kind, project_id FROM api_keys WHERE id = $1', [res.body.id], t.database);
      expect(row).toEqual([{ kind: 'project', project_id: projectId }]);
    });

    it("project_id must be a project of this organization -> 404 otherwise, and no key is created", async () => {
      const other = await newAccount('ok-other');
      const otherOrg = await newOrg(other);
      await adminQuery(`INSERT INTO projects (id, org_id, name, region_id, pg_version) VALUES ('orgkeys-foreign-1', $1, 'p', 'local', 17)`, [otherOrg], t.database);
      const before = await adminQuery('SELECT count(*)::int AS n FROM api_keys', [], t.database);
      for (const project_id of ['orgkeys-foreign-1', 'orgkeys-missing-1']) {
        const res = await createKey(orgId, owner.key, { key_name: 'bad', project_id });
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('NOT_FOUND');
      }
      const bad = await createKey(orgId, owner.key, { key_name: 'bad', project_id: 'Not_Valid' });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toContain('project_id');
      const after = await adminQuery('SELECT count(*)::int AS n FROM api_keys', [], t.database);
      expect(after).toEqual(before);
    });

    it('create needs the personal key of an admin: members, organization keys and project keys -> 403', async () => {
      const orgKey = (await createKey(orgId, owner.key, { key_name: 'k' })).body.key;
      const projKey = (await createKey(orgId, owner.key, { key_name: 'p', project_id: projectId })).body.key;
      for (const key of [member.key, orgKey, projKey]) {
        const res = await createKey(orgId, key, { key_name: 'nope' });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
    });

    it('list: admins and organization keys; members and project keys -> 403', async () => {
      const orgKey = (await createKey(orgId, owner.key, { key_name: 'lister' })).body.key;
      const projKey = (await createKey(orgId, owner.key, { key_name: 'p2', project_id: projectId })).body.key;
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(orgKey)).expect(200);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(member.key)).expect(403);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(projKey)).expect(403);
    });

    it('the list holds only organization and project keys of this organization (no personal keys)', async () => {
      const list = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(owner.key)).expect(200);
      const ids: number[] = list.body.map((k: { id: number }) => k.id);
      const rows = await adminQuery<{ id: string }>(
        `SELECT id FROM api_keys WHERE org_id = $1 AND kind IN ('organization', 'project') AND revoked_at IS NULL ORDER BY id`,
        [orgId],
        t.database,
      );
      expect(ids.sort((a, b) => a - b)).toEqual(rows.map((r) => Number(r.id)));
    });

    it('revoke -> 200; the key gets 401 on its very next request; revoking twice -> 404', async () => {
      for (const body of [{ key_name: 'rv' }, { key_name: 'rvp', project_id: projectId }]) {
        const created = (await createKey(orgId, owner.key, body)).body;
        await request(t.baseUrl).get('/api/v2/auth').set(...bearer(created.key)).expect(200);
        const res = await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/api_keys/${created.id}`).set(...bearer(owner.key)).expect(200);
        expect(res.body).toMatchObject({ id: created.id, name: body.key_name, revoked: true, created_by: owner.id });
        if (body.project_id) expect(res.body.project_id).toBe(projectId);
        await request(t.baseUrl).get('/api/v2/auth').set(...bearer(created.key)).expect(401);
        await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/api_keys/${created.id}`).set(...bearer(owner.key)).expect(404);
        const list = await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(owner.key)).expect(200);
        expect(list.body.map((k: { id: number }) => k.id)).not.toContain(created.id);
      }
    });

    it('an organization key may revoke organization keys (itself included); members and project keys may not', async () => {
      const a = (await createKey(orgId, owner.key, { key_name: 'a' })).body;
      const b = (await createKey(orgId, owner.key, { key_name: 'b' })).body;
      const p = (await createKey(orgId, owner.key, { key_name: 'p', project_id: projectId })).body;
      await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/api_keys/${b.id}`).set(...bearer(member.key)).expect(403);
      await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/api_keys/${b.id}`).set(...bearer(p.key)).expect(403);
      await request(t.baseUrl).get('/api/v2/auth').set(...bearer(b.key)).expect(200);
      await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/api_keys/${b.id}`).set(...bearer(a.key)).expect(200);
      await request(t.baseUrl).get('/api/v2/auth').set(...bearer(b.key)).expect(401);
      await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/api_keys/${a.id}`).set(...bearer(a.key)).expect(200);
      await request(t.baseUrl).get('/api/v2/auth').set(...bearer(a.key)).expect(401);
    });

    it("personal keys cannot be revoked through the organization route -> 404", async () => {
      const res = await request(t.baseUrl).get('/api/v2/api_keys').set(...bearer(member.key)).expect(200);
      const memberKeyId = res.body[0].id;
      await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/api_keys/${memberKeyId}`).set(...bearer(owner.key)).expect(404);
      await request(t.baseUrl).get('/api/v2/users/me').set(...bearer(member.key)).expect(200);
    });
  });

  describe('what organization and project keys may do in their organization', () => {
    it('an organization key acts as admin, except for the personal-admin-only operations', async () => {
      const orgKey = (await createKey(orgId, owner.key, { key_name: 'powers' })).body.key;
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}`).set(...bearer(orgKey)).expect(200);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members`).set(...bearer(orgKey)).expect(200);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members/${memberId}`).set(...bearer(orgKey)).expect(200);
      await request(t.baseUrl).patch(`/api/v2/organizations/${orgId}/members/${memberId}`).set(...bearer(orgKey)).send({ role: 'member' }).expect(200);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/api_keys`).set(...bearer(orgKey)).expect(200);
      await request(t.baseUrl).delete(`/api/v2/organizations/${orgId}/members/${memberId}`).set(...bearer(orgKey)).expect(403);
      await request(t.baseUrl).post(`/api/v2/organizations/${orgId}/invitations`).set(...bearer(orgKey)).send({ invitations: [{ email: 'k@example.com', role: 'member' }] }).expect(403);
      await createKey(orgId, orgKey, { key_name: 'x' }).then((r) => expect(r.status).toBe(403));
    });

    it('a project-scoped key cannot perform organization operations (403)', async () => {
      const projKey = (await createKey(orgId, owner.key, { key_name: 'pp', project_id: projectId })).body.key;
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}`).set(...bearer(projKey)).expect(403);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members`).set(...bearer(projKey)).expect(403);
      await request(t.baseUrl).patch(`/api/v2/organizations/${orgId}/members/${memberId}`).set(...bearer(projKey)).send({ role: 'admin' }).expect(403);
      const row = await adminQuery<{ role: string }>('SELECT role FROM organization_members WHERE id = $1', [memberId], t.database);
      expect(row[0].role).toBe('member');
    });

    it('deleting the project deletes its project-scoped keys (they get 401)', async () => {
      await adminQuery(`INSERT INTO projects (id, org_id, name, region_id, pg_version) VALUES ('orgkeys-doomed-1', $1, 'p', 'local', 17)`, [orgId], t.database);
      const k = (await createKey(orgId, owner.key, { key_name: 'doomed', project_id: 'orgkeys-doomed-1' })).body.key;
      await request(t.baseUrl).get('/api/v2/auth').set(...bearer(k)).expect(200);
      await adminQuery(`DELETE FROM projects WHERE id = 'orgkeys-doomed-1'`, [], t.database);
      await request(t.baseUrl).get('/api/v2/auth').set(...bearer(k)).expect(401);
    });
  });

  describe("another organization's admin", () => {
    let stranger: Account;
    let strangerOrgKey: string;
    let strangerProjectKey: string;
    let orgKeyId: number;
    let invitationId: string;

    beforeAll(async () => {
      stranger = await newAccount('ok-stranger');
      const strangerOrg = await newOrg(stranger);
      strangerOrgKey = (await createKey(strangerOrg, stranger.key, { key_name: 's' })).body.key;
      await adminQuery(`INSERT INTO projects (id, org_id, name, region_id, pg_version) VALUES ('orgkeys-stranger-1', $1, 'p', 'local', 17)`, [strangerOrg], t.database);
      strangerProjectKey = (await createKey(strangerOrg, stranger.key, { key_name: 'sp', project_id: 'orgkeys-stranger-1' })).body.key;
      orgKeyId = (await createKey(orgId, owner.key, { key_name: 'target' })).body.id;
      const inv = await request(t.baseUrl)
        .post(`/api/v2/organizations/${orgId}/invitations`)
        .set(...bearer(owner.key))
        .send({ invitations: [{ email: 'pending-target@example.com', role: 'member' }] })
        .expect(200);
      invitationId = inv.body.invitations[0].id;
    });

    it('gets 404 on everything of this organization, with its personal key, its organization key and its project key', async () => {
      const calls: [string, string, Record<string, unknown>?][] = [
        ['get', `/api/v2/organizations/${orgId}`],
        ['get', `/api/v2/organizations/${orgId}/members`],
        ['get', `/api/v2/organizations/${orgId}/members/${memberId}`],
        ['patch', `/api/v2/organizations/${orgId}/members/${memberId}`, { role: 'admin' }],
        ['delete', `/api/v2/organizations/${orgId}/members/${memberId}`],
        ['get', `/api/v2/organizations/${orgId}/invitations`],
        ['post', `/api/v2/organizations/${orgId}/invitations`, { invitations: [{ email: 'x@example.com', role: 'admin' }] }],
        ['get', `/api/v2/organizations/${orgId}/api_keys`],
        ['post', `/api/v2/organizations/${orgId}/api_keys`, { key_name: 'steal' }],
        ['post', `/api/v2/organizations/${orgId}/api_keys`, { key_name: 'steal', project_id: projectId }],
        ['delete', `/api/v2/organizations/${orgId}/api_keys/${orgKeyId}`],
        ['post', `/api/v2/invitations/${invitationId}/accept`],
      ];
      for (const key of [stranger.key, strangerOrgKey, strangerProjectKey]) {
        for (const [method, path, body] of calls) {
          if (path.includes('/accept') && key !== stranger.key) continue; // accept is for personal keys (403 otherwise)
          let req = (request(t.baseUrl) as unknown as Record<string, (p: string) => request.Test>)[method](path).set(...bearer(key));
          if (body) req = req.send(body);
          const res = await req;
          expect({ call: `${method} ${path}`, status: res.status, code: res.body.code }).toEqual({ call: `${method} ${path}`, status: 404, code: 'NOT_FOUND' });
        }
      }
      // Nothing changed.
      const role = await adminQuery<{ role: string }>('SELECT role FROM organization_members WHERE id = $1', [memberId], t.database);
      expect(role[0].role).toBe('member');
      const keys = await adminQuery(`SELECT id FROM api_keys WHERE name = 'steal'`, [], t.database);
      expect(keys).toHaveLength(0);
      const revoked = await adminQuery<{ revoked_at: Date | null }>('SELECT revoked_at FROM api_keys WHERE id = $1', [orgKeyId], t.database);
      expect(revoked[0].revoked_at).toBeNull();
      const inv = await adminQuery<{ accepted_at: Date | null }>('SELECT accepted_at FROM organization_invitations WHERE id = $1', [invitationId], t.database);
      expect(inv[0].accepted_at).toBeNull();
    });

    it("its admin's own resources stay unreachable the other way round too", async () => {
      const strangerOrgs = await request(t.baseUrl).get('/api/v2/users/me/organizations').set(...bearer(stranger.key)).expect(200);
      const strangerOrg = strangerOrgs.body.organizations[0].id;
      await request(t.baseUrl).get(`/api/v2/organizations/${strangerOrg}`).set(...bearer(owner.key)).expect(404);
      await request(t.baseUrl).get(`/api/v2/organizations/${strangerOrg}/members`).set(...bearer(member.key)).expect(404);
    });

    it('even the platform admin is an outsider to organizations it does not belong to', async () => {
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}`).set(...bearer(t.adminKey)).expect(404);
      await request(t.baseUrl).get(`/api/v2/organizations/${orgId}/members`).set(...bearer(t.adminKey)).expect(404);
    });
  });
});
