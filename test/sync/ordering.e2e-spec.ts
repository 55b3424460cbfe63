// Sync engine: deliveries out of order (Svix does not order them), late events after a deletion, and the
// receiver's group commit (one bad event in a concurrent batch fails alone).
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { TestApp } from '../helpers/test-app.js';
import { uniqueEmail, type EnabledAuth } from '../neon-auth/users-helpers.js';
import { deliver, inbox, providerApi, signed, syncProjectFixture, waitFor } from './receiver-helpers.js';

interface Row {
  id: string;
  name: string | null;
  raw_json: Record<string, unknown>;
  deleted_at: Date | null;
}

describe('sync engine: ordering', () => {
  let t: TestApp;
  let auth: EnabledAuth;
  let integration: { id: string; secret: string };
  let client: pg.Client;

  const row = async (id: string): Promise<Row | undefined> => (await client.query<Row>('SELECT * FROM neon_auth.users_sync WHERE id = $1', [id])).rows[0];
  const appliedMessage = (messageId: string) =>
    waitFor(async () => (await inbox(t, integration.id)).find((r) => r.message_id === messageId && r.status === 'applied'), 10_000, 5);

  const fixture = syncProjectFixture('sync ordering');
  beforeAll(() => ({ t, auth, integration, client } = fixture));

  it('an older update delivered after a newer one is corrected to the provider state by a confirmation', async () => {
    const provider = providerApi(t, auth);
    const created = await provider.createUser({ primary_email: uniqueEmail('order'), display_name: 'First' }).expect(201);
    const id = created.body.id as string;
    const older = (await provider.updateUser(id, { display_name: 'Older' }).expect(200)).body as Record<string, unknown>;
    const newer = (await provider.updateUser(id, { display_name: 'Newer' }).expect(200)).body as Record<string, unknown>;
    await waitFor(async () => (await row(id))?.name === 'Newer', 10_000, 5);

    // A transport that reorders: the older state arrives last (as a late Svix retry would).
    const late = signed(integration.secret, { type: 'user.updated', data: older });
    await deliver(t, integration.id, late).expect(204);
    await appliedMessage(late.headers['svix-id']);
    // Whatever it showed for a moment, users_sync settles on what the provider has.
    await waitFor(async () => (await row(id))?.name === 'Newer', 10_000, 10);
    const settled = await row(id);
    expect(settled!.raw_json).toEqual(newer);
  });

  it('a create or update that arrives after the deletion never revives the user, not even for a moment', async () => {
    const provider = providerApi(t, auth);
    const created = await provider.createUser({ primary_email: uniqueEmail('gone'), display_name: 'Gone soon' }).expect(201);
    const id = created.body.id as string;
    const stale = (await provider.updateUser(id, { display_name: 'Stale' }).expect(200)).body as Record<string, unknown>;
    await provider.deleteUser(id).expect(200);
    await waitFor(async () => (await row(id))?.deleted_at != null, 10_000, 5);

    for (const event of [{ type: 'user.updated', data: stale }, { type: 'user.created', data: created.body }]) {
      const d = signed(integration.secret, event);
      await deliver(t, integration.id, d).expect(204);
      await appliedMessage(d.headers['svix-id']);
      expect((await row(id))!.deleted_at).not.toBeNull();
    }
  });

  it('a delete that arrives before its user was ever seen leaves a tombstone the late create cannot revive', async () => {
    const id = randomUUID();
    const del = signed(integration.secret, { type: 'user.deleted', data: { id, teams: [] } });
    await deliver(t, integration.id, del).expect(204);
    await appliedMessage(del.headers['svix-id']);
    const user = { ...(await providerApi(t, auth).createUser({ primary_email: uniqueEmail('tomb') }).expect(201)).body, id };
    const create = signed(integration.secret, { type: 'user.created', data: user });
    await deliver(t, integration.id, create).expect(204);
    await appliedMessage(create.headers['svix-id']);
    const r = await row(id);
    expect(r!.deleted_at).not.toBeNull();
  });

  it('concurrent deliveries are committed together; one event jsonb cannot hold fails alone with a 400', async () => {
    const before = (await inbox(t, integration.id)).length;
    const template = (await providerApi(t, auth).createUser({ primary_email: uniqueEmail('batch') }).expect(201)).body as Record<string, unknown>;
    await waitFor(async () => (await inbox(t, integration.id)).length > before, 10_000, 5); // the provider's own delivery
    const base = (await inbox(t, integration.id)).length;
    const good = Array.from({ length: 40 }, (_, i) => signed(integration.secret, { type: 'user.created', data: { ...template, id: randomUUID(), display_name: `Batch ${i}` } }));
    const badId = randomUUID();
    // Valid JSON (and a valid signature), but PostgreSQL's jsonb refuses the NUL character.
    const bad = signed(integration.secret, null, { body: `{"type":"user.created","data":${JSON.stringify({ ...template, id: badId }).replace('"display_name":null', '"display_name":"nul \\u0000 here"')}}` });
    expect(bad.body).toContain('\\u0000');
    const answers = await Promise.all([...good.slice(0, 20), bad, ...good.slice(20)].map((d) => deliver(t, integration.id, d)));
    expect(answers.filter((a) => a.status === 204)).toHaveLength(40);
    const refused = answers.find((a) => a.status !== 204)!;
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBeDefined();
    const stored = await inbox(t, integration.id);
    expect(stored.length - base).toBe(40);
    expect(stored.some((r) => r.message_id === bad.headers['svix-id'])).toBe(false);
    for (const d of good) await appliedMessage(d.headers['svix-id']);
    expect(await row(badId)).toBeUndefined();
  });
});
