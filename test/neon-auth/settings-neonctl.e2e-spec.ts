// The configuration commands of the real neonctl 5.0.1 (npm, child process) against Better Auth on a branch:
// domain list|add|delete, domain allow-localhost get|enable|disable, oauth-provider list|add|update|delete,
// config email-password get|update, config email-provider get|update, config organization get|update,
// config webhook get|update, plugins list|get. Printed output and exit codes are asserted, and the effect is read back
// through the API.
import { api, type Api } from '../helpers/fixtures.js';
import { neonctl, type NeonctlResult } from '../helpers/neonctl.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { betterAuthProject, type BetterAuthEnabled } from '../better-auth/better-auth-helpers.js';

describe('Neon Auth settings: neonctl neon-auth', () => {
  let t: TestApp;
  let admin: Api;
  let projectId: string;
  let branchId: string;
  let auth: BetterAuthEnabled;

  const cli = (...args: string[]): Promise<NeonctlResult> => neonctl(t.apiUrl, t.adminKey, ['neon-auth', ...args, '--project-id', projectId]);
  /** A `Label:   value` line of neonctl's key-value blocks (its padding is its own business). */
  const expectKv = (stdout: string, label: string, value: string) =>
    expect(stdout).toMatch(new RegExp(`${label.replace(/[()&]/g, '\\$&')}:\\s+${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm'));
  const ok = (r: NeonctlResult) => expect([r.code, r.stderr]).toEqual([0, '']);
  const settings = (path: string) => admin.get(`/projects/${projectId}/branches/${branchId}/auth/${path}`).expect(200);

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    const p = await betterAuthProject(t, 'settings neonctl');
    ({ projectId, auth } = p);
    branchId = p.defaultBranchId;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('domain add | list | delete, and the API\'s 400 message for a bad domain', async () => {
    const empty = await cli('domain', 'list');
    ok(empty);
    expect(empty.stdout).toContain('No trusted domains are configured for this branch.');

    const a = await cli('domain', 'add', 'https://App.example.com/');
    ok(a);
    expect(a.stdout).toContain('Domain "https://App.example.com/" added');
    await admin.post(`/projects/${projectId}/branches/${branchId}/auth/domains`, { domain: 'https://*.preview.example.app', auth_provider: 'better_auth' }).expect(201);
    const listed = await cli('domain', 'list', '-o', 'json');
    ok(listed);
    expect(JSON.parse(listed.stdout)).toEqual(expect.arrayContaining([{ domain: 'https://App.example.com/', auth_provider: 'better_auth' }, { domain: 'https://*.preview.example.app', auth_provider: 'better_auth' }]));

    // As typed, trailing slash and capitals included: neonctl looks for that string in the list before it deletes.
    const deleted = await cli('domain', 'delete', 'https://App.example.com/');
    ok(deleted);
    expect(deleted.stdout).toContain('Domain "https://App.example.com/" deleted');
    // A bad domain gets the API's 400 message (neonctl's own check lets a path through).
    const bad = await cli('domain', 'add', 'https://app.example.com/callback');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no path');
    expect((await settings('domains')).body.domains).toEqual([{ domain: 'https://*.preview.example.app', auth_provider: 'better_auth' }]);
  });

  it('domain allow-localhost get | disable | enable', async () => {
    const got = await cli('domain', 'allow-localhost', 'get');
    ok(got);
    expectKv(got.stdout, 'Allow localhost', 'true');
    const off = await cli('domain', 'allow-localhost', 'disable');
    ok(off);
    expect(off.stdout).toContain('Localhost connections restricted');
    expect((await settings('allow_localhost')).body).toEqual({ allow_localhost: false });
    const on = await cli('domain', 'allow-localhost', 'enable');
    ok(on);
    expect(on.stdout).toContain('Localhost connections allowed');
    expect((await settings('allow_localhost')).body).toEqual({ allow_localhost: true });
  });

  it('oauth-provider list | add | update | delete, the callback URL it prints, and its hint for INVALID_SHARED_OAUTH_PROVIDER', async () => {
    const list = await cli('oauth-provider', 'list', '-o', 'json');
    ok(list);
    expect(JSON.parse(list.stdout)).toEqual([{ id: 'google', type: 'shared', client_id: '' }]);

    const added = await cli('oauth-provider', 'add', '--provider-id', 'github', '--oauth-client-id', 'gh-client', '--oauth-client-secret', 'gh-secret');
    ok(added);
    expect(added.stdout).toContain('OAuth provider added');
    expectKv(added.stdout, 'Client ID', 'gh-client');
    expect(added.stdout).toContain(`${auth.base_url}/callback/github`);
    expect(added.stdout).not.toContain('gh-secret');

    const updated = await cli('oauth-provider', 'update', '--provider-id', 'github', '--oauth-client-id', 'gh-client-2', '--oauth-client-secret', 'gh-secret-2');
    ok(updated);
    expectKv(updated.stdout, 'Client ID', 'gh-client-2');

    const shared = await cli('oauth-provider', 'add', '--provider-id', 'vercel');
    expect(shared.code).toBe(1);
    expect(shared.stderr).toContain('The "vercel" provider requires your own OAuth app credentials.');

    const deleted = await cli('oauth-provider', 'delete', '--provider-id', 'github');
    ok(deleted);
    expect(deleted.stdout).toContain('OAuth provider "github" deleted');
    expect((await settings('oauth_providers')).body.providers.map((p: { id: string }) => p.id)).toEqual(['google']);
  });

  it('config email-password get | update', async () => {
    const got = await cli('config', 'email-password', 'get');
    ok(got);
    expectKv(got.stdout, 'Verification Method', 'otp');
    const updated = await cli('config', 'email-password', 'update', '--disable-sign-up', '--email-verification-method', 'link', '--require-email-verification');
    ok(updated);
    expect(updated.stdout).toContain('Email & password auth configuration updated');
    expectKv(updated.stdout, 'Disable Sign Up', 'true');
    expectKv(updated.stdout, 'Verification Method', 'link');
    expect((await settings('email_and_password')).body).toMatchObject({ disable_sign_up: true, email_verification_method: 'link', require_email_verification: true, enabled: true });
  });

  it('config email-provider get | update (standard, without a sender: the login and the app name) and back to shared', async () => {
    const got = await cli('config', 'email-provider', 'get');
    ok(got);
    expectKv(got.stdout, 'Type', 'shared');
    const standard = await cli('config', 'email-provider', 'update', '--type', 'standard', '--host', 'smtp.example.com', '--port', '587', '--username', 'mailer@example.com', '--password', 'smtp-secret');
    ok(standard);
    expectKv(standard.stdout, 'Host', 'smtp.example.com');
    expectKv(standard.stdout, 'Sender Email', 'mailer@example.com');
    expect(standard.stdout).not.toContain('smtp-secret');
    expect((await settings('email_provider')).body).toEqual({ type: 'standard', host: 'smtp.example.com', port: 587, username: 'mailer@example.com', password: '', sender_email: 'mailer@example.com', sender_name: 'settings neonctl' });
    const shared = await cli('config', 'email-provider', 'update', '--type', 'shared');
    ok(shared);
    expect((await settings('email_provider')).body).toEqual({ type: 'shared' });
  });

  it('config organization get | update', async () => {
    const got = await cli('config', 'organization', 'get');
    ok(got);
    expectKv(got.stdout, 'Org Limit', '10');
    const updated = await cli('config', 'organization', 'update', '--limit', '3', '--creator-role', 'admin');
    ok(updated);
    expectKv(updated.stdout, 'Org Limit', '3');
    expectKv(updated.stdout, 'Creator Role', 'admin');
  });

  it('config webhook get | update (full replace)', async () => {
    const got = await cli('config', 'webhook', 'get');
    ok(got);
    expectKv(got.stdout, 'Enabled', 'false');
    const updated = await cli('config', 'webhook', 'update', '--enabled', '--url', 'https://hooks.example.com/neon', '--enabled-events', 'user.created', 'send.otp', '--timeout', '7');
    ok(updated);
    expectKv(updated.stdout, 'URL', 'https://hooks.example.com/neon');
    expectKv(updated.stdout, 'Events', 'user.created, send.otp');
    expectKv(updated.stdout, 'Timeout (sec)', '7');
    ok(await cli('config', 'webhook', 'update', '--no-enabled'));
    expect((await settings('webhooks')).body).toEqual({ enabled: false, webhook_url: '', enabled_events: [], timeout_seconds: 5 });
  });

  it('plugins list | get', async () => {
    const list = await cli('plugins', 'list');
    ok(list);
    expect(list.stdout).toContain('Neon Auth plugins');
    expect(list.stdout).toMatch(/organization\s+enabled/);
    expect(list.stdout).toMatch(/magic_link\s+disabled/);
    expect(list.stdout).toMatch(/allow_localhost\s+true/);
    const org = await cli('plugins', 'get', 'organization', '-o', 'json');
    ok(org);
    expect(JSON.parse(org.stdout)).toEqual({ enabled: true, organization_limit: 3, membership_limit: 100, creator_role: 'admin', send_invitation_email: false });
  });
});
