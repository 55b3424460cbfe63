import {
  chunk,
  containsPattern,
  markDeletedStatement,
  MAX_ID_BYTES,
  MAX_IDS_PER_STATEMENT,
  MAX_ROWS_PER_STATEMENT,
  prepareRow,
  sortById,
  upsertStatement,
  type PreparedRow,
  type UsersSyncRow,
} from '../../src/neon-auth/users-sync/users-sync.statements.js';
import { planWrites, versionOf, type InboxRow, type UserHistory } from '../../src/sync/write-plan.js';

/**
 * The ordering rule's pure parts: the version each webhook event writes (write-plan.ts), what a batch writes,
 * and the checks and SQL builders every users_sync write goes through (users-sync.statements.ts).
 */

/** 2023-11-14T22:13:20.000Z, in milliseconds and microseconds. */
const SIGN_UP_MS = 1_700_000_000_000;
const SIGN_UP_US = SIGN_UP_MS * 1000;

describe('versionOf: the users_sync.updated_at an event writes', () => {
  const version = (event_type: string, signed_up_at_millis: string | number | null, received_us: string | number) =>
    versionOf({ event_type, signed_up_at_millis, received_us });

  it('user.created: the sign-up time when the event arrives after it', () => {
    expect(version('user.created', SIGN_UP_MS, SIGN_UP_US + 500_123)).toBe('2023-11-14T22:13:20.000000Z');
  });

  it('user.created: just before its arrival when it arrives "before" the sign-up (a provider clock ahead): min(sign-up, arrival - 1 µs)', () => {
    expect(version('user.created', SIGN_UP_MS, SIGN_UP_US - 999_999)).toBe('2023-11-14T22:13:19.000000Z');
    expect(version('user.created', SIGN_UP_MS, SIGN_UP_US)).toBe('2023-11-14T22:13:19.999999Z');
  });

  it('user.updated: the arrival time, on the control-plane database\'s clock, whatever the sign-up time says', () => {
    expect(version('user.updated', SIGN_UP_MS, SIGN_UP_US + 500_123)).toBe('2023-11-14T22:13:20.500123Z');
    expect(version('user.updated', SIGN_UP_MS, SIGN_UP_US + 1)).toBe('2023-11-14T22:13:20.000001Z');
    // A provider clock ahead of the database's cannot push the version past the database's clock.
    expect(version('user.updated', SIGN_UP_MS, SIGN_UP_US - 5_000_000)).toBe('2023-11-14T22:13:15.000000Z');
  });

  it('an update is always newer than the create of the same user, whatever the clocks', () => {
    for (const receivedUs of [SIGN_UP_US - 10_000_000, SIGN_UP_US, SIGN_UP_US + 1, SIGN_UP_US + 10_000_000]) {
      expect(version('user.updated', SIGN_UP_MS, receivedUs) > version('user.created', SIGN_UP_MS, receivedUs)).toBe(true);
    }
  });

  it('keeps microseconds: events 1 µs apart get distinct, ordered versions', () => {
    const a = version('user.updated', null, SIGN_UP_US + 1);
    const b = version('user.updated', null, SIGN_UP_US + 2);
    expect([a, b]).toEqual(['2023-11-14T22:13:20.000001Z', '2023-11-14T22:13:20.000002Z']);
    expect(a < b).toBe(true);
  });

  it('without signed_up_at_millis (or a non-number) a create is stamped 1 µs before its arrival, an update at it', () => {
    expect(version('user.created', null, SIGN_UP_US + 42)).toBe('2023-11-14T22:13:20.000041Z');
    expect(version('user.updated', null, SIGN_UP_US + 42)).toBe('2023-11-14T22:13:20.000042Z');
    expect(version('user.created', 'not a number', SIGN_UP_US + 42)).toBe('2023-11-14T22:13:20.000041Z');
  });

  it('reads the text forms the inbox query returns, and truncates fractional milliseconds', () => {
    expect(version('user.created', String(SIGN_UP_MS), String(SIGN_UP_US + 7))).toBe('2023-11-14T22:13:20.000000Z');
    expect(version('user.created', SIGN_UP_MS + 0.9, SIGN_UP_US + 5_000)).toBe('2023-11-14T22:13:20.000000Z');
  });
});

