import { addMember, adminOrgId, api, createProject, newAccount, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';

interface AuditEvent {
  id: string;
  occurred_at: string;
  actor: { kind: string; account_id: string | null; key_id: number };
  action: string;
  target: { type: string; id: string | null };
  project_id: string | null;
  status: number;
  details: Record<string, unknown>;
  request_id: string;
  client_addr: string;
}

/**
 * The audit log of administrative actions: who (account and key), what, target, when, from where; append-only,
 * readable by the organization's admins through an extension endpoint with cursor paging, and never holding a secret.
 */
describe('audit log', () => {
  let t: TestApp;
  let admin: Api;
  let orgId: string;
  const secrets: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ PROJECTS_LIMIT: '2' });
    admin = api(t, t.adminKey);
    orgId = await adminOrgId(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function auditLog(query = ''): Promise<{ events: AuditEvent[]; pagination: { next?: string } }> {
    return (await admin.get(`/organizations/${orgId}/audit_log${query}`).expect(200)).body;
  }

  it('records keys, members, permissions, Neon Auth and quota refusals, newest first, with no secret', async () => {
    const orgKey = await admin.post(`/organizations/${orgId}/api_keys`, { key_name: 'ci' }).expect(200);
    secrets.push(orgKey.body.key);
    await admin.delete(`/organizations/${orgId}/api_keys/${orgKey.body.id}`).expect(200);

    const member = await newAccount(t, 'audited');
    await addMember(t, t.adminKey, orgId, member, 'member');
    const members = await admin.get(`/organizations/${orgId}/members`).expect(200);
    const memberId = (members.body.members as { member: { id: string; user_id: string } }[]).find((m) => m.member.user_id === member.id)!.member.id;
    await admin.patch(`/organizations/${orgId}/members/${memberId}`, { role: 'admin' }).expect(200);

    const project = await createProject(admin, { name: 'audited' });
    const projectId = project.project.id as string;
    const branchId = project.branch.id as string;
    const grant = await admin.post(`/projects/${projectId}/permissions`, { email: 'collaborator@example.com' }).expect(200);
    const enabled = await admin.post(`/projects/${projectId}/branches/${branchId}/auth`, { auth_provider: 'stack' }).expect(201);
    secrets.push(enabled.body.secret_server_key, enabled.body.pub_client_key);
    const keys = await admin.post('/projects/auth/keys', { project_id: projectId, auth_provider: 'stack' }).expect(201);
    secrets.push(keys.body.secret_server_key, keys.body.pub_client_key);
    await admin.delete(`/projects/${projectId}/branches/${branchId}/auth`).send({ delete_data: true }).expect(200);
    // PROJECTS_LIMIT is 2: the second project fits, the third is refused and recorded.
    await createProject(admin, { name: 'second' });
    const refused = await admin.post('/projects', { project: { name: 'third' } }).set('X-Request-ID', 'quota-refusal-1').expect(422);
    expect(refused.body.code).toBe('PROJECTS_LIMIT_EXCEEDED');

    const { events } = await auditLog();
    expect(events.map((e) => e.action)).toEqual([
      'project.create.refused',
      'neon_auth.disable',
      'neon_auth.sdk_keys.create',
      'neon_auth.enable',
      'project_permission.grant',
      'member.update_role',
      'invitation.accept',
      'invitation.create',
      'org_api_key.revoke',
      'org_api_key.create',
    ]);
    const ids = events.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);

    const byAction = new Map(events.map((e) => [e.action, e]));
    expect(byAction.get('org_api_key.create')).toMatchObject({
      actor: { kind: 'personal', account_id: expect.any(String) },
      target: { type: 'api_key', id: String(orgKey.body.id) },
      status: 200,
      details: { key_name: 'ci' },
    });
    expect(byAction.get('org_api_key.revoke')!.target.id).toBe(String(orgKey.body.id));
    expect(byAction.get('member.update_role')).toMatchObject({ target: { type: 'member', id: memberId }, details: { role: 'admin' } });
    expect(byAction.get('invitation.accept')!.actor.account_id).toBe(member.id);
    expect(byAction.get('project_permission.grant')).toMatchObject({ project_id: projectId, target: { id: grant.body.id }, details: { email: 'collaborator@example.com' } });
    expect(byAction.get('neon_auth.enable')).toMatchObject({ project_id: projectId, target: { type: 'branch', id: branchId }, status: 201, details: { auth_provider: 'stack' } });
    expect(byAction.get('neon_auth.sdk_keys.create')).toMatchObject({ project_id: projectId, target: { id: projectId }, status: 201 });
    expect(byAction.get('neon_auth.disable')).toMatchObject({ details: { delete_data: true } });
    expect(byAction.get('project.create.refused')).toMatchObject({ status: 422, request_id: 'quota-refusal-1', details: { refused: 'PROJECTS_LIMIT_EXCEEDED' } });
    for (const e of events) {
      expect(e.actor.key_id).toEqual(expect.any(Number));
      expect(e.client_addr).toMatch(/127\.0\.0\.1|::1/);
      expect(Number.isNaN(Date.parse(e.occurred_at))).toBe(false);
    }
    // Secrets never reach the log, in the API or in the table.
    const everything = JSON.stringify(events) + JSON.stringify(await adminQuery('SELECT * FROM audit_events', [], t.database));
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });

  it('pages with a cursor; a bad cursor is a 400', async () => {
    const all = (await auditLog('?limit=1000')).events;
    const first = await auditLog('?limit=3');
    expect(first.events).toHaveLength(3);
    const second = await auditLog(`?limit=3&cursor=${encodeURIComponent(first.pagination.next!)}`);
    expect([...first.events, ...second.events].map((e) => e.id)).toEqual(all.slice(0, 6).map((e) => e.id));
    await admin.get(`/organizations/${orgId}/audit_log?cursor=nonsense`).expect(400);
    await admin.get(`/organizations/${orgId}/audit_log?limit=0`).expect(400);
  });

  it('only the organization\'s admins read it', async () => {
    const member = await newAccount(t, 'reader');
    await addMember(t, t.adminKey, orgId, member, 'member');
    await api(t, member.key).get(`/organizations/${orgId}/audit_log`).expect(403);
    const stranger = await newAccount(t, 'stranger');
    await api(t, stranger.key).get(`/organizations/${orgId}/audit_log`).expect(404);
  });

  it('is append-only', async () => {
    await expect(adminQuery("UPDATE audit_events SET action = 'nothing'", [], t.database)).rejects.toThrow(/append-only/);
    await expect(adminQuery('DELETE FROM audit_events', [], t.database)).rejects.toThrow(/append-only/);
    await expect(adminQuery('TRUNCATE audit_events', [], t.database)).rejects.toThrow(/append-only/);
  });
});
