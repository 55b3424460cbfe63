import { webhookEvents } from '@stackframe/stack-shared/dist/interface/webhooks';
import request from 'supertest';
import { Webhook } from 'svix';
import { SecretsService } from '../../src/common/secrets.js';
import { integrationClientCredentials } from '../../src/stack-auth/stack-auth.config.js';
import type { StackTestProject } from '../helpers/stack-auth.js';
import type { TestApp } from '../helpers/test-app.js';
import type { ReceivedRequest } from './webhooks-receiver.js';

/** Registers a webhook endpoint through the integration API (admin key + client credentials). */
export async function registerWebhook(t: TestApp, p: StackTestProject, url: string): Promise<string> {
  const { clientId, clientSecret } = integrationClientCredentials(t.config, t.app.get(SecretsService));
  const res = await request(`${t.baseUrl}/stack-auth/api/v1`)
    .post('/integrations/neon/webhooks')
    .set({
      'x-stack-access-type': 'admin',
      'x-stack-project-id': p.projectId,
      'x-stack-super-secret-admin-key': p.superSecretAdminKey,
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    })
    .send({ url })
    .expect(200);
  return res.body.secret as string;
}

export interface WebhookEvent {
  type: string;
  data: { id: string; [k: string]: unknown };
}

/** svix verification of a received request (throws when the signature or timestamp is bad). */
export function verifyReceived(secret: string, r: ReceivedRequest): WebhookEvent {
  return new Webhook(secret).verify(r.rawBody, {
    'svix-id': String(r.headers['svix-id']),
    'svix-timestamp': String(r.headers['svix-timestamp']),
    'svix-signature': String(r.headers['svix-signature']),
  }) as WebhookEvent;
}

/** Validates an event's data with the schema stack-shared exports for its type. */
export async function validateEvent(event: WebhookEvent): Promise<void> {
  const def = webhookEvents.find((e) => e.type === event.type);
  if (!def) throw new Error(`no webhookEvents schema for ${event.type}`);
  await def.schema.validate(event.data, { strict: true });
}

/** The user id a delivery is about (every user event's data has `id`). */
export function userOf(r: ReceivedRequest): string {
  return (JSON.parse(r.rawBody) as WebhookEvent).data.id;
}
