// The users_sync writer (the sync engine's way into branch databases) against real branch databases.
import { UsersSyncMissingError, UsersSyncRowError } from '../../src/neon-auth/users-sync/users-sync.errors.js';
import { NeonAuthUsersSyncStore } from '../../src/neon-auth/users-sync/users-sync.store.js';
import { BranchDatabasesService, type BranchDatabase } from '../../src/projects/branch-databases/branch-databases.service.js';
import { MAX_ROWS_PER_STATEMENT, prepareRow, type UsersSyncRow } from '../../src/neon-auth/users-sync/users-sync.statements.js';
import { api, createProject, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function user(id: string, version: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    display_name: `${id} v${version}`,
    primary_email: `${id}@example.com`,
    primary_email_verified: version > 1,
    signed_up_at_millis: T0,
    client_metadata: { version },
    server_metadata: { roles: version > 2 ? ['admin'] : [] },
    ...extra,
  };
}

interface StoredRow {
  id: string;
  name: string | null;
  raw_json: Record<string, unknown>;
  updated_at: string | null;
  deleted_at: string | null;
}

async function rowsOf(db: BranchDatabase, where = 'TRUE'): Promise<StoredRow[]> {
  const rows = await adminQuery<{ id: string; name: string | null; raw_json: Record<string, unknown>; updated_at: Date | null; deleted_at: Date | null }>(
    `SELECT id, name, raw_json, updated_at, deleted_at FROM neon_auth.users_sync WHERE ${where} ORDER BY id COLLATE "C"`,
    [],
    db.physicalName,
  );
  return rows.map((r) => ({ ...r, updated_at: r.updated_at?.toISOString() ?? null, deleted_at: r.deleted_at?.toISOString() ?? null }));
}

