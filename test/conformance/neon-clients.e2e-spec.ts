import { createApiClient } from '@neondatabase/api-client';
import { neonctl } from '../helpers/neonctl.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Neon's own clients, unchanged, against this server: `@neondatabase/api-client` (axios, baseURL ending in
 * /api/v2) and `neonctl` (npm, as a child process with --api-host).
 */
describe('conformance: Neon API client and neonctl', () => {
  let t: TestApp;
  let neon: ReturnType<typeof createApiClient>;
  beforeAll(async () => {
    t = await startTestApp();
    neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('@neondatabase/api-client', () => {
    it('getAuthDetails and getCurrentUserInfo', async () => {
      const auth = await neon.getAuthDetails();
      expect(auth.status).toBe(200);
      expect(auth.data.auth_method).toBe('api_key_user');
      const me = await neon.getCurrentUserInfo();
      expect(me.data).toMatchObject({ id: auth.data.account_id, email: 'admin@example.com' });
    });

    it('getCurrentUserOrganizations, getOrganization and members', async () => {
      const orgs = await neon.getCurrentUserOrganizations();
      expect(orgs.data.organizations).toHaveLength(1);
      const orgId = orgs.data.organizations[0].id;
      const org = await neon.getOrganization(orgId);
      expect(org.data.id).toBe(orgId);
      const members = await neon.getOrganizationMembers({ orgId });
      expect(members.data.members).toHaveLength(1);
      const [{ member, user }] = members.data.members;
      expect(user.email).toBe('admin@example.com');
      const one = await neon.getOrganizationMember(orgId, member.id);
      expect(one.data).toMatchObject({ id: member.id, role: 'admin', org_id: orgId });
    });

    it('creates, lists and revokes personal API keys', async () => {
      const created = await neon.createApiKey({ key_name: 'conformance' });
      expect(created.status).toBe(200);
      expect(typeof created.data.id).toBe('number');
      const other = createApiClient({ apiKey: created.data.key, baseURL: t.apiUrl });
      expect((await other.getAuthDetails()).status).toBe(200);
      const listed = await neon.listApiKeys();
      expect(listed.data.map((k) => k.id)).toContain(created.data.id);
      const revoked = await neon.revokeApiKey(created.data.id);
      expect(revoked.data).toMatchObject({ id: created.data.id, revoked: true });
      const denied = await other.getAuthDetails().catch((e: { response?: { status: number; data: unknown } }) => e.response);
      expect(denied?.status).toBe(401);
      expect(denied?.data).toMatchObject({ code: 'UNAUTHORIZED', request_id: expect.any(String) });
    });
  });

  describe('neonctl', () => {
    it('me -o json prints the current user', async () => {
      const r = await neonctl(t.apiUrl, t.adminKey, ['me', '-o', 'json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ email: 'admin@example.com' });
    });

    it('orgs list prints the organization', async () => {
      const orgs = (await neon.getCurrentUserOrganizations()).data.organizations;
      const r = await neonctl(t.apiUrl, t.adminKey, ['orgs', 'list', '-o', 'json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ id: orgs[0].id, name: orgs[0].name })]);
    });

    it('a bad key gets neonctl\'s authentication error', async () => {
      const r = await neonctl(t.apiUrl, 'napi_not_a_key', ['me']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('Authentication failed');
    });
  });
});
