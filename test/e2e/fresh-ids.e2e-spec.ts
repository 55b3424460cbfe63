import type { DataSource } from 'typeorm';
import { withFreshIds } from '../../src/common/db-errors.js';
import { createControlPlaneDataSource } from '../../src/database/data-source.js';
import { OrganizationEntity } from '../../src/iam/entities/organization.entity.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/test-db.js';

/** Readable random ids can collide with existing rows; creation then draws new ids instead of failing. */
describe('withFreshIds against real primary-key collisions', () => {
  let db: { name: string; url: string };
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase();
    ds = createControlPlaneDataSource(db.url, 2);
    await ds.initialize();
    await ds.getRepository(OrganizationEntity).insert({ id: 'org-taken-1', name: 'taken', handle: 'taken-1' });
  });
  afterAll(async () => {
    await ds?.destroy();
    if (db) await dropTestDatabase(db.name);
  });

  const insertWith = (ids: string[]) => {
    let n = 0;
    return () => ds.getRepository(OrganizationEntity).insert({ id: ids[n], name: 'x', handle: `h-${ids[n++]}` }).then(() => ids[n - 1]);
  };

  it('retries with a new id after a primary-key collision', async () => {
    await expect(withFreshIds(insertWith(['org-taken-1', 'org-fresh-2']))).resolves.toBe('org-fresh-2');
  });

  it('gives up after the allowed attempts', async () => {
    await expect(withFreshIds(insertWith(['org-taken-1', 'org-taken-1', 'org-taken-1']))).rejects.toThrow(/duplicate key/);
  });

  it('does not retry other unique violations (they are the caller\'s to report)', async () => {
    const create = () => ds.getRepository(OrganizationEntity).insert({ id: `org-new-${Math.random()}`, name: 'x', handle: 'taken-1' });
    let calls = 0;
    await expect(withFreshIds(() => (calls++, create()))).rejects.toThrow(/duplicate key/);
    expect(calls).toBe(1);
  });
});