/** Deterministic PRNG (mulberry32), so a failing order can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('users_sync writer', () => {
  let t: TestApp;
  let admin: Api;
  let svc: NeonAuthUsersSyncStore;
  let projectId: string;
  let mainId: string;
  let main: BranchDatabase;

  let dbCounter = 0;
  async function provisionedDatabase(): Promise<BranchDatabase> {
    const name = `writer_${++dbCounter}`;
    await admin.post(`/projects/${projectId}/branches/${mainId}/databases`, { database: { name, owner_name: 'neondb_owner' } }).expect(201);
    const db = await t.app.get(BranchDatabasesService).resolve(projectId, mainId, name);
    await svc.provision(db);
    return db;
  }

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    svc = t.app.get(NeonAuthUsersSyncStore);
    const created = await createProject(admin, { name: 'auth-writer' });
    projectId = created.project.id;
    mainId = created.branch.id;
    main = await t.app.get(BranchDatabasesService).resolve(projectId, mainId);
    await svc.provision(main);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('writes raw_json, updated_at and deleted_at; the generated columns follow raw_json', async () => {
    const result = await svc.upsertUsers(main, [
      { raw_json: user('basic-1', 1), updated_at: at(1) },
      { raw_json: user('basic-2', 1), updated_at: new Date(T0 + 2000), deleted_at: new Date(T0 + 2000) },
      { raw_json: { id: 'basic-3' }, updated_at: '2026-01-01T00:00:03.000123+00:00', deleted_at: null },
    ]);
    expect(result).toEqual({ written: 3, skipped: 0 });
    const rows = await adminQuery<Record<string, unknown>>(
      `SELECT id, name, email, created_at, updated_at, deleted_at, to_char(updated_at, 'US') AS micros FROM neon_auth.users_sync WHERE id LIKE 'basic-%' ORDER BY id`,
      [],
      main.physicalName,
    );
    expect(rows).toEqual([
      { id: 'basic-1', name: 'basic-1 v1', email: 'basic-1@example.com', created_at: new Date(T0), updated_at: new Date(T0 + 1000), deleted_at: null, micros: '000000' },
      { id: 'basic-2', name: 'basic-2 v1', email: 'basic-2@example.com', created_at: new Date(T0), updated_at: new Date(T0 + 2000), deleted_at: new Date(T0 + 2000), micros: '000000' },
      // Timestamps given as strings keep PostgreSQL's microseconds.
      { id: 'basic-3', name: null, email: null, created_at: null, updated_at: new Date(T0 + 3000), deleted_at: null, micros: '000123' },
    ]);
  });

  it('converges to the newest state of every user, whatever the order, batching, duplication and concurrency of the events', async () => {
    // 150 users x 4 versions; a third of them end deleted; one version per user is sent three times.
    const events: UsersSyncRow[] = [];
    const expected = new Map<string, { raw_json: Record<string, unknown>; updated_at: string; deleted_at: string | null }>();
    for (let u = 0; u < 150; u++) {
      const id = `conv-${String(u).padStart(3, '0')}`;
      for (let v = 1; v <= 4; v++) {
        const deleted = v === 4 && u % 3 === 0;
        const row = { raw_json: user(id, v), updated_at: at(u + v * 1000), deleted_at: deleted ? at(u + v * 1000) : null };
        events.push(row);
        if (v === 2) events.push(row, { ...row });
        if (v === 4) expected.set(id, { raw_json: row.raw_json, updated_at: row.updated_at, deleted_at: row.deleted_at });
      }
    }
    const want = [...expected.entries()].map(([id, s]) => ({ id, name: s.raw_json.display_name, ...s }));

    const orders: { label: string; apply: (db: BranchDatabase) => Promise<void> }[] = [
      {
        label: 'reverse, one call',
        apply: async (db) => void (await svc.upsertUsers(db, [...events].reverse())),
      },
      ...[11, 22].map((seed) => ({
        label: `shuffled (seed ${seed}), random batches of 1..40`,
        apply: async (db: BranchDatabase) => {
          const random = rng(seed);
          const shuffled = shuffle(events, random);
          for (let i = 0; i < shuffled.length; ) {
            const size = 1 + Math.floor(random() * 40);
            await svc.upsertUsers(db, shuffled.slice(i, i + size));
            i += size;
          }
        },
      })),
      {
        label: 'shuffled (seed 33), four concurrent writers',
        apply: async (db) => {
          const random = rng(33);
          const shuffled = shuffle(events, random);
          await Promise.all(
            [0, 1, 2, 3].map(async (w) => {
              const mine = shuffled.filter((_, i) => i % 4 === w);
              for (let i = 0; i < mine.length; i += 25) await svc.upsertUsers(db, mine.slice(i, i + 25));
            }),
          );
        },
      },
    ];
    for (const order of orders) {
      const db = await provisionedDatabase();
      await order.apply(db);
      const got = await rowsOf(db);
      expect({ order: order.label, rows: got }).toEqual({ order: order.label, rows: want });
    }
  });

  it('treats duplicates as harmless: a repeated batch writes nothing, repeats within a batch do not fail', async () => {
    const batch = [1, 2, 3].map((i) => ({ raw_json: user(`dup-${i}`, 1), updated_at: at(10) }));
    expect(await svc.upsertUsers(main, batch)).toEqual({ written: 3, skipped: 0 });
    expect(await svc.upsertUsers(main, batch)).toEqual({ written: 0, skipped: 3 });
    const repeated = [batch[0], batch[0], { ...batch[0] }, { raw_json: user('dup-4', 1), updated_at: at(10) }];
    expect(await svc.upsertUsers(main, repeated)).toEqual({ written: 1, skipped: 3 });
    // Same id twice in one call with different versions: the newer is kept, in either order.
    const older = { raw_json: user('dup-5', 1), updated_at: at(10) };
    const newer = { raw_json: user('dup-5', 2), updated_at: at(11) };
    expect(await svc.upsertUsers(main, [newer, older])).toEqual({ written: 1, skipped: 1 });
    expect((await rowsOf(main, `id = 'dup-5'`))[0]).toMatchObject({ name: 'dup-5 v2', updated_at: at(11) });
    expect(await svc.upsertUsers(main, [older, newer])).toEqual({ written: 0, skipped: 2 });
    expect(await svc.markDeleted(main, ['dup-1', 'dup-1'], at(20))).toEqual({ written: 1, skipped: 1 });
    expect(await svc.markDeleted(main, ['dup-1'], at(20))).toEqual({ written: 0, skipped: 1 });
  });

  it('never lets an older state overwrite a newer one', async () => {
    await svc.upsertUsers(main, [{ raw_json: user('old-1', 2), updated_at: at(20) }]);
    expect(await svc.upsertUsers(main, [{ raw_json: user('old-1', 1), updated_at: at(19) }])).toEqual({ written: 0, skipped: 1 });
    expect(await svc.upsertUsers(main, [{ raw_json: user('old-1', 1), updated_at: at(19), deleted_at: at(19) }])).toEqual({ written: 0, skipped: 1 });
    expect(await svc.markDeleted(main, ['old-1'], at(19))).toEqual({ written: 0, skipped: 1 });
    expect(await rowsOf(main, `id = 'old-1'`)).toEqual([{ id: 'old-1', name: 'old-1 v2', raw_json: user('old-1', 2), updated_at: at(20), deleted_at: null }]);
    // A row someone wrote without updated_at is replaced by any state.
    await adminQuery(`INSERT INTO neon_auth.users_sync (raw_json) VALUES ('{"id":"old-2","display_name":"by hand"}')`, [], main.physicalName);
    expect(await svc.upsertUsers(main, [{ raw_json: user('old-2', 1), updated_at: at(1) }])).toEqual({ written: 1, skipped: 0 });
  });

  it('keeps a soft delete when a late, older update arrives (delete via markDeleted or via a deleted row)', async () => {
    await svc.upsertUsers(main, [
      { raw_json: user('del-1', 1), updated_at: at(30) },
      { raw_json: user('del-2', 1), updated_at: at(30) },
    ]);
    expect(await svc.markDeleted(main, ['del-1'], at(32))).toEqual({ written: 1, skipped: 0 });
    expect(await svc.upsertUsers(main, [{ raw_json: user('del-2', 2), updated_at: at(32), deleted_at: at(32) }])).toEqual({ written: 1, skipped: 0 });
    // The update at 31 was made before the deletion at 32 but arrives after it.
    const late = await svc.upsertUsers(main, [
      { raw_json: user('del-1', 9), updated_at: at(31) },
      { raw_json: user('del-2', 9), updated_at: at(31) },
    ]);
    expect(late).toEqual({ written: 0, skipped: 2 });
    expect(await rowsOf(main, `id IN ('del-1', 'del-2')`)).toEqual([
      // markDeleted keeps the last known profile.
      { id: 'del-1', name: 'del-1 v1', raw_json: user('del-1', 1), updated_at: at(32), deleted_at: at(32) },
      { id: 'del-2', name: 'del-2 v2', raw_json: user('del-2', 2), updated_at: at(32), deleted_at: at(32) },
    ]);
  });

  it('keeps a delete that arrives before the create (tombstone), and decides same-instant ties for the deletion', async () => {
    expect(await svc.markDeleted(main, ['early-1'], at(40))).toEqual({ written: 1, skipped: 0 });
    expect(await rowsOf(main, `id = 'early-1'`)).toEqual([{ id: 'early-1', name: null, raw_json: { id: 'early-1' }, updated_at: at(40), deleted_at: at(40) }]);
    expect(await svc.upsertUsers(main, [{ raw_json: user('early-1', 1), updated_at: at(39) }])).toEqual({ written: 0, skipped: 1 });
    expect((await rowsOf(main, `id = 'early-1'`))[0].deleted_at).toBe(at(40));

    // An update and a deletion stamped with the same instant end deleted, in either arrival order.
    await svc.upsertUsers(main, [{ raw_json: user('tie-1', 1), updated_at: at(50) }]);
    await svc.markDeleted(main, ['tie-1', 'tie-2'], at(50));
    await svc.upsertUsers(main, [{ raw_json: user('tie-2', 1), updated_at: at(50) }]);
    await svc.upsertUsers(main, [
      { raw_json: user('tie-3', 1), updated_at: at(50), deleted_at: at(50) },
      { raw_json: user('tie-3', 2), updated_at: at(50) },
    ]);
    const ties = await rowsOf(main, `id LIKE 'tie-%'`);
    expect(ties.map((r) => [r.id, r.deleted_at])).toEqual([
      ['tie-1', at(50)],
      ['tie-2', at(50)],
      ['tie-3', at(50)],
    ]);
  });

  it('revives a deleted id only with a state strictly newer than the deletion (documented re-create rule)', async () => {
    await svc.upsertUsers(main, [{ raw_json: user('re-1', 1), updated_at: at(60) }]);
    await svc.markDeleted(main, ['re-1'], at(61));
    expect(await svc.upsertUsers(main, [{ raw_json: user('re-1', 2), updated_at: at(61) }])).toEqual({ written: 0, skipped: 1 });
    expect(await svc.upsertUsers(main, [{ raw_json: user('re-1', 3), updated_at: at(62) }])).toEqual({ written: 1, skipped: 0 });
    expect(await rowsOf(main, `id = 're-1'`)).toEqual([{ id: 're-1', name: 're-1 v3', raw_json: user('re-1', 3), updated_at: at(62), deleted_at: null }]);
  });

  it('upsertPreparedUnlessDeleted writes as upsertPrepared but holds back guarded users whose row is deleted, in every statement', async () => {
    const db = await provisionedDatabase();
    const prepared = (raw: Record<string, unknown>, seconds: number) => {
      const p = prepareRow({ raw_json: raw, updated_at: at(seconds) });
      if ('problem' in p) throw new Error(p.problem);
      return p;
    };
    await svc.upsertUsers(db, [
      { raw_json: user('guard-live', 1), updated_at: at(10) },
      { raw_json: user('guard-gone', 1), updated_at: at(10), deleted_at: at(11) },
      { raw_json: user('open-gone', 1), updated_at: at(10), deleted_at: at(11) },
    ]);
    // guard-gone (deleted) is held back whatever its version; open-gone is not guarded, so the ordering rule alone
    // decides (a newer state revives it); guard-live and guard-new have no deleted row and are written.
    const held = await svc.upsertPreparedUnlessDeleted(
      db,
      [prepared(user('guard-gone', 2), 50), prepared(user('guard-live', 2), 50), prepared(user('guard-new', 1), 50), prepared(user('open-gone', 2), 50)],
      new Set(['guard-gone', 'guard-live', 'guard-new']),
    );
    expect([...held]).toEqual(['guard-gone']);
    expect((await rowsOf(db, `id LIKE 'guard-%' OR id = 'open-gone'`)).map((r) => [r.id, r.name, r.deleted_at !== null])).toEqual([
      ['guard-gone', 'guard-gone v1', true],
      ['guard-live', 'guard-live v2', false],
      ['guard-new', 'guard-new v1', false],
      ['open-gone', 'open-gone v2', false],
    ]);

    // More rows than one statement carries: the held-back user is in the second statement, answered all the same.
    const many = Array.from({ length: MAX_ROWS_PER_STATEMENT + 10 }, (_, i) => prepared(user(`guard-bulk-${String(i).padStart(5, '0')}`, 1), 60));
    await svc.markDeleted(db, ['guard-bulk-02005'], at(70));
    const heldMany = await svc.upsertPreparedUnlessDeleted(db, many, new Set(many.map((r) => r.id)));
    expect([...heldMany]).toEqual(['guard-bulk-02005']);
    const [counts] = await adminQuery<{ live: number; deleted: number }>(
      `SELECT count(*) FILTER (WHERE deleted_at IS NULL)::int AS live, count(*) FILTER (WHERE deleted_at IS NOT NULL)::int AS deleted
         FROM neon_auth.users_sync WHERE id LIKE 'guard-bulk-%'`,
      [],
      db.physicalName,
    );
    expect(counts).toEqual({ live: MAX_ROWS_PER_STATEMENT + 9, deleted: 1 });
    expect((await rowsOf(db, `id = 'guard-bulk-02005'`))[0].raw_json).toEqual({ id: 'guard-bulk-02005' });
  });

  it('binds every value: ids and profiles full of SQL and quotes are stored verbatim', async () => {
    const nasty = [`x'); DROP TABLE neon_auth.users_sync; --`, `"quoted" id`, `$1 $$ \\ ' "`, 'ünïcödé-🙂'];
    await svc.upsertUsers(
      main,
      nasty.map((id) => ({ raw_json: user(id, 1, { display_name: `${id}'; SELECT 1; --` }), updated_at: at(70) })),
    );
    await svc.markDeleted(main, [nasty[0]], at(71));
    const rows = await adminQuery<{ id: string; name: string; deleted: boolean }>(
      `SELECT id, name, deleted_at IS NOT NULL AS deleted FROM neon_auth.users_sync WHERE id = ANY($1) ORDER BY id COLLATE "C"`,
      [nasty],
      main.physicalName,
    );
    expect(rows).toEqual(
      [...nasty].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map((id) => ({ id, name: `${id}'; SELECT 1; --`, deleted: id === nasty[0] })),
    );
  });

  it('checks every row first: one bad row fails the call with the rows named, and nothing is written', async () => {
    const good = { raw_json: user('valid-1', 1), updated_at: at(80) };
    const bad: unknown[] = [
      { raw_json: { display_name: 'no id' }, updated_at: at(80) },
      { raw_json: { id: '' }, updated_at: at(80) },
      { raw_json: { id: 42 }, updated_at: at(80) },
      { raw_json: ['not', 'an', 'object'], updated_at: at(80) },
      { raw_json: user('v-ms', 1, { signed_up_at_millis: 'yesterday' }), updated_at: at(80) },
      { raw_json: user('v-ms2', 1, { signed_up_at_millis: 1.5 }), updated_at: at(80) },
      { raw_json: user('v-nul', 1, { display_name: 'a\u0000b' }), updated_at: at(80) },
      { raw_json: user('v-upd', 1), updated_at: 'last tuesday' },
      { raw_json: user('v-upd2', 1) },
      { raw_json: user('v-del', 1), updated_at: at(80), deleted_at: new Date(NaN) },
      { raw_json: { id: 'x'.repeat(2000) }, updated_at: at(80) },
    ];
    const err = await svc.upsertUsers(main, [good, ...(bad as UsersSyncRow[])]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsersSyncRowError);
    expect((err as UsersSyncRowError).problems.map((p) => p.index)).toEqual(bad.map((_, i) => i + 1));
    expect((err as Error).message).toContain('row 1: raw_json.id must be a non-empty string');
    expect(await rowsOf(main, `id = 'valid-1'`)).toEqual([]);
    // A literal backslash followed by "u0000" is fine (it is not a NUL).
    expect(await svc.upsertUsers(main, [{ raw_json: user('v-bs', 1, { display_name: 'a\\u0000b' }), updated_at: at(80) }])).toEqual({ written: 1, skipped: 0 });
    await expect(svc.markDeleted(main, ['ok', ''], at(80))).rejects.toBeInstanceOf(UsersSyncRowError);
    await expect(svc.markDeleted(main, ['ok'], 'soon')).rejects.toThrow(/at must be an ISO-8601 timestamp/);
    expect(await rowsOf(main, `id = 'ok'`)).toEqual([]);
    expect(await svc.upsertUsers(main, [])).toEqual({ written: 0, skipped: 0 });
  });

  it('reports a database without users_sync as UsersSyncMissingError', async () => {
    const name = 'writer_unprovisioned';
    await admin.post(`/projects/${projectId}/branches/${mainId}/databases`, { database: { name, owner_name: 'neondb_owner' } }).expect(201);
    const db = await t.app.get(BranchDatabasesService).resolve(projectId, mainId, name);
    await expect(svc.upsertUsers(db, [{ raw_json: user('m-1', 1), updated_at: at(1) }])).rejects.toBeInstanceOf(UsersSyncMissingError);
    await expect(svc.markDeleted(db, ['m-1'], at(1))).rejects.toBeInstanceOf(UsersSyncMissingError);
  });

  it('writes 10,000 users in one call quickly, and a call larger than one statement can carry (65,535 parameters)', async () => {
    const db = await provisionedDatabase();
    const rows = (count: number, version: number, offset = 0) =>
      Array.from({ length: count }, (_, i) => ({
        raw_json: user(`bulk-${String(i + offset).padStart(6, '0')}`, version, { profile_image_url: `https://img.example.com/${i}.png` }),
        updated_at: at(100 + version),
      }));

    const insertRows = rows(10_000, 1);
    let started = performance.now();
    expect(await svc.upsertUsers(db, insertRows)).toEqual({ written: 10_000, skipped: 0 });
    const insertMs = performance.now() - started;

    const updateRows = rows(10_000, 2);
    started = performance.now();
    expect(await svc.upsertUsers(db, updateRows)).toEqual({ written: 10_000, skipped: 0 });
    const updateMs = performance.now() - started;

    started = performance.now();
    expect(await svc.upsertUsers(db, insertRows)).toEqual({ written: 0, skipped: 10_000 });
    const staleMs = performance.now() - started;

    // 25,000 rows x 3 parameters = 75,000 > 65,535: several statements in one transaction.
    expect(25_000 * 3).toBeGreaterThan(65_535);
    expect(MAX_ROWS_PER_STATEMENT * 3).toBeLessThanOrEqual(65_535);
    started = performance.now();
    expect(await svc.upsertUsers(db, rows(25_000, 1, 10_000))).toEqual({ written: 25_000, skipped: 0 });
    const bigMs = performance.now() - started;

    const [count] = await adminQuery<{ n: number; v2: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE name LIKE '% v2')::int AS v2 FROM neon_auth.users_sync`,
      [],
      db.physicalName,
    );
    expect(count).toEqual({ n: 35_000, v2: 10_000 });
    const timing = {
      insert_10k_ms: Math.round(insertMs),
      update_10k_ms: Math.round(updateMs),
      stale_10k_ms: Math.round(staleMs),
      insert_25k_ms: Math.round(bigMs),
    };
    console.log(`users_sync writer timing: ${JSON.stringify(timing)}`);
    // Generous bounds for a shared 2-core machine (measured well under a second); they catch a per-row path.
    expect(insertMs).toBeLessThan(10_000);
    expect(updateMs).toBeLessThan(10_000);
  });
});
