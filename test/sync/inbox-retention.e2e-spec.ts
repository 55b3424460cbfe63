// The inbox's retention rule: applied events go after SYNC_INBOX_RETENTION_DAYS, applied deletions after
// SYNC_INBOX_DELETION_RETENTION_DAYS (no row about a deleted user is kept forever), pending rows and dead letters
// stay. A create or update delivered after its user's deletion was pruned still cannot revive the user.
import pg from 'pg';
import { DataSource } from 'typeorm';
import { SyncInboxStore } from '../../src/sync/inbox-store.js';
import type { TestApp } from '../helpers/test-app.js';
import { uniqueEmail, type EnabledAuth } from '../neon-auth/users-helpers.js';
import { deliver, inbox, providerApi, signed, syncProjectFixture, waitFor } from './receiver-helpers.js';

describe('sync inbox retention', () => {
  let t: TestApp;
  let auth: EnabledAuth;
  let integration: { id: string; secret: string };
  let client: pg.Client;

  const row = async (id: string) =>
    (await client.query<{ id: string; name: string | null; deleted_at: Date | null }>('SELECT id, name, deleted_at FROM neon_auth.users_sync WHERE id = $1', [id])).rows[0];
  const userRows = async (userId: string) => (await inbox(t, integration.id)).filter((r) => (r as unknown as { user_id: string }).user_id === userId);
  const age = (userId: string, days: number) =>
    t.app.get(DataSource).query(`UPDATE sync_inbox SET received_at = received_at - make_interval(days => $3) WHERE integration_id = $1 AND user_id = $2`, [
      integration.id,
      userId,
      days,
    ]);
  const applied = (messageId: string) =>
    waitFor(async () => (await inbox(t, integration.id)).find((r) => r.message_id === messageId && r.status === 'applied'), 10_000, 5);

  /** A user made, changed and deleted in the provider, all of it applied to users_sync; answers its id and last state. */
  async function deletedUser(label: string): Promise<{ id: string; stale: Record<string, unknown> }> {
    const provider = providerApi(t, auth);
    const id = (await provider.createUser({ primary_email: uniqueEmail(label), display_name: label }).expect(201)).body.id as string;
    const stale = (await provider.updateUser(id, { display_name: `${label} renamed` }).expect(200)).body as Record<string, unknown>;
    await provider.deleteUser(id).expect(200);
    await waitFor(async () => (await row(id))?.deleted_at != null, 10_000, 5);
    await waitFor(async () => (await userRows(id)).length === 3 && (await userRows(id)).every((r) => r.status === 'applied'), 10_000, 5);
    return { id, stale };
  }

  const fixture = syncProjectFixture('inbox retention', { SYNC_INBOX_RETENTION_DAYS: '7', SYNC_INBOX_DELETION_RETENTION_DAYS: '30' });
  beforeAll(() => ({ t, auth, integration, client } = fixture));

  it('prunes events after 7 days and deletions after 30; younger deletions and dead letters stay', async () => {
    const old = await deletedUser('old');
    const recent = await deletedUser('recent');
    const live = (await providerApi(t, auth).createUser({ primary_email: uniqueEmail('live'), display_name: 'live' }).expect(201)).body.id as string;
    await waitFor(async () => (await userRows(live)).some((r) => r.status === 'applied'), 10_000, 5);
    await age(old.id, 31);
    await age(recent.id, 8);
    await age(live, 31);
    // A dead letter and a pending row of the same age are an admin's and the applier's: never pruned.
    await t.app.get(DataSource).query(`UPDATE sync_inbox SET status = 'dead' WHERE integration_id = $1 AND user_id = $2`, [integration.id, live]);

    await t.app.get(SyncInboxStore).pruneExpired();

    expect(await userRows(old.id)).toEqual([]);
    expect((await userRows(recent.id)).map((r) => r.event_type)).toEqual(['user.deleted']);
    expect((await userRows(live)).map((r) => r.status)).toEqual(['dead']);
    // users_sync keeps the soft-deleted rows: the inbox is not where deletions live.
    expect((await row(old.id))!.deleted_at).not.toBeNull();
  });

  it('a late create or update of a user whose deletion was pruned does not revive it, not even for a moment', async () => {
    const { id, stale } = await deletedUser('late');
    // What the rule does 30 days on (done directly, so this checks the guard on its own).
    await t.app.get(DataSource).query(`DELETE FROM sync_inbox WHERE integration_id = $1 AND user_id = $2`, [integration.id, id]);

    for (const event of [{ type: 'user.updated', data: stale }, { type: 'user.created', data: { ...stale, display_name: 'late' } }]) {
      const d = signed(integration.secret, event);
      await deliver(t, integration.id, d).expect(204);
      await applied(d.headers['svix-id']);
      expect((await row(id))!.deleted_at).not.toBeNull();
    }
    // The provider, asked to confirm, has no such user: the row stays deleted.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await row(id)).toMatchObject({ name: 'late renamed' });
    expect((await row(id))!.deleted_at).not.toBeNull();
  });

  it('an update of a live user whose history was pruned is applied as before', async () => {
    const provider = providerApi(t, auth);
    const id = (await provider.createUser({ primary_email: uniqueEmail('kept'), display_name: 'kept' }).expect(201)).body.id as string;
    await waitFor(async () => (await row(id))?.name === 'kept', 10_000, 5);
    await age(id, 8);
    await t.app.get(SyncInboxStore).pruneExpired();
    expect(await userRows(id)).toEqual([]);
    await provider.updateUser(id, { display_name: 'kept renamed' }).expect(200);
    await waitFor(async () => (await row(id))?.name === 'kept renamed', 10_000, 5);
    expect((await row(id))!.deleted_at).toBeNull();
  });
});
