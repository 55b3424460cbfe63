import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEMPLATE_DATABASE = 'cp_template';

export function testPgPort(): number {
  const port = Number(process.env.TEST_PG_PORT);
  if (!port) throw new Error('TEST_PG_PORT is unset: run the tests through jest (global-setup starts PostgreSQL)');
  return port;
}

export function testAdminUrl(database = 'postgres'): string {
  return `postgres://postgres:postgres@127.0.0.1:${testPgPort()}/${database}`;
}

/** Runs one statement as the superuser on the test server. */
export async function adminQuery<T = Record<string, unknown>>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> {
  const client = new pg.Client({ connectionString: testAdminUrl(database) });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A fresh control-plane database cloned from the migrated template. */
export async function createTestDatabase(): Promise<{ name: string; url: string }> {
  const name = `cp_t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
  return { name, url: testAdminUrl(name) };
}

export async function dropTestDatabase(name: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
