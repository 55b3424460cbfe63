// Arrangement helpers for the Neon Auth integrations specs (real HTTP, real databases).
import { DataSource } from 'typeorm';
import { NeonAuthIntegrationEntity } from '../../src/neon-auth/integrations/integration.entity.js';
import { api, createProject, withClient, type Api } from '../helpers/fixtures.js';
import type { TestApp } from '../helpers/test-app.js';

export interface NewProject {
  projectId: string;
  defaultBranchId: string;
  /** neondb as neondb_owner on the default branch. */
  uri: string;
}

export async function newProject(t: TestApp, a: Api = api(t, t.adminKey), name = 'integrations'): Promise<NewProject> {
  const body = await createProject(a, { name });
  return { projectId: body.project.id, defaultBranchId: body.branch.id, uri: body.connection_uris[0].connection_uri };
}

/** Whether schema neon_auth / table users_sync exist in the database behind `uri`. */
export async function neonAuthState(uri: string): Promise<{ schema: boolean; table: boolean; rows: number }> {
  return withClient(uri, async (c) => {
    const schema = (await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'neon_auth'`)).rowCount === 1;
    const table = (await c.query(`SELECT to_regclass('neon_auth.users_sync') IS NOT NULL AS t`)).rows[0].t as boolean;
    const rows = table ? Number((await c.query('SELECT count(*)::int AS n FROM neon_auth.users_sync')).rows[0].n) : 0;
    return { schema, table, rows };
  });
}

/** Integration rows of a project, straight from the control-plane database. */
export async function integrationRows(t: TestApp, projectId: string): Promise<NeonAuthIntegrationEntity[]> {
  return t.app.get(DataSource).getRepository(NeonAuthIntegrationEntity).findBy({ projectId });
}

/** Counts of live provider projects in the embedded Stack provider and in the mock (deleted mock projects are tombstones). */
export async function providerProjectCounts(t: TestApp): Promise<{ stack: number; mock: number }> {
  const db = t.app.get(DataSource);
  const [s] = await db.query('SELECT count(*)::int AS n FROM stack_auth.projects');
  const [m] = await db.query('SELECT count(*)::int AS n FROM mock_provider_projects WHERE deleted_at IS NULL');
  return { stack: s.n as number, mock: m.n as number };
}
