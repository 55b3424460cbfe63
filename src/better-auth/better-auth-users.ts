import { Injectable } from '@nestjs/common';
import pg from 'pg';
import { BranchDatabaseCluster } from '../projects/branch-databases/branch-database-cluster.js';
import { rawJsonSql } from './better-auth-schema.js';

const USER_TABLE = `${pg.escapeIdentifier('neon_auth')}.${pg.escapeIdentifier('user')}`;
const ORGANIZATION_TABLE = `${pg.escapeIdentifier('neon_auth')}.${pg.escapeIdentifier('organization')}`;
const MEMBER_TABLE = `${pg.escapeIdentifier('neon_auth')}.${pg.escapeIdentifier('member')}`;
/** A user row as its users_sync raw_json (the expression the trigger writes, so the two compare equal). */
const SELECT_USERS = `SELECT ${rawJsonSql('j.u')} AS raw FROM ${USER_TABLE} x, LATERAL (SELECT pg_catalog.to_jsonb(x) AS u) j`;

/** Reads of Better Auth's tables in a branch database, as the tenant-data role (the provider adapter's list and get, the JWT's `o` claim). */
@Injectable()
export class BetterAuthUsers {
  constructor(private readonly cluster: BranchDatabaseCluster) {}

  /** The user's users_sync raw_json, or undefined. `id` must be a uuid. */
  async one(physicalName: string, id: string): Promise<Record<string, unknown> | undefined> {
    const pool = await this.cluster.tenantDataPoolFor(physicalName);
    const { rows } = await pool.query<{ raw: Record<string, unknown> }>(`${SELECT_USERS} WHERE x.id = $1::uuid`, [id]);
    return rows[0]?.raw;
  }

  /** The user's membership of an organization (Neon's `o` claim: id, slug, role), or undefined when not a member. */
  async membership(physicalName: string, organizationId: string, userId: string): Promise<{ id: string; slug: string; role: string } | undefined> {
    const pool = await this.cluster.tenantDataPoolFor(physicalName);
    const { rows } = await pool.query<{ id: string; slug: string; role: string }>(
      `SELECT o.id::text AS id, o.slug, m.role
         FROM ${ORGANIZATION_TABLE} o JOIN ${MEMBER_TABLE} m ON m."organizationId" = o.id
        WHERE o.id = $1::uuid AND m."userId" = $2::uuid`,
      [organizationId, userId],
    );
    return rows[0];
  }

  /** Up to `limit` users after the id `after` (a uuid, or null for the first page), in id order. */
  async page(physicalName: string, after: string | null, limit: number): Promise<Record<string, unknown>[]> {
    const pool = await this.cluster.tenantDataPoolFor(physicalName);
    const { rows } = await pool.query<{ raw: Record<string, unknown> }>(`${SELECT_USERS} WHERE ($1::uuid IS NULL OR x.id > $1::uuid) ORDER BY x.id LIMIT $2`, [after, limit]);
    return rows.map((r) => r.raw);
  }
}
