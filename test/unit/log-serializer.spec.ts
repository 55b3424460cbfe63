// The one error serializer of the logs: what it keeps (type, message, code, stack, identifiers), what it never
// writes (PostgreSQL's detail, where, internalQuery, the query and its bound values, wherever they sit), and that it
// never throws, whatever it is given.
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { createLogger, serializeError, type SerializedError } from '../../src/common/logger.js';

const EMAIL = 'ada.lovelace@example.com';
const LEAKS = [EMAIL, 'Key (email)', 'PL/pgSQL function', 'internal-query-text', 'INSERT INTO', 'sekrit'];

/** A unique violation as node-postgres reports it, every data-bearing field filled in. */
function pgUniqueViolation(): pg.DatabaseError {
  const e = new pg.DatabaseError('duplicate key value violates unique constraint "users_sync_email_key"', 120, 'error');
  Object.assign(e, {
    severity: 'ERROR',
    code: '23505',
    detail: `Key (email)=(${EMAIL}) already exists.`,
    where: `PL/pgSQL function neon_auth.check() line 3 at RAISE: ${EMAIL}`,
    internalQuery: `internal-query-text ${EMAIL}`,
    hint: `try another address than ${EMAIL}`,
    schema: 'neon_auth',
    table: 'users_sync',
    constraint: 'users_sync_email_key',
    routine: '_bt_check_unique',
  });
  return e;
}

/** What TypeORM throws for it: the driver error inside, its fields copied on top, with the query and parameters. */
function typeormFailure(): QueryFailedError {
  return new QueryFailedError('INSERT INTO neon_auth.users_sync (id, email) VALUES ($1, $2)', ['u1', EMAIL, 'sekrit'], pgUniqueViolation());
}

function expectClean(value: unknown): void {
  const text = JSON.stringify(value);
  for (const leak of LEAKS) expect(text).not.toContain(leak);
}

describe('serializeError', () => {
  it('keeps type, message, SQLSTATE, stack and the names of the objects involved from a node-postgres error', () => {
    const out = serializeError(pgUniqueViolation()) as SerializedError;
    expect(out).toEqual({
      type: 'DatabaseError',
      message: 'duplicate key value violates unique constraint "users_sync_email_key"',
      stack: expect.stringContaining('duplicate key value'),
      code: '23505',
      severity: 'ERROR',
      schema: 'neon_auth',
      table: 'users_sync',
      constraint: 'users_sync_email_key',
      routine: '_bt_check_unique',
    });
    expectClean(out);
  });

  it('drops detail, where, internalQuery, query, parameters and driverError from a TypeORM failure', () => {
    const err = typeormFailure();
    expect(JSON.stringify({ ...err, driverError: { ...err.driverError } })).toContain(EMAIL); // the raw error does carry it
    const out = serializeError(err) as SerializedError;
    expect(out).toMatchObject({ type: 'QueryFailedError', code: '23505', table: 'users_sync', constraint: 'users_sync_email_key' });
    expect(out.message).toContain('duplicate key value');
    for (const field of ['detail', 'where', 'internalQuery', 'query', 'parameters', 'values', 'driverError', 'hint']) expect(out).not.toHaveProperty(field);
    expectClean(out);
  });

  it('serializes causes and AggregateError entries the same way, however deep', () => {
    const inner = new Error('could not write users_sync', { cause: typeormFailure() });
    const outer = new AggregateError([inner, pgUniqueViolation(), 'a plain string'], 'several batches failed', { cause: new Error('outer cause', { cause: pgUniqueViolation() }) });
    const out = serializeError(outer) as SerializedError;
    expect(out).toMatchObject({
      type: 'AggregateError',
      message: 'several batches failed',
      cause: { type: 'Error', message: 'outer cause', cause: { type: 'DatabaseError', code: '23505' } },
      errors: [
        { type: 'Error', message: 'could not write users_sync', cause: { type: 'QueryFailedError', code: '23505' } },
        { type: 'DatabaseError', code: '23505' },
        'a plain string',
      ],
    });
    expectClean(out);
  });

  it('stops at cycles and at depth, and caps the entries of an AggregateError', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(serializeError(a)).toMatchObject({ message: 'a', cause: { message: 'b', cause: { type: '[Circular]' } } });
    let deep: Error = pgUniqueViolation();
    for (let i = 0; i < 50; i++) deep = new Error(`level ${i}`, { cause: deep });
    const text = JSON.stringify(serializeError(deep));
    expect(text.length).toBeLessThan(20_000);
    const many = new AggregateError(Array.from({ length: 1000 }, () => pgUniqueViolation()), 'many');
    expect((serializeError(many) as SerializedError).errors).toHaveLength(10);
    const self: Record<string, unknown> = { message: 'self' };
    self.cause = self;
    self.errors = [self];
    expect(serializeError(self)).toEqual({ type: 'Object', message: 'self', cause: { type: '[Circular]' }, errors: [{ type: '[Circular]' }] });
  });

  it('never throws on odd values', () => {
    const hostile = new Proxy({}, {
      get() {
        throw new Error('no reading');
      },
      has() {
        throw new Error('no asking');
      },
    });
    const getter = Object.defineProperty(new Error('getter'), 'code', {
      get() {
        throw new Error('boom');
      },
    });
    const nullProto = Object.assign(Object.create(null) as object, { message: 'no prototype', detail: EMAIL });
    const cases: unknown[] = [undefined, null, 'text', 42, true, 10n, Symbol('s'), () => 1, [1, 2], hostile, getter, nullProto, { detail: EMAIL }, new Date(0)];
    for (const value of cases) expect(() => serializeError(value)).not.toThrow();
    expect(serializeError('text')).toBe('text');
    expect(serializeError(42)).toBe(42);
    expect(serializeError(null)).toBeNull();
    expect(serializeError(10n)).toEqual({ type: 'bigint' });
    expect(serializeError(getter)).toMatchObject({ type: 'Error', message: 'getter' });
    expect(serializeError(nullProto)).toEqual({ type: 'Object', message: 'no prototype' });
    expect(serializeError({ detail: EMAIL, code: '23505' })).toEqual({ type: 'Object', code: '23505' });
  });

  it('is what the product logger applies to err, error and cause (and it is safe to apply twice)', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const failure = typeormFailure();
    logger.child({ component: 'sync' }).warn({ err: failure, rows: 3 }, 'sync: applying events failed');
    logger.error({ error: pgUniqueViolation(), cause: new Error('wrapped', { cause: typeormFailure() }) }, 'two keys');
    logger.error({ err: serializeError(failure) }, 'serialized before logging');
    expect(lines).toHaveLength(3);
    for (const line of lines) expectClean(line);
    const [first, second, third] = lines.map((l) => JSON.parse(l) as Record<string, SerializedError>);
    expect(first.err).toMatchObject({ type: 'QueryFailedError', code: '23505', stack: expect.any(String) });
    expect(second.error).toMatchObject({ type: 'DatabaseError', code: '23505' });
    expect(second.cause).toMatchObject({ type: 'Error', cause: { type: 'QueryFailedError', code: '23505' } });
    expect(third.err).toEqual(first.err);
  });
});
