import type { DataSource } from 'typeorm';
import { createControlPlaneDataSource } from '../../src/database/data-source.js';
import { adminQuery, createTestDatabase, dropTestDatabase } from '../helpers/test-db.js';

/** The SQL TypeORM would run to make the database match the entities; empty when they agree. */
async function pendingSchemaChanges(ds: DataSource): Promise<string[]> {
  const sql = await ds.driver.createSchemaBuilder().log();
  return sql.upQueries.map((q) => q.query);
}

describe('entities and migrations agree', () => {
  let db: { name: string; url: string };
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase(); // cloned from the template that the migrations built
    ds = createControlPlaneDataSource(db.url, 2);
    await ds.initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    if (db) await dropTestDatabase(db.name);
  });

  it('every migration is applied to the template', async () => {
    expect(await ds.showMigrations()).toBe(false);
  });

  it('the schema the migrations build is exactly the one the entities describe', async () => {
    // A failure lists the SQL a new migration needs: generate it with `npm run migration:generate`.
    expect(await pendingSchemaChanges(ds)).toEqual([]);
  });

  it('the comparison does catch drift (a dropped column shows up as a pending change)', async () => {
    await adminQuery('ALTER TABLE accounts DROP COLUMN name', [], db.name);
    const pending = await pendingSchemaChanges(ds);
    expect(pending.some((q) => /ALTER TABLE "accounts" ADD "name"/.test(q))).toBe(true);
  });
});
