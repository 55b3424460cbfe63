// Sync dead letters (extensions): GET …/auth/sync/dead_letters and POST …/auth/sync/dead_letters/replay.
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { addMember, adminOrgId, api, newAccount } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import {
  BREAK_USERS_SYNC,
  enableAuth,
  newAuthProject,
  ownerSql,
  REPAIR_USERS_SYNC,
  uniqueEmail,
  usersSyncRow,
  type AuthProject,
  type EnabledAuth,
} from '../neon-auth/users-helpers.js';
import { inbox, integrationOf, providerApi, waitFor } from './receiver-helpers.js';

describe('sync dead letters: list and replay (embedded Stack provider)', () => {
  let t: TestApp;
  let project: AuthProject;
  let auth: EnabledAuth;
  let integration: { id: string; secret: string };
  let path: string;
  const userIds: string[] = [];

  const deadRows = async () => (await inbox(t, integration.id)).filter((r) => r.status === 'dead');

  beforeAll(async () => {
    t = await startTestApp({ SYNC_MAX_ATTEMPTS: '2', SYNC_RETRY_DELAY_SECONDS: '1', SYNC_POLL_SECONDS: '1', NEON_AUTH_RECONCILE_INTERVAL_SECONDS: '0' });
    project = await newAuthProject(t, 'sync dead letters');
    auth = await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
    integration = await integrationOf(t, project.projectId, project.defaultBranchId);
    path = `/projects/${project.projectId}/branches/${project.defaultBranchId}/auth/sync/dead_letters`;

    // users_sync refuses writes: every event of these users fails its bounded tries and parks.
    await ownerSql(project.uri, BREAK_USERS_SYNC);
    const provider = providerApi(t, auth);
    for (let i = 0; i < 3; i++) {
      const res = await provider.createUser({ primary_email: uniqueEmail('dead'), display_name: `Dead ${i}` }).expect(201);
      userIds.push(res.body.id as string);
    }
    await waitFor(async () => (await deadRows()).length >= 3, 30_000, 50);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('lists the dead letters oldest first, with their last error, in keyset pages', async () => {
    const admin = api(t, t.adminKey);
    const all = await admin.get(path).expect(200);
    expect(all.body.pagination).toBeUndefined();
    const letters = all.body.dead_letters as Record<string, unknown>[];
    expect(letters).toHaveLength(3);
    const stored = await deadRows();
    expect(letters.map((l) => l.id)).toEqual(stored.map((r) => String(r.id)));
    // One per user; the provider sends different users' events side by side, so they may arrive in any order.
    expect(letters.map((l) => l.user_id).sort()).toEqual([...userIds].sort());
    for (const [i, l] of letters.entries()) {
      expect(Object.keys(l).sort()).toEqual(['attempts', 'event_type', 'id', 'last_error', 'message_id', 'received_at', 'user_id']);
      expect(l.event_type).toBe('user.created');
      expect(l.attempts).toBe(2);
      expect(l.last_error).toMatch(/read-only for this test/);
      expect(l.message_id).toBe(stored[i].message_id);
      expect(Date.parse(l.received_at as string)).toBe(new Date(stored[i].received_at).getTime());
    }

    const first = await admin.get(`${path}?limit=2`).expect(200);
    expect(first.body.dead_letters.map((l: { id: string }) => l.id)).toEqual(letters.slice(0, 2).map((l) => l.id));
    expect(typeof first.body.pagination.next).toBe('string');
    const second = await admin.get(`${path}?limit=2&cursor=${encodeURIComponent(first.body.pagination.next)}`).expect(200);
    expect(second.body.dead_letters.map((l: { id: string }) => l.id)).toEqual([letters[2].id]);
    expect(second.body.pagination).toBeUndefined();
  });

  it('bad input is a 400 in Neon’s error shape and changes nothing', async () => {
    const admin = api(t, t.adminKey);
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'cursor=not-a-cursor', 'other=1']) {
      const res = await admin.get(`${path}?${q}`).expect(400);
      expect(Object.keys(res.body).sort()).toEqual(['code', 'message', 'request_id']);
    }
    for (const body of [{ ids: [] }, { ids: ['abc'] }, { ids: [1] }, { ids: ['-1'] }, { ids: '1' }, { ids: ['01'] }, { all: true }]) {
      const res = await admin.post(`${path}/replay`, body).expect(400);
      expect(res.body.code).toBeTruthy();
      expect(typeof res.body.message).toBe('string');
    }
    expect(await deadRows()).toHaveLength(3);
  });

  it('ids of another integration, unknown or beyond bigint: 404 naming them; nothing is replayed', async () => {
    const admin = api(t, t.adminKey);
    const [own] = await deadRows();
    // A dead letter of another integration (same inbox table).
    const [foreign] = (await t.app.get(DataSource).query(
      `INSERT INTO sync_inbox (integration_id, message_id, event_type, payload, status, attempts, last_error)
       VALUES ($1, $2, 'user.created', '{"type":"user.created","data":{"id":"x"}}'::jsonb, 'dead', 2, 'boom') RETURNING id::text AS id`,
      [randomUUID(), `msg_foreign_${randomUUID()}`],
    )) as { id: string }[];
    const res = await admin.post(`${path}/replay`, { ids: [String(own.id), foreign.id, '999999999999', '99999999999999999999'.slice(0, 19)] }).expect(404);
    expect(res.body.message).toContain(foreign.id);
    expect(res.body.message).toContain('999999999999');
    expect(res.body.message).not.toContain(`${String(own.id)},`);
    expect(await deadRows()).toHaveLength(3); // all or nothing
    const [still] = (await t.app.get(DataSource).query(`SELECT status FROM sync_inbox WHERE id = $1`, [foreign.id])) as { status: string }[];
    expect(still.status).toBe('dead');
  });

  it('members read the list but may not replay (403); other organizations get 404; not enabled -> 404', async () => {
    const member = await newAccount(t, 'dead-letters-member');
    await addMember(t, t.adminKey, await adminOrgId(t), member, 'member');
    const listed = await api(t, member.key).get(path).expect(200);
    expect(listed.body.dead_letters).toHaveLength(3);
    await api(t, member.key).post(`${path}/replay`).expect(403);

    const outsider = await newAccount(t, 'dead-letters-outsider');
    await api(t, outsider.key).get(path).expect(404);
    await api(t, outsider.key).post(`${path}/replay`).expect(404);

    const plain = await newAuthProject(t, 'dead letters plain');
    const plainPath = `/projects/${plain.projectId}/branches/${plain.defaultBranchId}/auth/sync/dead_letters`;
    const get = await api(t, t.adminKey).get(plainPath).expect(404);
    expect(get.body.message).toMatch(/not enabled/i);
    await api(t, t.adminKey).post(`${plainPath}/replay`).expect(404);
    expect(await deadRows()).toHaveLength(3);
  });

  it('after the repair, replaying named ids applies them; the same ids again -> 400 naming them', async () => {
    await ownerSql(project.uri, REPAIR_USERS_SYNC);
    const admin = api(t, t.adminKey);
    const [first, second] = (await admin.get(path).expect(200)).body.dead_letters as { id: string; user_id: string }[];
    const res = await admin.post(`${path}/replay`, { ids: [first.id, first.id] }).expect(200);
    expect(res.body).toEqual({ replayed: 1 });
    await waitFor(async () => (await usersSyncRow(project.uri, first.user_id))?.name === `Dead ${userIds.indexOf(first.user_id)}`, 10_000, 20);
    const again = await admin.post(`${path}/replay`, { ids: [String(first.id)] }).expect(400);
    expect(again.body.message).toContain(String(first.id));
    expect(again.body.message).toMatch(/not dead letters/);
    expect(await usersSyncRow(project.uri, second.user_id)).toBeUndefined(); // not named, still parked
    expect((await admin.get(path).expect(200)).body.dead_letters).toHaveLength(2);
  });

  it('replay of all, twice at once: each dead letter is replayed once; rows applied; the list is empty', async () => {
    const admin = api(t, t.adminKey);
    const [a, b] = await Promise.all([admin.post(`${path}/replay`).expect(200), admin.post(`${path}/replay`, {}).expect(200)]);
    expect(a.body.replayed + b.body.replayed).toBe(2);
    for (const [i, id] of userIds.entries()) {
      await waitFor(async () => (await usersSyncRow(project.uri, id))?.name === `Dead ${i}`, 10_000, 20);
    }
    await waitFor(async () => (await inbox(t, integration.id)).every((r) => r.status === 'applied'), 10_000, 20);
    for (const r of await inbox(t, integration.id)) {
      expect(r.last_error).toBeNull();
    }
    expect((await admin.get(path).expect(200)).body).toEqual({ dead_letters: [] });
    expect((await admin.post(`${path}/replay`).expect(200)).body).toEqual({ replayed: 0 });
    const status = await admin.get(`/projects/${project.projectId}/branches/${project.defaultBranchId}/auth/sync`).expect(200);
    expect(status.body.dead_letters).toBe(0);
  });
});
