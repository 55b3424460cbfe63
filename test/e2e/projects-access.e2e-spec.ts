import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { addMember, adminOrgId, api, createProject, newAccount, withClient, type Api } from '../helpers/fixtures.js';

/** Who sees and changes which project: admin, member, collaborator, organization key, project key, outsider. */
describe('projects: access', () => {
  let t: TestApp;
  let admin: Api;
  let orgId: string;
  let p: string; // shared with the collaborator, has a project-scoped key
  let q: string; // another project of the same organization
  let member: { email: string; key: string };
  let outsider: { email: string; key: string };
  let collaborator: { email: string; key: string };

  const ids = (body: { projects: { id: string }[] }) => body.projects.map((x) => x.id).sort();

  beforeAll(async () => {
    t = await startTestApp({ SECRETS_KEY: randomBytes(32).toString('base64') });
    admin = api(t, t.adminKey);
    orgId = await adminOrgId(t);
    p = (await createProject(admin, { name: 'P' })).project.id;
    q = (await createProject(admin, { name: 'Q' })).project.id;
    member = await newAccount(t, 'member');
    await addMember(t, t.adminKey, orgId, member, 'member');
    outsider = await newAccount(t, 'outsider');
    await api(t, outsider.key).post('/organizations', { name: 'Elsewhere' }).expect(201);
    collaborator = await newAccount(t, 'collaborator');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('with SECRETS_KEY set, writes no key file and still serves working connection URIs', async () => {
    expect(fs.existsSync(path.join(t.config.dataDir, 'secrets-key'))).toBe(false);
    const res = await admin.get(`/projects/${p}/connection_uri?database_name=neondb&role_name=neondb_owner`).expect(200);
    await withClient(res.body.uri, (c) => c.query('SELECT 1'));
  });

  it('401 without a key or with a bad one', async () => {
    await request(t.baseUrl).get('/api/v2/projects').expect(401);
    await request(t.baseUrl).get(`/api/v2/projects/${p}`).set('Authorization', 'Bearer nope').expect(401);
  });

  it('an organization member sees and edits the projects, but cannot delete one (403)', async () => {
    const m = api(t, member.key);
    expect(ids((await m.get('/projects').expect(200)).body)).toEqual([p, q].sort());
    const got = await m.get(`/projects/${p}`).expect(200);
    expect(got.body.project.effective_project_permission).toBe('CAN_EDIT');
    await m.patch(`/projects/${p}`, { project: { settings: { block_public_connections: true } } }).expect(200);
    const denied = await m.delete(`/projects/${p}`).expect(403);
    expect(denied.body.code).toBe('FORBIDDEN');
    await admin.get(`/projects/${p}`).expect(200);
  });

  it("another organization's admin sees none of them (404, not 403)", async () => {
    const o = api(t, outsider.key);
    expect((await o.get('/projects').expect(200)).body.projects).toEqual([]);
    await o.get(`/projects/${p}`).expect(404);
    await o.delete(`/projects/${p}`).expect(404);
    await o.get(`/projects/${p}/branches`).expect(404);
    await o.get(`/projects?org_id=${orgId}`).expect(404);
  });

  it('a project-scoped key sees only its project, cannot delete it (403) and cannot create projects', async () => {
    const key = await admin.post(`/organizations/${orgId}/api_keys`, { key_name: 'p-only', project_id: p }).expect(200);
    const k = api(t, key.body.key);
    expect(ids((await k.get('/projects').expect(200)).body)).toEqual([p]);
    expect(ids((await k.get(`/projects?org_id=${orgId}`).expect(200)).body)).toEqual([p]);
    await k.get(`/projects/${p}`).expect(200);
    await k.get(`/projects/${q}`).expect(404);
    await k.get(`/projects/${p}/branches`).expect(200);
    expect((await k.delete(`/projects/${p}`).expect(403)).body.code).toBe('FORBIDDEN');
    await k.post('/projects', { project: {} }).expect(403);
    expect((await k.get('/projects/shared').expect(200)).body.projects).toEqual([]);
  });

  it('an organization key sees its organization\'s projects', async () => {
    const key = await admin.post(`/organizations/${orgId}/api_keys`, { key_name: 'org' }).expect(200);
    const k = api(t, key.body.key);
    expect(ids((await k.get('/projects').expect(200)).body)).toEqual([p, q].sort());
    expect((await k.get(`/projects/${p}`).expect(200)).body.project.effective_project_permission).toBe('CAN_MANAGE');
    await k.get('/projects?org_id=org-other-org-12345678').expect(404);
  });

  describe('collaborators', () => {
    it('granting by email lets that account see exactly that project, until revoked', async () => {
      const c = api(t, collaborator.key);
      await c.get(`/projects/${p}`).expect(404);
      expect((await c.get('/projects').expect(200)).body.projects).toEqual([]);

      const grant = await admin.post(`/projects/${p}/permissions`, { email: collaborator.email.toUpperCase() }).expect(200);
      expect(grant.body).toEqual({ id: expect.any(String), granted_to_email: collaborator.email, granted_at: expect.any(String) });
      const again = await admin.post(`/projects/${p}/permissions`, { email: collaborator.email }).expect(200);
      expect(again.body.id).toBe(grant.body.id);
      const list = await admin.get(`/projects/${p}/permissions`).expect(200);
      expect(list.body).toEqual({ project_permissions: [grant.body] });

      expect(ids((await c.get('/projects').expect(200)).body)).toEqual([p]);
      expect(ids((await c.get('/projects/shared').expect(200)).body)).toEqual([p]);
      const got = await c.get(`/projects/${p}`).expect(200);
      expect(got.body.project.effective_project_permission).toBe('CAN_EDIT');
      await c.get(`/projects/${p}/branches`).expect(200);
      await c.get(`/projects/${q}`).expect(404);
      expect((await c.delete(`/projects/${p}`).expect(403)).body.code).toBe('FORBIDDEN');
      await c.get(`/projects?org_id=${orgId}`).expect(404); // not a member of the organization

      const revoked = await admin.delete(`/projects/${p}/permissions/${grant.body.id}`).expect(200);
      expect(revoked.body).toMatchObject({ id: grant.body.id, revoked_at: expect.any(String) });
      await c.get(`/projects/${p}`).expect(404);
      expect((await c.get('/projects').expect(200)).body.projects).toEqual([]);
      expect((await admin.get(`/projects/${p}/permissions`).expect(200)).body.project_permissions).toEqual([]);
      await admin.delete(`/projects/${p}/permissions/${grant.body.id}`).expect(404);
    });

    it('refuses bad permission input and unknown ids', async () => {
      const bad = await admin.post(`/projects/${p}/permissions`, { email: 'not-an-email' }).expect(400);
      expect(bad.body.message).toContain('[email]');
      await admin.post(`/projects/${p}/permissions`, {}).expect(400);
      await admin.post(`/projects/${p}/permissions`, { email: 'a@example.com', role: 'admin' }).expect(400);
      await admin.delete(`/projects/${p}/permissions/not-a-uuid`).expect(400);
      await admin.delete(`/projects/${p}/permissions/00000000-0000-4000-8000-000000000000`).expect(404);
      await admin.post('/projects/no-such-project-1/permissions', { email: 'a@example.com' }).expect(404);
      await api(t, outsider.key).post(`/projects/${p}/permissions`, { email: outsider.email }).expect(404);
    });
  });
});
