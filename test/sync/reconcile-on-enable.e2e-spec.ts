// The reconciler runs right after a manual-setup enable (an existing provider project), without POST …/auth/sync.
import request from 'supertest';
import { api } from '../helpers/fixtures.js';
import { createStackProject, serverHeaders } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { enableAuth, newAuthProject, uniqueEmail, usersSyncRow } from '../neon-auth/users-helpers.js';
import { waitFor } from './receiver-helpers.js';

describe('reconcile on a manual-setup enable', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ NEON_AUTH_RECONCILE_INTERVAL_SECONDS: '0' }); // no schedule: only the enable can run it
  });
  afterAll(async () => {
    await t?.close();
  });

  it('users of an existing provider project are in users_sync and last_reconciled_at is set, with no POST …/auth/sync', async () => {
    const own = await createStackProject(t, 'existing users');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(`${own.baseUrl}/api/v1`)
        .post('/users')
        .set(serverHeaders(own))
        .send({ primary_email: uniqueEmail('existing'), display_name: `Existing ${i}` })
        .expect(201);
      ids.push(res.body.id as string);
    }
    const p = await newAuthProject(t, 'manual enable');
    const admin = api(t, t.adminKey);
    const statusPath = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/sync`;
    await admin
      .post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, {
        auth_provider: 'stack',
        auth_provider_base_url: own.baseUrl,
        auth_provider_project_id: own.projectId,
        secret_server_key: own.secretServerKey,
      })
      .expect(201);
    const status = await waitFor(async () => {
      const res = await admin.get(statusPath).expect(200);
      return res.body.last_reconciled_at ? res.body : undefined;
    }, 10_000, 50);
    expect(Number.isNaN(Date.parse(status.last_reconciled_at))).toBe(false);
    for (const [i, id] of ids.entries()) expect((await usersSyncRow(p.uri, id))?.name).toBe(`Existing ${i}`);
  });

  it('a Quick Start enable (a new, empty provider project) does not reconcile', async () => {
    const p = await newAuthProject(t, 'quick start');
    await enableAuth(t, p.projectId, p.defaultBranchId, 'stack');
    await new Promise((r) => setTimeout(r, 500));
    const res = await api(t, t.adminKey).get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/sync`).expect(200);
    expect(res.body.last_reconciled_at).toBeNull();
  });
});
