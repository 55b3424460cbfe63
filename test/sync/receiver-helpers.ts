// Helpers of the sync engine specs: the embedded Stack provider's server API, signed deliveries, polling.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Webhook } from 'svix';
import { DataSource } from 'typeorm';
import { NeonAuthIntegrationEntity } from '../../src/neon-auth/integrations/integration.entity.js';
import { NeonAuthIntegrationResolver } from '../../src/neon-auth/integrations/integration-resolver.js';
import pg from 'pg';
import { enableAuth, newAuthProject, type AuthProject, type EnabledAuth } from '../neon-auth/users-helpers.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** A request to the provider's server API with the secret server key the enable answered. */
export function providerApi(t: TestApp, auth: EnabledAuth) {
  const headers = {
    'x-stack-access-type': 'server',
    'x-stack-project-id': auth.auth_provider_project_id,
    'x-stack-secret-server-key': auth.secret_server_key,
  };
  const base = request(`${t.baseUrl}/stack-auth/api/v1`);
  return {
    createUser: (body: Record<string, unknown>) => base.post('/users').set(headers).send(body),
    updateUser: (id: string, body: Record<string, unknown>) => base.patch(`/users/${id}`).set(headers).send(body),
    deleteUser: (id: string) => base.delete(`/users/${id}`).set(headers),
  };
}

/** The integration of a branch and its decrypted webhook signing secret. */
export async function integrationOf(t: TestApp, projectId: string, branchId: string): Promise<{ id: string; secret: string }> {
  const integration = await t.app.get(DataSource).getRepository(NeonAuthIntegrationEntity).findOneByOrFail({ projectId, branchId });
  const secret = t.app.get(NeonAuthIntegrationResolver).webhookSecretOf(integration);
  if (!secret) throw new Error('integration has no webhook secret');
  return { id: integration.id, secret };
}

/** What the sync specs work on: an app, a project with Neon Auth (stack) on its default branch, and its database. */
export interface SyncProject {
  t: TestApp;
  project: AuthProject;
  auth: EnabledAuth;
  integration: { id: string; secret: string };
  /** A connection to the branch database, as its owner. */
  client: pg.Client;
}

/**
 * Registers the beforeAll and afterAll of a sync spec: a test app started with `env`, a project named `label` with
 * Neon Auth enabled (stack) on its default branch, its integration, and a connection to its database. The fields are
 * set once the beforeAll has run.
 */
export function syncProjectFixture(label: string, env: Record<string, string> = {}): SyncProject {
  const fixture = {} as SyncProject;
  beforeAll(async () => {
    fixture.t = await startTestApp(env);
    fixture.project = await newAuthProject(fixture.t, label);
    fixture.auth = await enableAuth(fixture.t, fixture.project.projectId, fixture.project.defaultBranchId, 'stack');
    fixture.integration = await integrationOf(fixture.t, fixture.project.projectId, fixture.project.defaultBranchId);
    fixture.client = new pg.Client({ connectionString: fixture.project.uri });
    await fixture.client.connect();
  });
  afterAll(async () => {
    await fixture.client?.end();
    await fixture.t?.close();
  });
  return fixture;
}

export interface Delivery {
  body: string;
  headers: Record<string, string>;
}

/** A delivery signed as svix signs it (`at` defaults to now). */
export function signed(secret: string, event: unknown, options: { messageId?: string; at?: Date; body?: string } = {}): Delivery {
  const messageId = options.messageId ?? `msg_${randomUUID().replace(/-/g, '')}`;
  const at = options.at ?? new Date();
  const body = options.body ?? JSON.stringify(event);
  const signature = new Webhook(secret).sign(messageId, at, body);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'svix-id': messageId,
      'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
      'svix-signature': signature,
    },
  };
}

export function deliver(t: TestApp, integrationId: string, d: Delivery) {
  return request(t.baseUrl).post(`/webhooks/neon-auth/${integrationId}`).set(d.headers).send(d.body);
}

export interface InboxRow {
  id: string;
  message_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_error: string | null;
  applied_at: Date | null;
  received_at: Date;
}

export async function inbox(t: TestApp, integrationId: string): Promise<InboxRow[]> {
  return t.app.get(DataSource).query(`SELECT * FROM sync_inbox WHERE integration_id = $1 ORDER BY id`, [integrationId]);
}

/** Polls `probe` (every `everyMs`) until it answers a truthy value; throws after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, everyMs = 2): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
