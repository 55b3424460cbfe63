// Sync status and reconcile-now extensions: GET / POST /api/v2/projects/{p}/branches/{b}/auth/sync.
import { addMember, adminOrgId, api, newAccount } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { enableAuth, newAuthProject, uniqueEmail, usersSyncRow, type AuthProject, type EnabledAuth } from '../neon-auth/users-helpers.js';
import { providerApi, waitFor } from './receiver-helpers.js';

describe('sync status extensions (embedded Stack provider)', () => {
  let t: TestApp;
  let project: AuthProject;
  let auth: EnabledAuth;
  let path: string;

  beforeAll(async () => {
    t = await startTestApp({ NEON_AUTH_RECONCILE_INTERVAL_SECONDS: '0' });
    project = await newAuthProject(t, 'sync status');
    auth = await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
    path = `/projects/${project.projectId}/branches/${project.defaultBranchId}/auth/sync`;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('GET reports lag, backlog and dead letters after provider changes; POST reconciles and sets last_reconciled_at', async () => {
    const admin = api(t, t.adminKey);
    const before = await admin.get(path).expect(200);
    expect(before.body).toEqual({ delivery: 'webhooks', lag_ms: { p50: null, p99: null }, queued: 0, dead_letters: 0, last_applied_at: null, last_reconciled_at: null, apply_error: null, reconcile_error: null });

    const provider = providerApi(t, auth);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const email = uniqueEmail('status');
      const created = await provider.createUser({ primary_email: email, display_name: `Status ${i}` }).expect(201);
      ids.push(created.body.id as string);
    }
    await provider.updateUser(ids[0], { display_name: 'Renamed' }).expect(200);
    await provider.deleteUser(ids[2]).expect(200);
    await waitFor(async () => (await usersSyncRow(project.uri, ids[0]))?.name === 'Renamed');
    await waitFor(async () => (await usersSyncRow(project.uri, ids[1]))?.id === ids[1]);
    await waitFor(async () => (await usersSyncRow(project.uri, ids[2]))?.deleted_at != null);

    // The inbox rows are marked applied in the transaction that commits after the users_sync write.
    const status = await waitFor(async () => {
      const res = await admin.get(path).expect(200);
      return res.body.queued === 0 && res.body.last_applied_at ? res.body : undefined;
    });
    expect(status.dead_letters).toBe(0);
    expect(typeof status.lag_ms.p50).toBe('number');
    expect(typeof status.lag_ms.p99).toBe('number');
    expect(status.lag_ms.p50).toBeGreaterThanOrEqual(0);
    expect(status.lag_ms.p99).toBeGreaterThanOrEqual(status.lag_ms.p50);
    expect(Date.parse(status.last_applied_at)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(status.last_reconciled_at).toBeNull();

    const reconciled = await admin.post(path).expect(200);
    expect(Object.keys(reconciled.body).sort()).toEqual(['complete', 'deleted', 'inserted', 'ms', 'skipped', 'unchanged', 'updated']);
    expect(reconciled.body.complete).toBe(true);
    for (const k of ['inserted', 'updated', 'deleted', 'unchanged', 'skipped', 'ms']) expect(typeof reconciled.body[k]).toBe('number');
    // Every live provider user was seen: written or already matching.
    expect(reconciled.body.inserted + reconciled.body.updated + reconciled.body.unchanged).toBeGreaterThanOrEqual(2);
    expect(reconciled.body.deleted).toBe(0);

    const after = await admin.get(path).expect(200);
    expect(after.body.last_reconciled_at).toEqual(expect.any(String));
    expect(Number.isNaN(Date.parse(after.body.last_reconciled_at))).toBe(false);
  });

  it('members read the status but may not reconcile (403); other organizations get 404', async () => {
    const member = await newAccount(t, 'sync-status-member');
    await addMember(t, t.adminKey, await adminOrgId(t), member, 'member');
    await api(t, member.key).get(path).expect(200);
    await api(t, member.key).post(path).expect(403);

    const outsider = await newAccount(t, 'sync-status-outsider');
    await api(t, outsider.key).get(path).expect(404);
    await api(t, outsider.key).post(path).expect(404);
  });

  it('404 when Neon Auth is not enabled on the branch', async () => {
    const plain = await newAuthProject(t, 'sync status plain');
    const plainPath = `/projects/${plain.projectId}/branches/${plain.defaultBranchId}/auth/sync`;
    const get = await api(t, t.adminKey).get(plainPath).expect(404);
    expect(get.body.message).toMatch(/not enabled/i);
    await api(t, t.adminKey).post(plainPath).expect(404);
  });
});
