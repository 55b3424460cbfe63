// Permission matrix of the Neon Auth settings routes (reference §7.1: "Members can create users but cannot modify
// Neon Auth settings"): reads -> anyone who sees the project; changes -> organization admins (admin's personal key,
// the organization key); outside reach -> 404; no or bad key -> 401. A refused change leaves project_config as it was.
import { CALLERS, row, setupCallers, type Caller, type Callers, type Expectation, type Method } from '../helpers/callers.js';
import { api, withClient } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('Neon Auth settings: permission matrix (every route)', () => {
  let t: TestApp;
  let who: Callers;
  let projectId: string;
  let branchId: string;
  let uri: string;

  beforeAll(async () => {
    // One revoked-key call per route: more failed authentications than API_KEY_RATE_LIMIT_PER_IP allows a minute.
    t = await startTestApp({ NEON_AUTH_SHARED_OAUTH_CREDENTIALS: JSON.stringify({ google: { client_id: 'g', client_secret: 'g-secret' } }), API_KEY_RATE_LIMIT_PER_IP: '0' });
    who = await setupCallers(t, 'settings matrix');
    projectId = who.project.project.id;
    branchId = who.project.branch.id;
    uri = who.project.connection_uris[0].connection_uri;
    await api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth`, { auth_provider: 'better_auth' }).expect(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  const admin = () => api(t, t.adminKey);
  const settingsRow = () =>
    withClient(uri, async (c) => (await c.query(`SELECT name, trusted_origins, social_providers, email_provider, email_and_password, allow_localhost, plugin_configs, webhook_config FROM neon_auth.project_config`)).rows[0]);
  const branch = (p: string) => `/projects/${projectId}/branches/${branchId}/auth${p}`;
  const legacy = (p: string) => `/projects/${projectId}/auth${p}`;
  const READ = row(200, 200, 200, 200, 200, 404);
  const WRITE = (ok: number) => row(ok, 403, 403, ok, 403, 404);

  interface Case {
    name: string;
    method: Method;
    /** Evaluated per call (the project exists only once beforeAll ran). */
    path: () => string;
    body?: object;
    expect: Expectation;
    /** Before each caller's call: puts the settings where the call can succeed. */
    arrange?: () => Promise<void>;
  }

  const githubAbsent = async () => {
    await admin().delete(branch('/oauth_providers/github'));
  };
  const githubPresent = async () => {
    await admin().post(branch('/oauth_providers'), { id: 'github', client_id: 'gh', client_secret: 'gh-secret' });
  };

  const cases: Case[] = [
    { name: 'GET domains', method: 'get', path: () => branch('/domains'), expect: READ },
    { name: 'POST domains', method: 'post', path: () => branch('/domains'), body: { domain: 'https://m.example.com', auth_provider: 'better_auth' }, expect: WRITE(201) },
    { name: 'DELETE domains', method: 'delete', path: () => branch('/domains'), body: { auth_provider: 'better_auth', domains: [{ domain: 'https://m.example.com' }] }, expect: WRITE(200) },
    { name: 'GET oauth_providers', method: 'get', path: () => branch('/oauth_providers'), expect: READ },
    { name: 'POST oauth_providers', method: 'post', path: () => branch('/oauth_providers'), body: { id: 'github', client_id: 'gh', client_secret: 'gh-secret' }, expect: WRITE(200), arrange: githubAbsent },
    { name: 'PATCH oauth_providers/{id}', method: 'patch', path: () => branch('/oauth_providers/github'), body: { client_id: 'gh-2' }, expect: WRITE(200), arrange: githubPresent },
    { name: 'DELETE oauth_providers/{id}', method: 'delete', path: () => branch('/oauth_providers/github'), expect: WRITE(200), arrange: githubPresent },
    { name: 'GET email_provider', method: 'get', path: () => branch('/email_provider'), expect: READ },
    { name: 'PATCH email_provider', method: 'patch', path: () => branch('/email_provider'), body: { type: 'shared', sender_name: 'Matrix' }, expect: WRITE(200) },
    {
      name: 'POST send_test_email (a host that does not resolve: 200 with success false)',
      method: 'post',
      path: () => branch('/send_test_email'),
      body: { host: 'smtp.invalid', port: 587, username: 'u', password: 'p', sender_email: 'a@example.com', sender_name: 'A', recipient_email: 'b@example.com' },
      expect: WRITE(200),
    },
    {
      name: 'POST email_provider/test (the saved provider does not resolve: 200 with success false)',
      method: 'post',
      path: () => branch('/email_provider/test'),
      body: { recipient_email: 'b@example.com' },
      expect: WRITE(200),
      arrange: async () => {
        await admin().patch(branch('/email_provider'), { type: 'standard', host: 'smtp.invalid', port: 587, username: 'u', password: 'p', sender_email: 'a@example.com', sender_name: 'A' }).expect(200);
      },
    },
    { name: 'GET email_and_password', method: 'get', path: () => branch('/email_and_password'), expect: READ },
    { name: 'PATCH email_and_password', method: 'patch', path: () => branch('/email_and_password'), body: { disable_sign_up: true }, expect: WRITE(200) },
    { name: 'GET allow_localhost', method: 'get', path: () => branch('/allow_localhost'), expect: READ },
    { name: 'PATCH allow_localhost', method: 'patch', path: () => branch('/allow_localhost'), body: { allow_localhost: false }, expect: WRITE(200) },
    { name: 'GET plugins', method: 'get', path: () => branch('/plugins'), expect: READ },
    { name: 'PATCH plugins/organization', method: 'patch', path: () => branch('/plugins/organization'), body: { organization_limit: 3 }, expect: WRITE(200) },
    { name: 'PATCH plugins/magic-link', method: 'patch', path: () => branch('/plugins/magic-link'), body: { enabled: true }, expect: WRITE(200) },
    { name: 'GET plugins/phone-number', method: 'get', path: () => branch('/plugins/phone-number'), expect: READ },
    { name: 'PATCH plugins/phone-number', method: 'patch', path: () => branch('/plugins/phone-number'), body: { enabled: true }, expect: WRITE(200) },
    { name: 'PATCH config', method: 'patch', path: () => branch('/config'), body: { name: 'Matrix App' }, expect: WRITE(200) },
    { name: 'GET webhooks', method: 'get', path: () => branch('/webhooks'), expect: READ },
    { name: 'PUT webhooks', method: 'put', path: () => branch('/webhooks'), body: { enabled: true, webhook_url: 'https://hooks.example.com/matrix', enabled_events: ['user.created'] }, expect: WRITE(200) },
    // Extensions beside the settings: the webhook delivery log and its replay (organization admins; an unknown delivery is 404).
    { name: 'GET webhooks/deliveries', method: 'get', path: () => branch('/webhooks/deliveries'), expect: WRITE(200) },
    { name: 'POST webhooks/deliveries/{id}/replay (unknown delivery)', method: 'post', path: () => branch('/webhooks/deliveries/00000000-0000-4000-8000-000000000000/replay'), expect: WRITE(404) },
    { name: 'GET mailbox', method: 'get', path: () => branch('/mailbox'), expect: WRITE(200) },
    // Legacy routes (the default branch).
    { name: 'GET legacy domains', method: 'get', path: () => legacy('/domains'), expect: READ },
    { name: 'POST legacy domains', method: 'post', path: () => legacy('/domains'), body: { domain: 'https://l.example.com', auth_provider: 'better_auth' }, expect: WRITE(201) },
    { name: 'DELETE legacy domains', method: 'delete', path: () => legacy('/domains'), body: { auth_provider: 'better_auth', domains: [{ domain: 'https://l.example.com' }] }, expect: WRITE(200) },
    { name: 'GET legacy oauth_providers', method: 'get', path: () => legacy('/oauth_providers'), expect: READ },
    { name: 'POST legacy oauth_providers', method: 'post', path: () => legacy('/oauth_providers'), body: { id: 'github', client_id: 'gh', client_secret: 'gh-secret' }, expect: WRITE(200), arrange: githubAbsent },
    { name: 'PATCH legacy oauth_providers/{id}', method: 'patch', path: () => legacy('/oauth_providers/github'), body: { client_secret: 'gh-secret-2' }, expect: WRITE(200), arrange: githubPresent },
    { name: 'DELETE legacy oauth_providers/{id}', method: 'delete', path: () => legacy('/oauth_providers/github'), expect: WRITE(200), arrange: githubPresent },
    { name: 'GET legacy email_server', method: 'get', path: () => legacy('/email_server'), expect: READ },
    { name: 'PATCH legacy email_server', method: 'patch', path: () => legacy('/email_server'), body: { type: 'shared', sender_name: 'Legacy' }, expect: WRITE(200) },
  ];

  for (const c of cases) {
    it(`${c.method.toUpperCase()} ${c.name}`, async () => {
      const actual = {} as Record<Caller, number>;
      for (const caller of CALLERS) {
        await c.arrange?.();
        const before = await settingsRow();
        const res = await who.call(caller, c.method, c.path(), c.body);
        actual[caller] = res.status;
        if (res.status >= 400) {
          expect(Object.keys(res.body).sort()).toEqual(['code', 'message', 'request_id']);
          // A refused call changes nothing.
          expect([caller, await settingsRow()]).toEqual([caller, before]);
        }
      }
      expect(actual).toEqual(c.expect);
    });
  }
});
