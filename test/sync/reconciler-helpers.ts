// Arrangement helpers for the reconciler specs: drift is made straight in the embedded provider's tables and in
// users_sync (no webhook events), so only the reconciler can repair it.
import request from 'supertest';
import { DataSource } from 'typeorm';
import { NeonAuthIntegrationResolver } from '../../src/neon-auth/integrations/integration-resolver.js';
import type { NeonAuthIntegrationEntity } from '../../src/neon-auth/integrations/integration.entity.js';
import { withClient } from '../helpers/fixtures.js';
import type { TestApp } from '../helpers/test-app.js';
import { enableAuth, newAuthProject, type EnabledAuth } from '../neon-auth/users-helpers.js';

export interface ReconcileFixture {
  projectId: string;
  branchId: string;
  uri: string;
  auth: EnabledAuth;
  integration: NeonAuthIntegrationEntity;
}

/** A project with Neon Auth (embedded Stack provider, Quick Start) on its default branch. */
export async function enabledProject(t: TestApp, name = 'reconcile'): Promise<ReconcileFixture> {
  const p = await newAuthProject(t, name);
  const auth = await enableAuth(t, p.projectId, p.defaultBranchId, 'stack');
  const integration = await t.app.get(NeonAuthIntegrationResolver).findForBranch(p.projectId, p.defaultBranchId);
  return { projectId: p.projectId, branchId: p.defaultBranchId, uri: p.uri, auth, integration };
}

/** Inserts `count` users straight into the provider's table (no webhook events); answers their ids in list order. */
export async function insertProviderUsers(t: TestApp, providerProjectId: string, count: number, prefix = 'user'): Promise<string[]> {
  const rows = (await t.app.get(DataSource).query(
    `INSERT INTO stack_auth.users (project_id, display_name, primary_email, risk_scores, signed_up_at, last_active_at)
     SELECT $1, $2 || ' ' || g, $2 || g || '-' || substr(md5(random()::text), 1, 8) || '@example.com',
            '{"sign_up": {"bot": 0, "free_trial_abuse": 0}}'::jsonb,
            clock_timestamp() + g * interval '1 millisecond', clock_timestamp()
       FROM generate_series(1, $3::int) AS g
     RETURNING id, signed_up_at`,
    [providerProjectId, prefix, count],
  )) as { id: string; signed_up_at: Date }[];
  return rows.sort((a, b) => a.signed_up_at.getTime() - b.signed_up_at.getTime() || (a.id < b.id ? -1 : 1)).map((r) => r.id);
}

export function providerSql(t: TestApp, sql: string, params: unknown[] = []): Promise<unknown> {
  return t.app.get(DataSource).query(sql, params);
}

/** Every user of the provider project through its HTTP users API (server access), by id. */
export async function providerUsers(t: TestApp, auth: EnabledAuth): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  let cursor: string | undefined;
  for (;;) {
    const res = await request(`${t.baseUrl}/stack-auth/api/v1`)
      .get('/users')
      .query({ limit: 1000, include_restricted: 'true', ...(cursor ? { cursor } : {}) })
      .set({ 'x-stack-access-type': 'server', 'x-stack-project-id': auth.auth_provider_project_id, 'x-stack-secret-server-key': auth.secret_server_key });
    if (res.status !== 200) throw new Error(`list users: ${res.status} ${res.text}`);
    for (const u of res.body.items as Record<string, unknown>[]) out.set(u.id as string, u);
    cursor = res.body.pagination?.next_cursor ?? undefined;
    if (!cursor) return out;
  }
}

export interface SyncState {
  live: Map<string, Record<string, unknown>>;
  deleted: Set<string>;
}

export async function syncState(uri: string): Promise<SyncState> {
  return withClient(uri, async (c) => {
    const { rows } = await c.query<{ id: string; raw_json: Record<string, unknown>; deleted_at: Date | null }>('SELECT id, raw_json, deleted_at FROM neon_auth.users_sync');
    const live = new Map<string, Record<string, unknown>>();
    const deleted = new Set<string>();
    for (const r of rows) (r.deleted_at === null ? live.set(r.id, r.raw_json) : deleted.add(r.id));
    return { live, deleted };
  });
}

export function syncSql(uri: string, sql: string, params: unknown[] = []): Promise<unknown> {
  return withClient(uri, (c) => c.query(sql, params));
}