describe('planWrites: what one batch writes', () => {
  let seq = 0;
  function row(event_type: string, user_id: string, received_us: number, signed_up_at_millis: number | null = SIGN_UP_MS): InboxRow {
    seq += 1;
    return {
      id: String(seq),
      event_type,
      user_id,
      data: `{"id": "${user_id}", "signed_up_at_millis": ${signed_up_at_millis}}`,
      signed_up_at_millis: signed_up_at_millis === null ? null : String(signed_up_at_millis),
      received_us: String(received_us),
    };
  }
  const history = (entries: Record<string, UserHistory>) => new Map(Object.entries(entries));

  it('upserts creates and updates with their version and the inbox JSON text unchanged', () => {
    const created = row('user.created', 'u1', SIGN_UP_US + 10);
    const updated = row('user.updated', 'u2', SIGN_UP_US + 2_000);
    const plan = planWrites([created, updated], history({ u1: { events: 1, deletedUs: null }, u2: { events: 1, deletedUs: null } }));
    expect(plan.upserts).toEqual<PreparedRow[]>([
      { id: 'u1', json: created.data, updatedAt: '2023-11-14T22:13:20.000000Z', deletedAt: null },
      { id: 'u2', json: updated.data, updatedAt: '2023-11-14T22:13:20.002000Z', deletedAt: null },
    ]);
    expect(plan.deletes.size).toBe(0);
    expect([...plan.toConfirm]).toEqual([]);
  });

  it('groups deletions by their arrival time (one markDeleted per time), never as upserts', () => {
    const plan = planWrites(
      [row('user.deleted', 'u1', SIGN_UP_US + 5), row('user.deleted', 'u2', SIGN_UP_US + 5), row('user.deleted', 'u3', SIGN_UP_US + 6)],
      history({}),
    );
    expect(plan.upserts).toEqual([]);
    expect([...plan.deletes.entries()]).toEqual([
      ['2023-11-14T22:13:20.000005Z', ['u1', 'u2']],
      ['2023-11-14T22:13:20.000006Z', ['u3']],
    ]);
  });

  it('does not write a create or update that arrived after the user was deleted, but confirms that user', () => {
    const deletedUs = SIGN_UP_US + 1_000_000;
    const plan = planWrites(
      [row('user.updated', 'u1', deletedUs + 1), row('user.created', 'u1', deletedUs + 2)],
      history({ u1: { events: 3, deletedUs } }),
    );
    expect(plan.upserts).toEqual([]);
    expect([...plan.toConfirm]).toEqual(['u1']);
  });

  it('still writes an event that arrived before the deletion (the deletion, stamped later, wins in users_sync)', () => {
    const deletedUs = SIGN_UP_US + 1_000_000;
    const plan = planWrites([row('user.updated', 'u1', deletedUs - 1)], history({ u1: { events: 2, deletedUs } }));
    expect(plan.upserts.map((u) => [u.id, u.updatedAt])).toEqual([['u1', '2023-11-14T22:13:20.999999Z']]);
  });

  it('marks users with more than one inbox event to confirm, and only those', () => {
    const plan = planWrites(
      [row('user.updated', 'once', SIGN_UP_US + 10), row('user.updated', 'twice', SIGN_UP_US + 20), row('user.created', 'unknown', SIGN_UP_US + 30)],
      history({ once: { events: 1, deletedUs: null }, twice: { events: 2, deletedUs: null } }),
    );
    expect([...plan.toConfirm]).toEqual(['twice']);
    expect(plan.upserts.map((u) => u.id)).toEqual(['once', 'twice', 'unknown']);
  });

  it('marks the upserted users whose deletion the inbox does not hold, for the writer to check against users_sync', () => {
    const deletedUs = SIGN_UP_US + 1_000_000;
    const plan = planWrites(
      [row('user.updated', 'fresh', SIGN_UP_US + 10), row('user.updated', 'before-delete', deletedUs - 1), row('user.updated', 'after-delete', deletedUs + 1)],
      history({ fresh: { events: 1, deletedUs: null }, 'before-delete': { events: 2, deletedUs }, 'after-delete': { events: 2, deletedUs } }),
    );
    expect(plan.upserts.map((u) => u.id)).toEqual(['fresh', 'before-delete']);
    expect([...plan.deletionUnknown]).toEqual(['fresh']);
  });

  it('a deletion on its own asks no confirmation (Stack Auth never reuses an id: a deletion is final)', () => {
    const plan = planWrites([row('user.deleted', 'u1', SIGN_UP_US + 10)], history({ u1: { events: 4, deletedUs: SIGN_UP_US + 10 } }));
    expect(plan.toConfirm.size).toBe(0);
    expect([...plan.deletes.values()]).toEqual([['u1']]);
  });
});

