import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { OutboundHttp, outboundPolicyForConfig, type OutboundResolver } from '../../src/common/outbound-http.js';
import { OutboundUrlPolicy, parseOutboundAllowList } from '../../src/common/outbound-url-policy.js';
import { SecretsService } from '../../src/common/secrets.js';
import { NeonAuthIntegrationResolver } from '../../src/neon-auth/integrations/integration-resolver.js';
import { NeonAuthIntegrationEntity } from '../../src/neon-auth/integrations/integration.entity.js';
import { AUTH_PROVIDER_URL_NOT_ALLOWED_MESSAGE } from '../../src/neon-auth/provider-errors.js';
import { ProviderDestinationRefused, ProviderUnavailable } from '../../src/providers/auth-provider.port.js';
import { StackProviderAdapter } from '../../src/providers/stack/stack-provider.adapter.js';
import { SyncReconcilerScheduler } from '../../src/sync/reconciler/reconciler.scheduler.js';
import { SyncReconcilerService } from '../../src/sync/reconciler/reconciler.service.js';
import { api, type Api } from '../helpers/fixtures.js';
import { startRelay, type Relay } from '../helpers/relay.js';
import { createStackProject, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { integrationRows, neonAuthState } from '../neon-auth/integrations-helpers.js';
import { newAuthProject, uniqueEmail, type AuthProject } from '../neon-auth/users-helpers.js';
import { waitFor } from '../sync/receiver-helpers.js';

/**
 * SSRF: a manual-setup base URL is a URL a person chose, and the server calls it with the caller's secret server
 * key, at enable and then every hour (the reconciler). Outgoing calls to such URLs must never reach private
 * infrastructure (src/common/outbound-url-policy.ts, src/common/outbound-http.ts).
 *
 * The "canary" is a real listener on 127.0.0.1 that would answer like the provider (a relay to the embedded
 * provider), so reaching it would make the call succeed: each refused case asserts it was never connected to, and
 * that the process opened no connection to the refused destination at all (net's connection attempts, observed
 * through diagnostics_channel). OUTBOUND_ALLOWED_HOSTS allows 127.0.0.2, where an allowed relay listens.
 */

/** Every TCP connection attempt this process makes through net.connect (undici's connector included). */
function recordConnectionAttempts() {
  const attempts: { address: string; port: number }[] = [];
  const onSocket = (message: unknown) => {
    (message as { socket: Socket }).socket.on('connectionAttempt', (address: string, port: number) => attempts.push({ address, port }));
  };
  diagnostics.subscribe('net.client.socket', onSocket);
  return { attempts, stop: () => diagnostics.unsubscribe('net.client.socket', onSocket) };
}

describe('outgoing calls to user-supplied URLs (SSRF)', () => {
  let t: TestApp;
  let admin: Api;
  let own: StackTestProject;
  let canary: Relay;
  let allowed: Relay;
  let recorder: ReturnType<typeof recordConnectionAttempts>;

  beforeAll(async () => {
    t = await startTestApp({ NEON_AUTH_RECONCILE_INTERVAL_SECONDS: '0', OUTBOUND_ALLOWED_HOSTS: '127.0.0.2' });
    admin = api(t, t.adminKey);
    own = await createStackProject(t, 'behind relays');
    canary = await startRelay(own.baseUrl, '127.0.0.1');
    allowed = await startRelay(own.baseUrl, '127.0.0.2');
    recorder = recordConnectionAttempts();
  });
  afterAll(async () => {
    recorder?.stop();
    await Promise.all([canary?.close(), allowed?.close()]);
    await t?.close();
  });

  const manual = (baseUrl: string, p: StackTestProject = own) => ({
    auth_provider: 'stack',
    auth_provider_base_url: baseUrl,
    auth_provider_project_id: p.projectId,
    secret_server_key: p.secretServerKey,
  });

  describe('manual setup with a base URL on a refused destination: one generic 400, nothing stored, nothing contacted', () => {
    // [case, base URL (given the canary's port), the port a connection to it would use]
    it.each<[string, (canaryPort: number) => string, (canaryPort: number) => number]>([
      ['169.254.169.254 (instance metadata)', () => 'http://169.254.169.254', () => 80],
      ['[::ffff:169.254.169.254] (IPv4-mapped, dotted)', () => 'http://[::ffff:169.254.169.254]', () => 80],
      ['[::ffff:a9fe:a9fe] (IPv4-mapped, hex)', () => 'http://[::ffff:a9fe:a9fe]', () => 80],
      ['10.0.0.1:6379 (RFC 1918, a Redis port)', () => 'http://10.0.0.1:6379', () => 6379],
      ['100.64.0.1 (CGNAT)', () => 'http://100.64.0.1', () => 80],
      ['[fd00::1] (unique-local)', () => 'http://[fd00::1]', () => 80],
      ['0.0.0.0 (this machine: the canary listens on its port)', (p) => `http://0.0.0.0:${p}`, (p) => p],
      ['localhost on another port than the embedded provider (resolves to 127.0.0.1: the canary)', (p) => `http://localhost:${p}`, (p) => p],
      ['metadata.google.internal', () => 'http://metadata.google.internal/computeMetadata/v1', () => 80],
    ])('%s', async (_case, urlOf, portOf) => {
      const project = await newAuthProject(t, 'ssrf refused'); // one per case: a case that got through cannot fail the next
      const url = urlOf(canary.port);
      const from = recorder.attempts.length;
      const reached = canary.connections;
      const res = await admin.post(`/projects/${project.projectId}/branches/${project.defaultBranchId}/auth`, manual(url));
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: { request_id: expect.any(String), code: 'AUTH_PROVIDER_URL_NOT_ALLOWED', message: AUTH_PROVIDER_URL_NOT_ALLOWED_MESSAGE },
      });
      // Nothing stored: no integration row, no neon_auth schema in the branch database.
      expect(await integrationRows(t, project.projectId)).toEqual([]);
      expect((await neonAuthState(project.uri)).schema).toBe(false);
      // Nothing contacted: the canary saw no connection, and no connection to the destination's port was even tried.
      expect(canary.connections).toBe(reached);
      expect(recorder.attempts.slice(from).filter((a) => a.port === portOf(canary.port))).toEqual([]);
    });

    it('the legacy route (POST /projects/auth/create) answers the same', async () => {
      const project = await newAuthProject(t, 'ssrf refused (legacy)');
      const reached = canary.connections;
      const res = await admin.post('/projects/auth/create', { ...manual(`http://localhost:${canary.port}`), project_id: project.projectId, branch_id: project.defaultBranchId });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ request_id: expect.any(String), code: 'AUTH_PROVIDER_URL_NOT_ALLOWED', message: AUTH_PROVIDER_URL_NOT_ALLOWED_MESSAGE });
      expect(await integrationRows(t, project.projectId)).toEqual([]);
      expect(canary.connections).toBe(reached);
    });
  });

  it('the embedded provider (PUBLIC_URL origin, 127.0.0.1) stays allowed for manual setup', async () => {
    const p = await newAuthProject(t, 'ssrf embedded');
    const res = await admin.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, manual(own.baseUrl));
    expect(res.status).toBe(201);
    expect(res.body.base_url).toBe(own.baseUrl);
  });

  describe('a provider on an allowed private address (OUTBOUND_ALLOWED_HOSTS=127.0.0.2), whose stored URL later turns private', () => {
    let p: AuthProject;
    let integration: NeonAuthIntegrationEntity;

    beforeAll(async () => {
      p = await newAuthProject(t, 'ssrf allowed');
      const res = await admin.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, manual(allowed.url));
      expect(res.status).toBe(201);
      expect(res.body.base_url).toBe(allowed.url);
      // The manual-setup enable reconciles at once: let it finish before the stored URL is changed.
      await waitFor(async () => (await admin.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/sync`).expect(200)).body.last_reconciled_at, 10_000, 50);
      integration = await t.app.get(NeonAuthIntegrationResolver).findForBranch(p.projectId, p.defaultBranchId);
    });

    it('the allowed listener was reached (verify, copy users, reconcile)', () => {
      expect(allowed.connections).toBeGreaterThan(0);
      expect(allowed.requests.some((r) => r.startsWith('GET /api/v1/users?'))).toBe(true);
      expect(integration.baseUrl).toBe(allowed.url);
    });

    it('once the stored URL names 127.0.0.1 (localhost on another port), the reconciler and every later call fail like an unavailable provider, and nothing is contacted', async () => {
      // The row as if the provider's name had come to resolve to a private address: the credentials are rewritten
      // to point at the canary, which would answer exactly like the provider.
      const resolver = t.app.get(NeonAuthIntegrationResolver);
      const credentials = { ...resolver.credentialsOf(integration), baseUrl: `http://localhost:${canary.port}` };
      await t.app
        .get(DataSource)
        .getRepository(NeonAuthIntegrationEntity)
        .update({ id: integration.id }, { credentialsEncrypted: resolver.sealSecrets(integration.id, credentials, null).credentialsEncrypted, baseUrl: credentials.baseUrl });
      const stored = await resolver.findForBranch(p.projectId, p.defaultBranchId);
      const from = recorder.attempts.length;
      const reached = canary.connections;

      const err = await t.app.get(SyncReconcilerService).reconcile(stored).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderDestinationRefused);
      expect(err).toBeInstanceOf(ProviderUnavailable);
      // The stored error (which the sync status may show) names the host the URL gave, never what it resolved to.
      expect(err).toMatchObject({ reason: expect.stringContaining('127.0.0.1') });
      const lastError = (await t.app.get(SyncReconcilerService).lastReconciliation(integration.id))?.lastError;
      expect(lastError).toMatch(/may not reach/);
      expect(lastError).not.toContain('127.0.0.1');
      // The scheduled run logs and goes on (no crash, nothing thrown).
      await expect(t.app.get(SyncReconcilerScheduler).runDue()).resolves.toEqual(expect.any(Number));
      // The users API and the on-demand reconcile answer as for a provider that is down.
      const users = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/users`;
      const created = await admin.post(users, { email: uniqueEmail('ssrf') });
      expect({ status: created.status, code: created.body.code }).toEqual({ status: 503, code: 'AUTH_PROVIDER_UNAVAILABLE' });
      const reconciled = await admin.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/sync`);
      expect({ status: reconciled.status, code: reconciled.body.code }).toEqual({ status: 503, code: 'AUTH_PROVIDER_UNAVAILABLE' });

      expect(canary.connections).toBe(reached);
      expect(recorder.attempts.slice(from).filter((a) => a.port === canary.port)).toEqual([]);
    });
  });

  describe('DNS rebinding (a resolver injected through OutboundHttp\'s seam)', () => {
    const host = 'provider.rebind.test';
    const opened: OutboundHttp[] = [];
    afterAll(async () => {
      await Promise.all(opened.map((o) => o.onApplicationShutdown()));
    });
    const adapterWith = (outbound: OutboundHttp) => {
      opened.push(outbound);
      return new StackProviderAdapter(t.config, t.app.get(SecretsService), undefined, outbound);
    };

    it('a name that answers a public IP at validation and 127.0.0.1 at connect is refused at connect', async () => {
      const asked: string[] = [];
      const rebinding: OutboundResolver = async (name) => {
        asked.push(name);
        return asked.length === 1 ? [{ address: '93.184.215.14', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
      };
      const outbound = new OutboundHttp(outboundPolicyForConfig(t.config), { resolver: rebinding });
      const reached = canary.connections;
      const url = `http://${host}:${canary.port}`;
      await expect(outbound.assertAllowed(url)).resolves.toBeUndefined(); // validation: a public address
      const err = await adapterWith(outbound)
        .verifyConnection({ baseUrl: url, projectId: own.projectId, secretServerKey: own.secretServerKey })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderDestinationRefused);
      expect(asked).toEqual([host, host]); // resolved again when connecting, and that answer was checked
      expect(canary.connections).toBe(reached);
    });

    it('control: the connection really goes where the injected resolver says (an allowed name reaches the canary)', async () => {
      const before = canary.connections;
      const pinned = new OutboundHttp(new OutboundUrlPolicy({ allow: parseOutboundAllowList(host).entries }), {
        resolver: async () => [{ address: '127.0.0.1', family: 4 }],
      });
      await expect(
        adapterWith(pinned).verifyConnection({ baseUrl: `http://${host}:${canary.port}`, projectId: own.projectId, secretServerKey: own.secretServerKey }),
      ).resolves.toBeUndefined();
      expect(canary.connections).toBeGreaterThan(before);
    });
  });
});
