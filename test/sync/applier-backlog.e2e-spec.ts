// A backlog larger than one batch: the applier's first batch, then its pipeline (batch N written to the branch
// database while N+1 is read and N-1 is marked). Every row is applied or skipped once, a late create of a user
// whose deletion is no longer in the inbox does not revive it, and a user's two events in different batches end
// in the later state.
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { TestApp } from '../helpers/test-app.js';
import { deliver, signed, syncProjectFixture, waitFor, type SyncProject } from './receiver-helpers.js';

/** Rows per apply batch (SyncSettings.batchSize). */
const BATCH = 2000;
const ROWS = BATCH * 2 + 700;

describe('sync applier: a backlog of several batches', () => {
  let f: SyncProject;
  let t: TestApp;
  const fixture = syncProjectFixture('applier backlog');
  beforeAll(() => {
    f = fixture;
    t = f.t;
  });

  const user = (id: string, name: string) => ({ id, display_name: name, primary_email: `${id}@example.com`, signed_up_at_millis: Date.now() });

  it('applies every row once, in order per user, holding back a user deleted before', async () => {
    const nonce = randomUUID().slice(0, 8);
    const gone = `gone-${nonce}`;
    const twice = `twice-${nonce}`;
    // The deleted user's row, whose deletion the inbox no longer holds (pruned).
    await f.client.query(`INSERT INTO neon_auth.users_sync (raw_json, updated_at, deleted_at) VALUES ($1, now(), now())`, [JSON.stringify({ id: gone, display_name: 'Gone' })]);

    const events: { type: string; data: Record<string, unknown> }[] = [];
    for (let i = 0; i < ROWS; i++) events.push({ type: 'user.created', data: user(`bl-${nonce}-${String(i).padStart(5, '0')}`, `User ${i}`) });
    events[100] = { type: 'user.created', data: user(twice, 'Twice, first') };
    events[BATCH + 1500] = { type: 'user.created', data: user(gone, 'Gone, revived?') };
    events[BATCH * 2 + 300] = { type: 'user.updated', data: user(twice, 'Twice, second') };
    for (const i of [7, BATCH + 7, BATCH * 2 + 7]) events[i] = { type: 'team.created', data: { id: `team-${nonce}-${i}` } };

    const db = t.app.get(DataSource);
    await db.transaction(async (m) => {
      await m.query(
        `INSERT INTO sync_inbox (integration_id, message_id, event_type, user_id, payload)
         SELECT $1, m, e, u, p::jsonb FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS x (m, e, u, p)`,
        [
          f.integration.id,
          events.map((_, i) => `msg_backlog_${nonce}_${i}`),
          events.map((e) => e.type),
          events.map((e) => e.data.id as string),
          events.map((e) => JSON.stringify(e)),
        ],
      );
    });
    // One delivery kicks the applier.
    const kickId = `kick-${nonce}`;
    await deliver(t, f.integration.id, signed(f.integration.secret, { type: 'user.created', data: user(kickId, 'Kick') })).expect(204);

    const counts = async () =>
      (
        await db.query<{ status: string; attempts: number; n: number }[]>(
          `SELECT status, attempts, count(*)::int AS n FROM sync_inbox WHERE integration_id = $1 AND message_id LIKE $2 GROUP BY 1, 2 ORDER BY 1, 2`,
          [f.integration.id, `msg_backlog_${nonce}_%`],
        )
      ).map((r) => `${r.status}/${r.attempts}: ${r.n}`);
    await waitFor(async () => !(await counts()).some((c) => c.startsWith('pending')), 30_000, 20);
    expect(await counts()).toEqual([`applied/1: ${ROWS - 3}`, 'skipped/1: 3']);

    const rows = async (where: string, params: unknown[]) =>
      (await f.client.query<{ id: string; name: string | null; deleted: boolean }>(`SELECT id, name, deleted_at IS NOT NULL AS deleted FROM neon_auth.users_sync WHERE ${where} ORDER BY id`, params)).rows;
    await waitFor(async () => (await rows('id = $1', [kickId])).length === 1, 10_000, 20);
    const [live] = (await f.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM neon_auth.users_sync WHERE id LIKE $1 AND deleted_at IS NULL`, [`bl-${nonce}-%`])).rows;
    expect(live.n).toBe(ROWS - 3 - 3);
    // Not revived, not rewritten: the late create was held back (and left to the provider to confirm).
    expect(await rows('id = $1', [gone])).toEqual([{ id: gone, name: 'Gone', deleted: true }]);
    // Two events in different batches: the later one's state (a confirmation may then mark it deleted, since the
    // provider has no such user; it keeps the last state it had).
    expect((await rows('id = $1', [twice]))[0].name).toBe('Twice, second');
  });
});
