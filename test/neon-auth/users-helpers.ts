// Arrangement helpers for the Neon Auth users / SDK keys / ownership specs (real HTTP, real databases).
import request from 'supertest';
import { MockProviderAdapter } from '../../src/providers/mock/mock-provider.adapter.js';
import type { ProviderCredentials, ProviderUser } from '../../src/providers/auth-provider.port.js';
import { api, createProject, withClient, type Api } from '../helpers/fixtures.js';
import type { TestApp } from '../helpers/test-app.js';

export interface EnabledAuth {
  auth_provider: 'stack' | 'mock';
  auth_provider_project_id: string;
  pub_client_key: string;
  secret_server_key: string;
  jwks_url: string;
  schema_name: string;
  table_name: string;
  base_url?: string;
}

export interface AuthProject {
  projectId: string;
  defaultBranchId: string;
  /** Connection URI of the default branch's neondb as neondb_owner (what a person gets from the API). */
  uri: string;
}

/** A new project of the admin's organization (its default branch and connection URI). */
export async function newAuthProject(t: TestApp, name = 'auth users'): Promise<AuthProject> {
  const body = await createProject(api(t, t.adminKey), { name });
  return { projectId: body.project.id, defaultBranchId: body.branch.id, uri: body.connection_uris[0].connection_uri };
}

/** A child branch of the default branch, and its connection URI. */
export async function newBranch(t: TestApp, a: Api, projectId: string, name: string): Promise<{ id: string; uri: string }> {
  const created = await a.post(`/projects/${projectId}/branches`, { branch: { name }, endpoints: [{ type: 'read_write' }] }).expect(201);
  const id = created.body.branch.id as string;
  const uri = await a
    .get(`/projects/${projectId}/connection_uri?branch_id=${id}&database_name=neondb&role_name=neondb_owner`)
    .expect(200);
  return { id, uri: uri.body.uri as string };
}

/** Enables Neon Auth on a branch through the API (Quick Start) and answers the 201 body. */
export async function enableAuth(t: TestApp, projectId: string, branchId: string, provider: 'stack' | 'mock'): Promise<EnabledAuth> {
  const res = await api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth`, { auth_provider: provider });
  if (res.status !== 201) throw new Error(`enable ${provider} on ${branchId}: ${res.status} ${res.text}`);
  return res.body as EnabledAuth;
}

/**
 * A sign-up through the embedded provider's client API with the enable's publishable key (no API key, as any end
 * user, or an attacker, could): answers the new user's id.
 */
export async function signUpWithClientKey(t: TestApp, auth: EnabledAuth, email: string, password = 'correct horse battery'): Promise<string> {
  const res = await request(`${t.baseUrl}/stack-auth/api/v1`)
    .post('/auth/password/sign-up')
    .set({ 'x-stack-access-type': 'client', 'x-stack-project-id': auth.auth_provider_project_id, 'x-stack-publishable-client-key': auth.pub_client_key })
    .send({ email, password });
  if (res.status !== 200) throw new Error(`sign-up: ${res.status} ${res.text}`);
  return res.body.user_id as string;
}

export interface UsersSyncRow {
  raw_json: Record<string, unknown>;
  id: string;
  name: string | null;
  email: string | null;
  created_at: Date | null;
  updated_at: Date | null;
  deleted_at: Date | null;
}

/** `SELECT * FROM neon_auth.users_sync` through a connection URI, as an application would. */
export async function usersSync(uri: string, where = 'TRUE', params: unknown[] = []): Promise<UsersSyncRow[]> {
  return withClient(uri, async (c) => (await c.query<UsersSyncRow>(`SELECT * FROM neon_auth.users_sync WHERE ${where} ORDER BY id`, params)).rows);
}

export async function usersSyncRow(uri: string, id: string): Promise<UsersSyncRow | undefined> {
  return (await usersSync(uri, 'id = $1', [id]))[0];
}

/**
 * The provider's own view of a user, read with the SDK keys the enable returned: for stack over the
 * provider's HTTP API (server access), for mock through the mock adapter. `undefined` when the provider
 * does not know the user.
 */
export async function providerUser(t: TestApp, auth: EnabledAuth, userId: string): Promise<Record<string, unknown> | undefined> {
  if (auth.auth_provider === 'stack') {
    const res = await request(`${t.baseUrl}/stack-auth/api/v1`)
      .get(`/users/${userId}`)
      .set({ 'x-stack-access-type': 'server', 'x-stack-project-id': auth.auth_provider_project_id, 'x-stack-secret-server-key': auth.secret_server_key });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`stack get user: ${res.status} ${res.text}`);
    return res.body as Record<string, unknown>;
  }
  const mock = t.app.get(MockProviderAdapter);
  try {
    return (await mock.getUser(mockCredentials(auth), userId)).raw;
  } catch (err) {
    if ((err as Error).name === 'ProviderUserNotFound') return undefined;
    throw err;
  }
}

/** Every user the provider project has (ids and emails). */
export async function providerUsers(t: TestApp, auth: EnabledAuth): Promise<{ id: string; email: string | null }[]> {
  if (auth.auth_provider === 'stack') {
    const res = await request(`${t.baseUrl}/stack-auth/api/v1`)
      .get('/users?limit=1000')
      .set({ 'x-stack-access-type': 'server', 'x-stack-project-id': auth.auth_provider_project_id, 'x-stack-secret-server-key': auth.secret_server_key })
      .expect(200);
    return (res.body.items as { id: string; primary_email: string | null }[]).map((u) => ({ id: u.id, email: u.primary_email }));
  }
  const page = await t.app.get(MockProviderAdapter).listUsers(mockCredentials(auth), { limit: 1000 });
  return page.users.map((u: ProviderUser) => ({ id: u.id, email: u.email }));
}

export function mockCredentials(auth: EnabledAuth): ProviderCredentials {
  return { baseUrl: auth.base_url ?? 'https://mock-auth.invalid', projectId: auth.auth_provider_project_id, secretServerKey: auth.secret_server_key };
}

/** Runs SQL as the database owner through the connection URI (e.g. to break users_sync on purpose). */
export function ownerSql(uri: string, sql: string): Promise<void> {
  return withClient(uri, async (c) => {
    await c.query(sql);
  });
}

/** A trigger that makes every write to users_sync fail, as a broken or unwritable branch database would. */
export const BREAK_USERS_SYNC = `
  CREATE FUNCTION neon_auth.refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'users_sync is read-only for this test'; END $$;
  CREATE TRIGGER refuse_writes BEFORE INSERT OR UPDATE ON neon_auth.users_sync FOR EACH ROW EXECUTE FUNCTION neon_auth.refuse_writes();`;
export const REPAIR_USERS_SYNC = `DROP TRIGGER refuse_writes ON neon_auth.users_sync; DROP FUNCTION neon_auth.refuse_writes();`;

let emails = 0;
export function uniqueEmail(label = 'user'): string {
  return `${label}-${Date.now()}-${++emails}@example.com`;
}
