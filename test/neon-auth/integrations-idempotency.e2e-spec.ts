// Idempotency-Key (src/common/idempotency.ts) on the Neon Auth integration POSTs: Stripe's semantics.
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { apiClient } from '../helpers/client.js';
import { addMember, adminOrgId, api, newAccount, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { integrationRows, newProject, providerProjectCounts } from './integrations-helpers.js';

describe('Idempotency-Key on Neon Auth POSTs', () => {
  let t: TestApp;
  let a: Api;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    a = api(t, t.adminKey);
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('same key + same body -> the first response (status and body, keys included) replayed; nothing done twice', async () => {
    const p = await newProject(t);
    const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    const key = randomUUID();
    const first = await a.post(path, { auth_provider: 'stack' }).set('Idempotency-Key', key).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const counts = await providerProjectCounts(t);
    // Same body with keys in another order is the same request.
    const second = await a.post(path, { auth_provider: 'stack' }).set('Idempotency-Key', key).expect(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(second.body.secret_server_key).toMatch(/^ssk_/);
    expect(await providerProjectCounts(t)).toEqual(counts);
    expect(await integrationRows(t, p.projectId)).toHaveLength(1);
    // Without the key (or with another one) the request really runs: 409.
    await a.post(path, { auth_provider: 'stack' }).expect(409);
    await a.post(path, { auth_provider: 'stack' }).set('Idempotency-Key', randomUUID()).expect(409);
    // The stored body is encrypted: the secret key is not in the table.
    const stored = JSON.stringify(await db.query('SELECT * FROM idempotency_keys'));
    expect(stored).not.toContain(first.body.secret_server_key);
  });

  it('same key, different body or path -> 422 IDEMPOTENCY_KEY_REUSED; canonical JSON ignores key order', async () => {
    const p = await newProject(t);
    const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    const key = `key-${randomUUID()}`;
    await a.post('/projects/auth/create', { auth_provider: 'mock', project_id: p.projectId, branch_id: p.defaultBranchId }).set('Idempotency-Key', key).expect(201);
    const replay = await a
      .post('/projects/auth/create', { branch_id: p.defaultBranchId, project_id: p.projectId, auth_provider: 'mock' })
      .set('Idempotency-Key', key)
      .expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const other = await a.post('/projects/auth/create', { auth_provider: 'stack', project_id: p.projectId, branch_id: p.defaultBranchId }).set('Idempotency-Key', key).expect(422);
    expect(other.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', message: expect.stringContaining('different request') });
    await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', key).expect(422);
  });

  it('a stored error outcome (409) is replayed; validation errors are not stored (the key stays usable)', async () => {
    const p = await newProject(t);
    const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    await a.post(path, { auth_provider: 'mock' }).expect(201);
    const key = randomUUID();
    const conflict = await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', key).expect(409);
    await a.delete(path).send({}).expect(200);
    const replayed = await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', key).expect(409);
    expect(replayed.body).toMatchObject({ code: conflict.body.code, message: conflict.body.message });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    await a.get(path).expect(404); // the replay did not enable anything

    const key2 = randomUUID();
    await a.post(path, { auth_provider: 'mock', database_name: '' }).set('Idempotency-Key', key2).expect(400);
    const rows = await db.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [key2]);
    expect(rows).toEqual([]);
    // 400 from the validation pipe released the key; a corrected request with the same key... differs, so a new key is
    // the right use; but the same failing body may be retried and runs again (still 400).
    await a.post(path, { auth_provider: 'mock', database_name: '' }).set('Idempotency-Key', key2).expect(400);
  });

  it('keys belong to their caller: the same key from another caller runs independently', async () => {
    const p = await newProject(t);
    const orgId = await adminOrgId(t);
    const other = await newAccount(t, 'idem-admin');
    await addMember(t, t.adminKey, orgId, other, 'admin');
    const key = randomUUID();
    const child = await a.post(`/projects/${p.projectId}/branches`, { branch: { name: 'c1' } }).expect(201);
    await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: 'mock' }).set('Idempotency-Key', key).expect(201);
    // Another caller, same key, different request: not a reuse (its own namespace) -> runs.
    await api(t, other.key).post(`/projects/${p.projectId}/branches/${child.body.branch.id}/auth`, { auth_provider: 'mock' }).set('Idempotency-Key', key).expect(201);
    expect(await integrationRows(t, p.projectId)).toHaveLength(2);
  });

  it('a 403 is not stored: after the caller is made admin, the same key and body run', async () => {
    const p = await newProject(t);
    const orgId = await adminOrgId(t);
    const person = await newAccount(t, 'idem-member');
    await addMember(t, t.adminKey, orgId, person, 'member');
    const key = randomUUID();
    const body = { auth_provider: 'mock', project_id: p.projectId, branch_id: p.defaultBranchId };
    await api(t, person.key).post('/projects/auth/create', body).set('Idempotency-Key', key).expect(403);
    const members = await a.get(`/organizations/${orgId}/members`).expect(200);
    const memberId = members.body.members.find((m: { user: { email: string } }) => m.user.email === person.email).member.id;
    await a.patch(`/organizations/${orgId}/members/${memberId}`, { role: 'admin' }).expect(200);
    const ok = await api(t, person.key).post('/projects/auth/create', body).set('Idempotency-Key', key).expect(201);
    expect(ok.headers['idempotent-replayed']).toBeUndefined();
  });

  it('a key expires after 24 h: the same request then runs again; a running request -> 409 IDEMPOTENCY_KEY_IN_PROGRESS', async () => {
    const p = await newProject(t);
    const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    const key = randomUUID();
    await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', key).expect(201);
    const [row] = await db.query(`SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM idempotency_keys WHERE key = $1`, [key]);
    expect(row.ttl).toBe(24 * 3600);
    await db.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours', expires_at = now() - interval '1 hour' WHERE key = $1`, [key]);
    const rerun = await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', key).expect(409);
    expect(rerun.headers['idempotent-replayed']).toBeUndefined();
    expect(rerun.body.code).toBe('NEON_AUTH_ALREADY_ENABLED');

    // A claim whose first request is still running (no response stored yet).
    const running = randomUUID();
    await a.delete(path).send({}).expect(200);
    await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', running).expect(201);
    await db.query('UPDATE idempotency_keys SET status = NULL, response_encrypted = NULL WHERE key = $1', [running]);
    const busy = await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', running).expect(409);
    expect(busy.body.code).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
    // Taken over once abandoned (older than the in-progress timeout).
    await db.query(`UPDATE idempotency_keys SET created_at = now() - interval '11 minutes' WHERE key = $1`, [running]);
    expect((await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', running).expect(409)).body.code).toBe('NEON_AUTH_ALREADY_ENABLED');
  });

  it('expired rows are pruned as keys are used; a malformed key -> 400', async () => {
    await db.query(
      `INSERT INTO idempotency_keys (caller, key, fingerprint, method, path, status, response_encrypted, created_at, expires_at)
       VALUES ('account:00000000-0000-0000-0000-000000000000', 'old', 'x', 'POST', '/x', 201, 'v1.x.y.z', now() - interval '2 days', now() - interval '1 day')`,
    );
    const p = await newProject(t);
    const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', randomUUID()).expect(201);
    expect(await db.query(`SELECT 1 FROM idempotency_keys WHERE key = 'old'`)).toEqual([]);
    const bad = await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', 'x'.repeat(256)).expect(400);
    expect(bad.body.message).toContain('Idempotency-Key');
    await a.post(path, { auth_provider: 'mock' }).set('Idempotency-Key', 'has space').expect(400);
  });

  it('concurrent requests with one key: one runs, the other gets 409 in progress or the replay; one integration', async () => {
    const p = await newProject(t);
    const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    const key = randomUUID();
    const results = await Promise.all([0, 1, 2].map(() => a.post(path, { auth_provider: 'stack' }).set('Idempotency-Key', key)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    for (const r of results) {
      if (r.status === 409) expect(r.body.code).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
      else expect(r.status).toBe(201);
    }
    const bodies = results.filter((r) => r.status === 201).map((r) => r.body.secret_server_key);
    expect(new Set(bodies).size).toBe(1);
    expect(await integrationRows(t, p.projectId)).toHaveLength(1);
  });

  it('the generated client sends the header through its request params', async () => {
    const p = await newProject(t);
    const c = apiClient(t.baseUrl, t.adminKey);
    const key = randomUUID();
    const ids = { projectId: p.projectId, branchId: p.defaultBranchId };
    const one = await c.auth.createNeonAuth(ids, { auth_provider: 'mock' }, { headers: { 'Idempotency-Key': key } });
    const two = await c.auth.createNeonAuth(ids, { auth_provider: 'mock' }, { headers: { 'Idempotency-Key': key } });
    expect(two.status).toBe(201);
    expect(two.data).toEqual(one.data);
    expect(two.headers.get('idempotent-replayed')).toBe('true');
  });
});
