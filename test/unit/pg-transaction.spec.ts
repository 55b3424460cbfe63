import type pg from 'pg';
import { inCallerTransaction, inTransaction } from '../../src/common/pg-transaction.js';

/**
 * The transaction helpers' promise to the pool: a client whose ROLLBACK failed too may still be inside a transaction,
 * so it is released with the error (pg then discards it) and never handed to the next caller as clean. A scripted
 * client stands in for the connection: what is under test is what the helper sends and how it releases.
 */
function scriptedPool(failOn: (sql: string) => Error | undefined) {
  const sent: string[] = [];
  const released: (Error | boolean | undefined)[] = [];
  const client = {
    query: async (sql: string) => {
      sent.push(sql);
      const err = failOn(sql);
      if (err) throw err;
      return { rows: [] };
    },
    release: (err?: Error | boolean) => void released.push(err),
  };
  const pool = { connect: async () => client } as unknown as pg.Pool;
  return { pool, sent, released };
}

describe('transaction helpers and the pool', () => {
  it('inCallerTransaction: committed by the caller, the client goes back clean', async () => {
    const { pool, sent, released } = scriptedPool(() => undefined);
    await inCallerTransaction(pool, async (c) => {
      await c.query('BEGIN; SELECT 1');
      await c.query('SELECT 2; COMMIT');
      return 'ended';
    });
    expect(sent).toEqual(['BEGIN; SELECT 1', 'SELECT 2; COMMIT']);
    expect(released).toEqual([undefined]);
  });

  it("inCallerTransaction: 'open' is committed by the helper", async () => {
    const { pool, sent } = scriptedPool(() => undefined);
    await inCallerTransaction(pool, async (c) => {
      await c.query('BEGIN; SELECT 1');
      return 'open';
    });
    expect(sent).toEqual(['BEGIN; SELECT 1', 'COMMIT']);
  });

  it('inCallerTransaction: a failure rolls back and rethrows; a failed ROLLBACK discards the client', async () => {
    const boom = new Error('statement failed');
    const gone = new Error('connection terminated');
    const ok = scriptedPool((sql) => (sql.startsWith('SELECT 2') ? boom : undefined));
    await expect(inCallerTransaction(ok.pool, async (c) => (await c.query('BEGIN; SELECT 1'), await c.query('SELECT 2; COMMIT'), 'ended'))).rejects.toBe(boom);
    expect(ok.sent.at(-1)).toBe('ROLLBACK');
    expect(ok.released).toEqual([undefined]);

    const broken = scriptedPool((sql) => (sql.startsWith('SELECT 2') ? boom : sql === 'ROLLBACK' ? gone : undefined));
    await expect(inCallerTransaction(broken.pool, async (c) => (await c.query('BEGIN; SELECT 1'), await c.query('SELECT 2; COMMIT'), 'ended'))).rejects.toBe(boom);
    expect(broken.released).toEqual([gone]);
  });

  it('inTransaction: the same rule', async () => {
    const boom = new Error('statement failed');
    const gone = new Error('connection terminated');
    const broken = scriptedPool((sql) => (sql === 'SELECT 1' ? boom : sql === 'ROLLBACK' ? gone : undefined));
    await expect(inTransaction(broken.pool, (c) => c.query('SELECT 1'))).rejects.toBe(boom);
    expect(broken.sent).toEqual(['BEGIN', 'SELECT 1', 'ROLLBACK']);
    expect(broken.released).toEqual([gone]);
  });
});
