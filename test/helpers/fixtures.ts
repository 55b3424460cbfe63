// Shared arrangement helpers for the projects and branches e2e specs (real HTTP, real Postgres).
import pg from 'pg';
import request from 'supertest';
import type { TestApp } from './test-app.js';

export function api(t: TestApp, key: string) {
  const agent = request(t.baseUrl);
  const auth = { Authorization: `Bearer ${key}` };
  return {
    get: (path: string) => agent.get(`/api/v2${path}`).set(auth),
    post: (path: string, body?: object) => (body === undefined ? agent.post(`/api/v2${path}`).set(auth) : agent.post(`/api/v2${path}`).set(auth).send(body)),
    patch: (path: string, body: object) => agent.patch(`/api/v2${path}`).set(auth).send(body),
    put: (path: string, body: object) => agent.put(`/api/v2${path}`).set(auth).send(body),
    delete: (path: string) => agent.delete(`/api/v2${path}`).set(auth),
  };
}

export type Api = ReturnType<typeof api>;

let counter = 0;

/** A new account (through the platform admin's extension endpoint) and its personal key. */
export async function newAccount(t: TestApp, label = 'user'): Promise<{ id: string; email: string; key: string }> {
  const email = `${label}-${Date.now()}-${++counter}@example.com`;
  const res = await api(t, t.adminKey).post('/admin/accounts', { email, name: label }).expect(201);
  return { id: res.body.account.id, email, key: res.body.api_key.key };
}

/** The bootstrap admin's organization. */
export async function adminOrgId(t: TestApp): Promise<string> {
  const res = await api(t, t.adminKey).get('/users/me/organizations').expect(200);
  return res.body.organizations[0].id;
}

/** Makes `invitee` a member of `orgId` with `role` (invitation by an admin, accepted by the invitee). */
export async function addMember(t: TestApp, adminKey: string, orgId: string, invitee: { email: string; key: string }, role: 'admin' | 'member') {
  const inv = await api(t, adminKey).post(`/organizations/${orgId}/invitations`, { invitations: [{ email: invitee.email, role }] }).expect(200);
  await api(t, invitee.key).post(`/invitations/${inv.body.invitations[0].id}/accept`).expect(200);
}

export async function createProject(a: Api, project: Record<string, unknown> = {}) {
  const res = await a.post('/projects', { project }).expect(201);
  return res.body;
}

/** Runs `fn` with a client connected through a connection URI, and always disconnects. */
export async function withClient<T>(uri: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Collects every page of a paginated list, following `next(body)` until it returns undefined. */
export async function allPages<T>(fetch: (cursor?: string) => Promise<{ items: T[]; cursor?: string }>, maxPages = 100): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await fetch(cursor);
    pages.push(page.items);
    if (!page.cursor) return pages;
    cursor = page.cursor;
  }
  throw new Error('pagination did not end');
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject');
}

/** The HTTP answer of a refused call of Neon's API client (axios): its status and Neon's error body. */
export async function apiClientRejection(p: Promise<unknown>): Promise<{ status: number; data: { code: string; message: string; request_id: string } }> {
  const err = (await rejection(p)) as { response?: { status: number; data: never } };
  if (err.response) return err.response;
  throw err as unknown as Error;
}