describe('prepareRow: the checks every users_sync row passes', () => {
  const at = new Date(SIGN_UP_MS);
  const problemOf = (row: UsersSyncRow): string => {
    const p = prepareRow(row);
    if (!('problem' in p)) throw new Error(`expected a refusal, got ${JSON.stringify(p)}`);
    return p.problem;
  };

  it('serializes a good row: the id, the JSON text, ISO timestamps', () => {
    const raw = { id: 'u1', display_name: 'Zoë', signed_up_at_millis: SIGN_UP_MS };
    expect(prepareRow({ raw_json: raw, updated_at: at, deleted_at: new Date(SIGN_UP_MS + 1) })).toEqual<PreparedRow>({
      id: 'u1',
      json: JSON.stringify(raw),
      updatedAt: '2023-11-14T22:13:20.000Z',
      deletedAt: '2023-11-14T22:13:20.001Z',
    });
    expect(prepareRow({ raw_json: { id: 'u1' }, updated_at: '2023-11-14T22:13:20.123456+00:00', deleted_at: null })).toMatchObject({
      updatedAt: '2023-11-14T22:13:20.123456+00:00',
      deletedAt: null,
    });
  });

  it('refuses a raw_json that is not an object, and a missing, empty or non-string id', () => {
    expect(problemOf({ raw_json: [] as unknown as Record<string, unknown>, updated_at: at })).toBe('raw_json must be a JSON object');
    expect(problemOf({ raw_json: null as unknown as Record<string, unknown>, updated_at: at })).toBe('raw_json must be a JSON object');
    expect(problemOf({ raw_json: { display_name: 'x' }, updated_at: at })).toBe('raw_json.id must be a non-empty string');
    expect(problemOf({ raw_json: { id: '' }, updated_at: at })).toBe('raw_json.id must be a non-empty string');
    expect(problemOf({ raw_json: { id: 42 }, updated_at: at })).toBe('raw_json.id must be a non-empty string');
  });

  it(`refuses an id longer than ${MAX_ID_BYTES} bytes, counted in UTF-8 bytes, not characters`, () => {
    expect(prepareRow({ raw_json: { id: 'x'.repeat(MAX_ID_BYTES) }, updated_at: at })).toMatchObject({ id: 'x'.repeat(MAX_ID_BYTES) });
    expect(problemOf({ raw_json: { id: 'x'.repeat(MAX_ID_BYTES + 1) }, updated_at: at })).toBe('raw_json.id is longer than 1024 bytes');
    // 513 characters, 1,026 bytes.
    expect(problemOf({ raw_json: { id: 'é'.repeat(513) }, updated_at: at })).toBe('raw_json.id is longer than 1024 bytes');
  });

  it('refuses NUL characters anywhere in raw_json (jsonb cannot store them), but not the text "\\u0000"', () => {
    const nul = 'raw_json contains a NUL character (\\u0000), which jsonb cannot store';
    expect(problemOf({ raw_json: { id: 'a\u0000b' }, updated_at: at })).toBe(nul);
    expect(problemOf({ raw_json: { id: 'u1', client_metadata: { note: 'x\u0000' } }, updated_at: at })).toBe(nul);
    expect(problemOf({ raw_json: { id: 'u1', ['k\u0000']: 1 }, updated_at: at })).toBe(nul);
    expect(problemOf({ raw_json: { id: 'u1', note: '\\\u0000' }, updated_at: at })).toBe(nul);
    expect(prepareRow({ raw_json: { id: 'u1', note: '\\u0000' }, updated_at: at })).toMatchObject({ id: 'u1' });
  });

  it('refuses timestamps PostgreSQL would not take the same way: no zone, not ISO, invalid Date, not a string', () => {
    expect(problemOf({ raw_json: { id: 'u1' }, updated_at: '2023-11-14T22:13:20' })).toBe(
      'updated_at must be an ISO-8601 timestamp with a time zone (got "2023-11-14T22:13:20")',
    );
    expect(problemOf({ raw_json: { id: 'u1' }, updated_at: 'yesterday' })).toMatch(/^updated_at must be an ISO-8601 timestamp with a time zone/);
    expect(problemOf({ raw_json: { id: 'u1' }, updated_at: '2023-13-01T00:00:00Z' })).toMatch(/^updated_at must be an ISO-8601 timestamp/);
    expect(problemOf({ raw_json: { id: 'u1' }, updated_at: new Date(Number.NaN) })).toBe('updated_at is an invalid Date');
    expect(problemOf({ raw_json: { id: 'u1' }, updated_at: SIGN_UP_MS as unknown as string })).toBe('updated_at must be a Date or an ISO-8601 string');
    expect(problemOf({ raw_json: { id: 'u1' }, updated_at: at, deleted_at: 'later' })).toMatch(/^deleted_at must be an ISO-8601 timestamp/);
  });

  it('refuses a signed_up_at_millis the generated created_at column cannot cast (bigint ms within the timestamp range)', () => {
    const refusal = 'raw_json.signed_up_at_millis must be an integer number of milliseconds within the timestamp range';
    for (const bad of [1.5, '1.5', '17e11', 'abc', '', true, 8_640_000_000_000_001, -210_866_803_200_001, '12345678901234567890']) {
      expect([bad, problemOf({ raw_json: { id: 'u1', signed_up_at_millis: bad }, updated_at: at })]).toEqual([bad, refusal]);
    }
    for (const good of [SIGN_UP_MS, String(SIGN_UP_MS), 0, -1, 8_640_000_000_000_000, -210_866_803_200_000, null]) {
      expect([good, 'id' in prepareRow({ raw_json: { id: 'u1', signed_up_at_millis: good }, updated_at: at })]).toEqual([good, true]);
    }
  });

  it('refuses a raw_json JSON.stringify cannot serialize', () => {
    expect(problemOf({ raw_json: { id: 'u1', n: BigInt(1) }, updated_at: at })).toMatch(/^raw_json cannot be serialized: /);
  });
});

