import request from 'supertest';
import { addMember, adminOrgId, api, createProject, newAccount } from './fixtures.js';
import type { TestApp } from './test-app.js';

/** Every kind of caller the permission matrices check. */
export const CALLERS = ['admin', 'member', 'collaborator', 'orgKey', 'projectKey', 'otherOrgAdmin', 'revokedKey', 'noKey'] as const;
export type Caller = (typeof CALLERS)[number];
export type Expectation = Record<Caller, number>;
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Expected statuses; a revoked key and no key are always 401. */
export function row(admin: number, member: number, collaborator: number, orgKey: number, projectKey: number, otherOrgAdmin: number): Expectation {
  return { admin, member, collaborator, orgKey, projectKey, otherOrgAdmin, revokedKey: 401, noKey: 401 };
}

export interface Callers {
  keys: Record<Caller, string | undefined>;
  orgId: string;
  /** The body of POST /projects for the project the collaborator and the project key are scoped to. */
  project: { project: { id: string }; branch: { id: string }; connection_uris: { connection_uri: string }[] };
  memberEmail: string;
  /** Calls `/api/v2${path}` as `caller`. */
  call(caller: Caller, method: Method, path: string, body?: object): request.Test;
}

/**
 * One of each caller around a fresh project of the bootstrap admin's organization: the admin (personal key),
 * a member, a collaborator on the project, an organization key, a key scoped to the project, the admin of
 * another organization, a revoked key, and no key.
 */
export async function setupCallers(t: TestApp, projectName = 'matrix'): Promise<Callers> {
  const admin = api(t, t.adminKey);
  const orgId = await adminOrgId(t);
  const keys = { admin: t.adminKey } as Record<Caller, string | undefined>;
  const member = await newAccount(t, 'member');
  await addMember(t, t.adminKey, orgId, member, 'member');
  keys.member = member.key;
  const project = await createProject(admin, { name: projectName, org_id: orgId });
  const collaborator = await newAccount(t, 'collaborator');
  await admin.post(`/projects/${project.project.id}/permissions`, { email: collaborator.email }).expect(200);
  keys.collaborator = collaborator.key;
  keys.orgKey = (await admin.post(`/organizations/${orgId}/api_keys`, { key_name: 'org' }).expect(200)).body.key;
  keys.projectKey = (await admin.post(`/organizations/${orgId}/api_keys`, { key_name: 'proj', project_id: project.project.id }).expect(200)).body.key;
  const other = await newAccount(t, 'other');
  await api(t, other.key).post('/organizations', { name: 'Other org' }).expect(201);
  keys.otherOrgAdmin = other.key;
  const revoked = (await admin.post('/api_keys', { key_name: 'to-revoke' }).expect(200)).body;
  await admin.delete(`/api_keys/${revoked.id}`).expect(200);
  keys.revokedKey = revoked.key;
  keys.noKey = undefined;
  return {
    keys,
    orgId,
    project,
    memberEmail: member.email,
    call(caller, method, path, body) {
      let req = request(t.baseUrl)[method](`/api/v2${path}`);
      if (keys[caller]) req = req.set('Authorization', `Bearer ${keys[caller]}`);
      return body === undefined ? req : req.send(body);
    },
  };
}
