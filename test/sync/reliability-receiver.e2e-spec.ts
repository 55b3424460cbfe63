// Sync engine reliability (issue 5): rejected deliveries store nothing. Complements receiver.e2e-spec.ts
// (forged and missing signatures, tampered bodies, timestamps outside 5 minutes with fresh message ids,
// unknown integration ids, a few malformed bodies, another integration's signature) with: replays of
// an accepted delivery, re-timestamped signatures, more signed bodies that are not events, a body over
// the limit, and the id of an integration that was disabled. "Nothing stored" is checked on the whole
// sync_inbox (every integration), and the accepted row is checked unchanged.
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { enableAuth, newAuthProject, type AuthProject } from '../neon-auth/users-helpers.js';
import { deliver, integrationOf, signed, waitFor, type Delivery } from './receiver-helpers.js';

interface StoredRow {
  id: string;
  integration_id: string;
  message_id: string;
  status: string;
  attempts: number;
  received_at: Date;
  payload: unknown;
}

describe('sync reliability: rejected deliveries store nothing', () => {
  let t: TestApp;
  let project: AuthProject;
  let integration: { id: string; secret: string };
  let before: StoredRow[];

  const allInbox = async (): Promise<StoredRow[]> =>
    t.app.get(DataSource).query('SELECT id, integration_id, message_id, status, attempts, received_at, payload FROM sync_inbox ORDER BY id');
  const user = (name = 'Replayed') => ({ type: 'user.created', data: { id: randomUUID(), display_name: name, primary_email: null } });

  beforeAll(async () => {
    t = await startTestApp({ BODY_LIMIT: '64kb' });
    project = await newAuthProject(t, 'sync reliability receiver');
    await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
    integration = await integrationOf(t, project.projectId, project.defaultBranchId);
  });
  afterAll(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    before = await allInbox();
  });
  /** Nothing stored, nothing changed, anywhere in the inbox. */
  const expectNothingStored = async () => {
    expect(await allInbox()).toEqual(before);
  };

  it('an accepted delivery replayed later with its original (now stale) timestamp -> 401; the stored row is unchanged', async () => {
    const event = user();
    const messageId = `msg_replay_${randomUUID()}`;
    const original = signed(integration.secret, event, { messageId });
    await deliver(t, integration.id, original).expect(204);
    const row = await waitFor(async () => (await allInbox()).find((r) => r.message_id === messageId && r.status === 'applied'));
    before = await allInbox();

    // The same message as captured more than 5 minutes ago (signature and timestamp of that time).
    const stale = signed(integration.secret, event, { messageId, at: new Date(Date.now() - 6 * 60_000) });
    const res = await deliver(t, integration.id, stale).expect(401);
    expect(res.body.code).toBe('UNAUTHORIZED');
    // Its old signature with a fresh timestamp header: the signature covers the timestamp.
    await deliver(t, integration.id, { body: stale.body, headers: { ...stale.headers, 'svix-timestamp': original.headers['svix-timestamp'] } }).expect(401);
    await expectNothingStored();
    expect((await allInbox()).find((r) => r.message_id === messageId)).toEqual(row);
  });

  it('a captured delivery replayed with a new message id (signature over the old id) -> 401, nothing stored', async () => {
    const d = signed(integration.secret, user());
    await deliver(t, integration.id, { body: d.body, headers: { ...d.headers, 'svix-id': `msg_other_${randomUUID()}` } }).expect(401);
    const noId: Delivery = { body: d.body, headers: { ...d.headers } };
    delete noId.headers['svix-id'];
    await deliver(t, integration.id, noId).expect(401);
    await deliver(t, integration.id, { body: d.body, headers: { ...d.headers, 'svix-timestamp': 'yesterday' } }).expect(401);
    await expectNothingStored();
  });

  it('valid signatures over bodies that are not events -> 400, nothing stored', async () => {
    const bodies: [string, string][] = [
      ['empty body', ''],
      ['JSON null', 'null'],
      ['a JSON string', '"user.created"'],
      ['a JSON number', '42'],
      ['an empty object', '{}'],
      ['type not a string', JSON.stringify({ type: 7, data: { id: 'x' } })],
      ['empty type', JSON.stringify({ type: '', data: { id: 'x' } })],
      ['data an array', JSON.stringify({ type: 'user.updated', data: [{ id: 'x' }] })],
      ['data null', JSON.stringify({ type: 'user.updated', data: null })],
      ['user id not a string', JSON.stringify({ type: 'user.created', data: { id: 123 } })],
      ['user id empty', JSON.stringify({ type: 'user.updated', data: { id: '' } })],
      ['signed_up_at_millis not a number', JSON.stringify({ type: 'user.created', data: { id: randomUUID(), signed_up_at_millis: 'soon' } })],
      ['a NUL character jsonb cannot hold', `{"type":"user.created","data":{"id":"${randomUUID()}","display_name":"a\\u0000b"}}`],
      ['deleted without an id', JSON.stringify({ type: 'user.deleted', data: { teams: [] } })],
      ['truncated JSON', JSON.stringify(user()).slice(0, 30)],
    ];
    const statuses: Record<string, number> = {};
    for (const [label, body] of bodies) {
      const res = await deliver(t, integration.id, signed(integration.secret, null, { body }));
      statuses[label] = res.status;
    }
    expect(statuses).toEqual(Object.fromEntries(bodies.map(([label]) => [label, 400])));
    await expectNothingStored();
  });

  it('a signed body over BODY_LIMIT -> 400 PAYLOAD_TOO_LARGE, nothing stored', async () => {
    const big = { type: 'user.created', data: { id: randomUUID(), display_name: 'Big', client_metadata: { blob: 'x'.repeat(80 * 1024) } } };
    const res = await deliver(t, integration.id, signed(integration.secret, big));
    // The product answers oversize bodies 400 PAYLOAD_TOO_LARGE everywhere (test/e2e/errors.e2e-spec.ts).
    expect([res.status, res.body.code]).toEqual([400, 'PAYLOAD_TOO_LARGE']);
    await expectNothingStored();
  });

  it('the id of an integration disabled since (signed with its old secret) -> 404, nothing stored', async () => {
    const other = await newAuthProject(t, 'sync reliability disabled');
    await enableAuth(t, other.projectId, other.defaultBranchId, 'stack');
    const gone = await integrationOf(t, other.projectId, other.defaultBranchId);
    await api(t, t.adminKey).delete(`/projects/${other.projectId}/branches/${other.defaultBranchId}/auth`).expect(200);
    before = await allInbox();
    const res = await deliver(t, gone.id, signed(gone.secret, user('After disable')));
    expect(res.status).toBe(404);
    // Upper-case spelling of an unknown id, and an id that is not a UUID at all.
    await deliver(t, randomUUID().toUpperCase(), signed(integration.secret, user())).expect(404);
    await deliver(t, `${integration.id}x`, signed(integration.secret, user())).expect(404);
    await expectNothingStored();
  });

  it('every rejection above left the receiver working: a valid delivery is still accepted and applied', async () => {
    const d = signed(integration.secret, user('Still fine'));
    await deliver(t, integration.id, d).expect(204);
    await waitFor(async () => (await allInbox()).find((r) => r.message_id === d.headers['svix-id'])?.status === 'applied');
  });
});