describe('sortById: byte order (COLLATE "C"), the order rows are locked in', () => {
  it('sorts by UTF-8 bytes, not by UTF-16 code units nor by locale', () => {
    const ids = ['b', 'é', 'aa', 'Z', '\uFF61', '😀', 'a', 'B'];
    expect(sortById(ids.map((id) => ({ id }))).map((x) => x.id)).toEqual(['B', 'Z', 'a', 'aa', 'b', 'é', '\uFF61', '😀']);
    // JavaScript's default sort puts the emoji (surrogate 0xD83D) before U+FF61; UTF-8 puts F0 after EF.
    expect([...ids].sort().slice(-2)).toEqual(['😀', '\uFF61']);
  });

  it('sorts ids without surrogate pairs (compared as strings) in the same byte order', () => {
    const ids = ['b', 'é', 'aa', 'Z', '\uFF61', '\u0800', '\u07FF', 'a', 'B', 'a\u0000', '\u007F', '\u0080'];
    const byBytes = [...ids].sort((x, y) => Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8')));
    expect(sortById(ids.map((id) => ({ id }))).map((x) => x.id)).toEqual(byBytes);
    const uuids = Array.from({ length: 200 }, (_, i) => `${(i * 7919).toString(16).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const sortedUuids = [...uuids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(sortById(uuids.map((id) => ({ id }))).map((x) => x.id)).toEqual(sortedUuids);
  });

  it('returns a new array, keeps the items, and leaves the input alone', () => {
    const items = [{ id: 'b', n: 1 }, { id: 'a', n: 2 }];
    const sorted = sortById(items);
    expect(sorted).toEqual([{ id: 'a', n: 2 }, { id: 'b', n: 1 }]);
    expect(sorted[0]).toBe(items[1]);
    expect(items.map((x) => x.id)).toEqual(['b', 'a']);
  });
});

describe('upsertStatement and markDeletedStatement', () => {
  const prepared = (id: string, deletedAt: string | null = null): PreparedRow => ({ id, json: `{"id":"${id}"}`, updatedAt: `2023-11-14T22:13:20.00${id.length}Z`, deletedAt });
  const flat = (sql: string) => sql.replace(/\s+/g, ' ');

  it('binds three parameters per row (raw_json, updated_at, deleted_at), in row order', () => {
    const s = upsertStatement([prepared('a'), prepared('bb', '2023-11-14T22:13:21Z')]);
    expect(s.values).toEqual(['{"id":"a"}', '2023-11-14T22:13:20.001Z', null, '{"id":"bb"}', '2023-11-14T22:13:20.002Z', '2023-11-14T22:13:21Z']);
    expect(flat(s.text)).toContain(
      'FROM (VALUES ($1::jsonb, $2::timestamptz, $3::timestamptz), ($4::jsonb, $5::timestamptz, $6::timestamptz)) AS v (raw_json, updated_at, deleted_at)',
    );
    expect(flat(s.text)).toMatch(/^INSERT INTO "neon_auth"."users_sync" AS u \(raw_json, updated_at, deleted_at\) /);
  });

  it('applies a state only when its ordering key is strictly greater (or the row has no updated_at)', () => {
    const text = flat(upsertStatement([prepared('a')]).text);
    expect(text).toContain(
      'ON CONFLICT (id) DO UPDATE SET raw_json = EXCLUDED.raw_json, updated_at = EXCLUDED.updated_at, deleted_at = EXCLUDED.deleted_at ' +
        "WHERE u.updated_at IS NULL OR (EXCLUDED.updated_at, EXCLUDED.deleted_at IS NOT NULL, EXCLUDED.raw_json, COALESCE(EXCLUDED.deleted_at, '-infinity'::timestamptz)) " +
        "> (u.updated_at, u.deleted_at IS NOT NULL, u.raw_json, COALESCE(u.deleted_at, '-infinity'::timestamptz))",
    );
    // Several states of one id in one statement: the greatest key first (ON CONFLICT cannot touch a row twice).
    expect(text).toContain(
      `SELECT DISTINCT ON ((v.raw_json ->> 'id') COLLATE "C") v.raw_json, v.updated_at, v.deleted_at`,
    );
    expect(text).toContain(
      `ORDER BY (v.raw_json ->> 'id') COLLATE "C", v.updated_at DESC, (v.deleted_at IS NOT NULL) DESC, v.raw_json DESC, COALESCE(v.deleted_at, '-infinity'::timestamptz) DESC`,
    );
  });

  it(`takes 1..${MAX_ROWS_PER_STATEMENT} rows, well under PostgreSQL's 65,535 parameters`, () => {
    expect(MAX_ROWS_PER_STATEMENT).toBe(2_000);
    const full = Array.from({ length: MAX_ROWS_PER_STATEMENT }, (_, i) => prepared(`u${i}`));
    const s = upsertStatement(full);
    expect(s.values).toHaveLength(6_000);
    expect(s.text).toContain('($5998::jsonb, $5999::timestamptz, $6000::timestamptz))');
    expect(() => upsertStatement([])).toThrow('upsertStatement takes 1..2000 rows');
    expect(() => upsertStatement([...full, prepared('one-more')])).toThrow('upsertStatement takes 1..2000 rows');
  });

  it('markDeletedStatement binds the ids as one text[] and the time once; a deletion wins a tie with a live row', () => {
    const s = markDeletedStatement(['u2', 'u1'], '2023-11-14T22:13:20.000005Z');
    expect(s.values).toEqual([['u2', 'u1'], '2023-11-14T22:13:20.000005Z']);
    const text = flat(s.text);
    expect(text.match(/\$\d+/g)?.sort()).toEqual(['$1', '$2', '$2']);
    expect(text).toContain(`SELECT jsonb_build_object('id', i.id), $2::timestamptz, $2::timestamptz FROM (SELECT DISTINCT x.id FROM unnest($1::text[]) AS x (id)) AS i ORDER BY i.id COLLATE "C"`);
    expect(text).toContain(
      'ON CONFLICT (id) DO UPDATE SET updated_at = EXCLUDED.updated_at, deleted_at = EXCLUDED.deleted_at ' +
        'WHERE u.updated_at IS NULL OR EXCLUDED.updated_at > u.updated_at OR (EXCLUDED.updated_at = u.updated_at AND u.deleted_at IS NULL)',
    );
    // The deletion keeps the row's last raw_json: it is not in the SET list.
    expect(text).not.toMatch(/SET[^W]*raw_json/);
  });

  it(`the store splits ids in chunks of ${MAX_IDS_PER_STATEMENT} (one array parameter each)`, () => {
    expect(MAX_IDS_PER_STATEMENT).toBe(10_000);
    const ids = Array.from({ length: 25_000 }, (_, i) => `u${i}`);
    expect(chunk(ids, MAX_IDS_PER_STATEMENT).map((part) => markDeletedStatement(part, '2023-11-14T22:13:20Z').values[0])).toEqual([
      ids.slice(0, 10_000),
      ids.slice(10_000, 20_000),
      ids.slice(20_000),
    ]);
  });
});

describe('chunk and containsPattern', () => {
  it('chunk splits in order, the last part shorter, nothing for nothing', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([1, 2, 3], 3)).toEqual([[1, 2, 3]]);
    expect(chunk([1, 2], 10)).toEqual([[1, 2]]);
    expect(chunk([], 5)).toEqual([]);
  });

  it('containsPattern matches the text anywhere, with %, _ and \\ taken literally', () => {
    expect(containsPattern('ada')).toBe('%ada%');
    expect(containsPattern('50%_off\\')).toBe('%50\\%\\_off\\\\%');
    expect(containsPattern('')).toBe('%%');
    expect(containsPattern('a.b*c')).toBe('%a.b*c%');
  });
});
