// GET /users reads the (project_id, order_by, id) index in order and stops after the page, also when the table has no
// statistics yet (users imported in bulk a moment ago): the plan of every listing form is checked on real PostgreSQL,
// in the transaction the listing itself runs in.
import request from 'supertest';
import { DataSource, type EntityManager } from 'typeorm';
import { listUsers } from '../../src/stack-auth/users/users-list.js';
import type { ListUsersQuery } from '../../src/stack-auth/users/dto/list-users-query.dto.js';
import { createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const USERS = 20_000;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

let t: TestApp;
let p: StackTestProject;
let db: DataSource;

beforeAll(async () => {
  t = await startTestApp();
  p = await createStackProject(t, 'Bulk project');
  db = t.app.get(DataSource);
  // A bulk import with no ANALYZE after it (and none by autovacuum while the test runs): the planner has no statistics.
  await adminQuery('ALTER TABLE stack_auth.users SET (autovacuum_enabled = false)', [], t.database);
  await adminQuery(
    `INSERT INTO stack_auth.users (project_id, display_name, primary_email, risk_scores, signed_up_at, last_active_at)
     SELECT $1, 'bulk ' || g, 'bulk' || g || '@example.com', '{"sign_up":{"bot":0,"free_trial_abuse":0}}',
            now() + g * interval '1 ms', now() - g * interval '1 ms'
       FROM generate_series(1, $2::int) g`,
    [p.projectId, USERS],
    t.database,
  );
});
afterAll(async () => {
  await t?.close();
});

/** Lists like GET /users does, and answers the plan PostgreSQL chose for the page's SELECT in the listing's own transaction. */
async function listWithPlan(query: ListUsersQuery): Promise<{ ids: string[]; nextCursor: string | null; plan: PlanNode; sql: string; params: unknown[] }> {
  let seen: { plan: PlanNode; sql: string; params: unknown[] } | undefined;
  const spy = Object.create(db, {
    transaction: {
      value: (fn: (tx: EntityManager) => Promise<unknown>) =>
        db.transaction((tx) =>
          fn(
            Object.create(tx, {
              query: {
                value: async (sql: string, params?: unknown[]) => {
                  if (/^\s*SELECT/i.test(sql)) {
                    const [row] = (await tx.query(`EXPLAIN (FORMAT JSON) ${sql}`, params)) as { 'QUERY PLAN': { Plan: PlanNode }[] }[];
                    seen = { plan: row['QUERY PLAN'][0].Plan, sql, params: params ?? [] };
                  }
                  return tx.query(sql, params);
                },
              },
            }) as EntityManager,
          ),
        ),
    },
  }) as DataSource;
  const page = await listUsers(spy, p.projectId, query);
  expect(seen).toBeDefined();
  return { ids: page.items.map((u) => u.id), nextCursor: page.pagination.next_cursor, ...seen! };
}

function expectIndexOrder(plan: PlanNode, index: string): void {
  const types = nodesOf(plan).map((n) => n['Node Type']);
  expect(types).not.toContain('Sort');
  expect(types).not.toContain('Incremental Sort');
  expect(nodesOf(plan).filter((n) => n['Node Type'] === 'Index Scan').map((n) => n['Index Name'])).toContain(index);
}

it('without statistics, the planner on its own would fetch and sort every user after the cursor (what the listing avoids)', async () => {
  const first = await listWithPlan({ limit: '100' });
  const second = await listWithPlan({ limit: '100', cursor: first.nextCursor! });
  const [row] = (await db.query(`EXPLAIN (FORMAT JSON) ${second.sql}`, second.params)) as { 'QUERY PLAN': { Plan: PlanNode }[] }[];
  expect(nodesOf(row['QUERY PLAN'][0].Plan).map((n) => n['Node Type'])).toContain('Sort');
});

it('every listing form reads its index in order and stops after the page', async () => {
  const first = await listWithPlan({ limit: '100' });
  expectIndexOrder(first.plan, 'stack_users_project_signed_up_idx');
  const keyset = await listWithPlan({ limit: '100', cursor: first.nextCursor! });
  expectIndexOrder(keyset.plan, 'stack_users_project_signed_up_idx');
  const byId = await listWithPlan({ limit: '100', cursor: first.ids[99] });
  expectIndexOrder(byId.plan, 'stack_users_project_signed_up_idx');
  expect(byId.ids).toEqual(keyset.ids);
  const desc = await listWithPlan({ limit: '50', desc: 'true', include_restricted: 'true', cursor: keyset.ids[10] });
  expectIndexOrder(desc.plan, 'stack_users_project_signed_up_idx');
  expect(desc.ids.slice(0, 10)).toEqual(keyset.ids.slice(0, 10).reverse());
  expect(desc.ids.slice(10, 20)).toEqual(first.ids.slice(90).reverse());
  const active = await listWithPlan({ limit: '100', order_by: 'last_active_at' });
  expectIndexOrder(active.plan, 'stack_users_project_last_active_idx');
  const activeNext = await listWithPlan({ limit: '100', order_by: 'last_active_at', cursor: active.nextCursor! });
  expectIndexOrder(activeNext.plan, 'stack_users_project_last_active_idx');
  const filtered = await listWithPlan({ limit: '10', query: 'bulk1', excluded_email_domains: 'example.org', cursor: first.nextCursor! });
  expectIndexOrder(filtered.plan, 'stack_users_project_signed_up_idx');
});

it('pages through every user exactly once, in order, over HTTP', async () => {
  const all: string[] = [];
  let cursor: string | undefined;
  do {
    const res = await request(`${p.baseUrl}/api/v1`)
      .get('/users')
      .query({ limit: 1000, ...(cursor ? { cursor } : {}) })
      .set(serverHeaders(p))
      .expect(200);
    all.push(...(res.body.items as { display_name: string }[]).map((u) => u.display_name));
    cursor = res.body.pagination.next_cursor ?? undefined;
  } while (cursor);
  expect(all).toEqual(Array.from({ length: USERS }, (_, i) => `bulk ${i + 1}`));
});
