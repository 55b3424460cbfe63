// The hot paths that send several statements in one message (the applier's first batch, the webhook dispatcher's
// delivery round) write their values into SQL text with common/sql-literals.ts. Each hostile value goes to a real
// PostgreSQL in a multi-statement message and must come back as the same value, with nothing else executed.
import pg from 'pg';
import {
  bigintArrayLiteral,
  booleanArrayLiteral,
  float8ArrayLiteral,
  textArrayLiteral,
  textLiteral,
} from '../../src/common/sql-literals.js';
import { testAdminUrl } from '../helpers/test-db.js';

const HOSTILE = [
  "it's",
  "'); DROP TABLE canary; --",
  "\\'; SELECT pg_sleep(10); --",
  'back\\slash at the end\\',
  '$$ dollar $$',
  '$tag$ tagged $tag$',
  "E'\\x41'",
  '"}, {"',
  'ünïcödé ✓ 🙂',
  '',
  'line\nbreak\r\tand tab',
  '{1,2}',
  'NULL',
];

describe('SQL literals of multi-statement messages', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: testAdminUrl() });
    await client.connect();
    await client.query('CREATE TEMP TABLE canary (x int)');
  });
  afterAll(async () => {
    await client.end();
  });

  /** Sends `sql` after a harmless first statement (as the product does after BEGIN) and answers the last result. */
  const roundTrip = async (sql: string): Promise<Record<string, unknown>[]> => {
    const results = (await client.query(`SELECT 1; ${sql}`)) as unknown as pg.QueryResult[];
    expect(results).toHaveLength(2); // nothing else ran
    return results[1].rows;
  };

  it.each(HOSTILE)('a text value comes back unchanged: %j', async (value) => {
    expect(await roundTrip(`SELECT ${textLiteral(value)} AS v`)).toEqual([{ v: value }]);
    await client.query('SELECT count(*) FROM canary'); // still there
  });

  it('drops NUL, which text cannot hold, instead of failing the message', async () => {
    expect(await roundTrip(`SELECT ${textLiteral('a\0b')} AS v`)).toEqual([{ v: 'ab' }]);
  });

  it('a text[] keeps every value, its order and its nulls', async () => {
    const values = [...HOSTILE, null];
    expect(await roundTrip(`SELECT ${textArrayLiteral(values)} AS v`)).toEqual([{ v: values }]);
    expect(await roundTrip(`SELECT ${textArrayLiteral([])} AS v`)).toEqual([{ v: [] }]);
  });

  it('bigint, boolean and float8 arrays come back unchanged', async () => {
    const ids = ['1', '9223372036854775807', '-5'];
    expect(await roundTrip(`SELECT ${bigintArrayLiteral(ids)}::text[] AS v`)).toEqual([{ v: ids }]);
    expect(await roundTrip(`SELECT ${bigintArrayLiteral([])} AS v`)).toEqual([{ v: [] }]);
    expect(await roundTrip(`SELECT ${booleanArrayLiteral([true, false])} AS v`)).toEqual([{ v: [true, false] }]);
    const floats = [0, 1.5, 3600, 1e-7, 123456789.125];
    expect(await roundTrip(`SELECT ${float8ArrayLiteral(floats)} AS v`)).toEqual([{ v: floats }]);
  });

  it('refuses what is not a bigint or a finite number, before any SQL is written', () => {
    for (const bad of ['1; DROP TABLE canary', '1,2', "1'", '', ' 1', '1e3', '99999999999999999999']) {
      expect(() => bigintArrayLiteral([bad])).toThrow(/not a bigint/);
    }
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => float8ArrayLiteral([bad])).toThrow(/not a finite number/);
    }
    expect(() => float8ArrayLiteral(['1); DROP TABLE canary; --' as unknown as number])).toThrow(/not a finite number/);
  });
});
