import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import { EntityManager, type DataSource } from 'typeorm';
import { inTransaction } from '../../common/pg-transaction.js';
import { controlPlanePool, runPrepared, type PreparedStatement } from '../../database/pg-pool.js';
import type { RiskScores, StackUserEntity } from '../entities/stack-user.entity.js';
import { ENQUEUED_COLUMN, enqueuedSelect, outboxInsert, parseEnqueued, type EnqueuedEvent } from '../webhooks/outbox.service.js';

/**
 * A row of stack_auth.users as the statements here read it (USER_COLUMNS): jsonb parsed, bigint as text, and the two
 * times as epoch milliseconds (floored, as a JavaScript Date made from the timestamptz would be; no Date parsing).
 */
export interface UserRow {
  id: string;
  project_id: string;
  display_name: string | null;
  primary_email: string | null;
  primary_email_verified: boolean;
  primary_email_auth_enabled: boolean;
  password_hash: string | null;
  profile_image_url: string | null;
  client_metadata: unknown;
  client_read_only_metadata: unknown;
  server_metadata: unknown;
  otp_auth_enabled: boolean;
  passkey_auth_enabled: boolean;
  totp_secret_encrypted: string | null;
  is_anonymous: boolean;
  restricted_by_admin: boolean;
  restricted_by_admin_reason: string | null;
  restricted_by_admin_private_details: string | null;
  country_code: string | null;
  risk_scores: RiskScores;
  version: string;
  signed_up_at_ms: string;
  last_active_at_ms: string;
}

/** A written user with the outbox rows its event got (one per enabled endpoint of the project). */
export interface UserWrite {
  user: StackUserEntity;
  events: EnqueuedEvent[];
}

/** The values of a user that a create or an update writes (everything but id, project, times and version). */
export interface UserValues {
  displayName: string | null;
  primaryEmail: string | null;
  primaryEmailVerified: boolean;
  primaryEmailAuthEnabled: boolean;
  passwordHash: string | null;
  profileImageUrl: string | null;
  clientMetadata: unknown;
  clientReadOnlyMetadata: unknown;
  serverMetadata: unknown;
  otpAuthEnabled: boolean;
  passkeyAuthEnabled: boolean;
  totpSecretEncrypted: string | null;
  isAnonymous: boolean;
  restrictedByAdmin: boolean;
  restrictedByAdminReason: string | null;
  restrictedByAdminPrivateDetails: string | null;
  countryCode: string | null;
  riskScores: RiskScores;
}

/** Epoch milliseconds of a timestamptz, floored like a JavaScript Date made from it (exact: numeric arithmetic). */
const millis = (column: string): string => `floor(extract(epoch FROM ${column}) * 1000)::bigint`;

/** The event payload's two times are the written row's own (as USER_COLUMNS reads them). */
const EVENT_WITH_ROW_TIMES = `jsonb_set(jsonb_set($PAYLOAD::jsonb,
    '{data,signed_up_at_millis}', to_jsonb(u.signed_up_at_ms)), '{data,last_active_at_millis}', to_jsonb(u.last_active_at_ms))`;

/** $1..$18: the UserValues columns, in this order. */
const VALUE_COLUMNS = [
  'display_name',
  'primary_email',
  'primary_email_verified',
  'primary_email_auth_enabled',
  'password_hash',
  'profile_image_url',
  'client_metadata',
  'client_read_only_metadata',
  'server_metadata',
  'otp_auth_enabled',
  'passkey_auth_enabled',
  'totp_secret_encrypted',
  'is_anonymous',
  'restricted_by_admin',
  'restricted_by_admin_reason',
  'restricted_by_admin_private_details',
  'country_code',
  'risk_scores',
] as const;

/**
 * Every column a statement reads back, named: a prepared statement that read `*` would fail on every pooled connection
 * that prepared it ("cached plan must not change result type") once a migration adds a column, as during a rolling
 * deploy.
 */
export function userColumns(alias = ''): string {
  const a = alias === '' ? '' : `${alias}.`;
  return [
    ...['id', 'project_id', ...VALUE_COLUMNS, 'version'].map((c) => `${a}${c}`),
    `${millis(`${a}signed_up_at`)} AS signed_up_at_ms`,
    `${millis(`${a}last_active_at`)} AS last_active_at_ms`,
  ].join(', ');
}
const USER_COLUMNS = userColumns();
/** USER_COLUMNS' names, read from a CTE `u` that returned them. */
const U_USER_COLUMNS = ['id', 'project_id', ...VALUE_COLUMNS, 'version', 'signed_up_at_ms', 'last_active_at_ms'].map((c) => `u.${c}`).join(', ');

const VALUE_PARAMS = VALUE_COLUMNS.map((column, i) => `$${i + 1}${column.endsWith('metadata') || column === 'risk_scores' ? '::jsonb' : ''}`);

/** One statement, one commit: the user row and its `user.created` outbox rows. $19 id, $20 project, $21 payload. */
const CREATE: PreparedStatement = {
  name: 'stack_users_create',
  text: `WITH u AS (
    INSERT INTO stack_auth.users (${VALUE_COLUMNS.join(', ')}, id, project_id, signed_up_at, last_active_at, version)
    VALUES (${VALUE_PARAMS.join(', ')}, $19, $20, now(), now(), 1)
    RETURNING ${USER_COLUMNS}
  ), ${outboxInsert('o', 'u', 'user.created', EVENT_WITH_ROW_TIMES.replace('$PAYLOAD', '$21'))}
  SELECT ${U_USER_COLUMNS}, ${enqueuedSelect('o')} FROM u`,
};

/**
 * One statement, one commit: the user row (only if it still has version $21: a concurrent change makes it match
 * nothing, and the caller reads again) and its `user.updated` outbox rows. $19 id, $20 project, $22 whether it signs
 * up now (an anonymous user becoming a regular one), $23 payload. last_active_at is never written here: activity
 * moves it without a version bump.
 */
const UPDATE: PreparedStatement = {
  name: 'stack_users_update',
  text: `WITH u AS (
    UPDATE stack_auth.users SET ${VALUE_COLUMNS.map((c, i) => `${c} = ${VALUE_PARAMS[i]}`).join(', ')},
      signed_up_at = CASE WHEN $22::boolean THEN now() ELSE signed_up_at END, version = version + 1
    WHERE id = $19 AND project_id = $20 AND version = $21::bigint
    RETURNING ${USER_COLUMNS}
  ), ${outboxInsert('o', 'u', 'user.updated', EVENT_WITH_ROW_TIMES.replace('$PAYLOAD', '$23'))}
  SELECT ${U_USER_COLUMNS}, ${enqueuedSelect('o')} FROM u`,
};

/** Revokes every live session of user $1 (run after a password change, in its transaction: a statement of its own sees the sessions committed meanwhile). */
const REVOKE_SESSIONS: PreparedStatement = {
  name: 'stack_users_revoke_sessions',
  text: 'UPDATE stack_auth.sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL',
};

/** One statement, one commit: the user gone (sessions by cascade) and its `user.deleted` outbox rows ($3). */
const DELETE: PreparedStatement = {
  name: 'stack_users_delete',
  text: `WITH u AS (
    DELETE FROM stack_auth.users WHERE id = $1 AND project_id = $2 RETURNING id, project_id
  ), ${outboxInsert('o', 'u', 'user.deleted', '$3::jsonb')}
  SELECT u.id, ${enqueuedSelect('o')} FROM u`,
};

const FIND: PreparedStatement = {
  name: 'stack_users_find',
  text: `SELECT ${USER_COLUMNS} FROM stack_auth.users WHERE project_id = $1 AND id = $2`,
};

const FIND_FOR_UPDATE: PreparedStatement = {
  name: 'stack_users_find_for_update',
  text: `SELECT ${USER_COLUMNS} FROM stack_auth.users WHERE project_id = $1 AND id = $2 FOR UPDATE`,
};

/** A jsonb parameter: JSON text, or SQL NULL for null/undefined (pg would turn a JS array into a Postgres array). */
function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function valueParams(v: UserValues): unknown[] {
  return [
    v.displayName,
    v.primaryEmail,
    v.primaryEmailVerified,
    v.primaryEmailAuthEnabled,
    v.passwordHash,
    v.profileImageUrl,
    json(v.clientMetadata),
    json(v.clientReadOnlyMetadata),
    json(v.serverMetadata),
    v.otpAuthEnabled,
    v.passkeyAuthEnabled,
    v.totpSecretEncrypted,
    v.isAnonymous,
    v.restrictedByAdmin,
    v.restrictedByAdminReason,
    v.restrictedByAdminPrivateDetails,
    v.countryCode,
    JSON.stringify(v.riskScores),
  ];
}

/** The user object of a row (a plain object of the entity's shape: no TypeORM hydration). */
export function userFromRow(r: UserRow): StackUserEntity {
  return {
    id: r.id,
    projectId: r.project_id,
    displayName: r.display_name,
    primaryEmail: r.primary_email,
    primaryEmailVerified: r.primary_email_verified,
    primaryEmailAuthEnabled: r.primary_email_auth_enabled,
    passwordHash: r.password_hash,
    profileImageUrl: r.profile_image_url,
    clientMetadata: r.client_metadata,
    clientReadOnlyMetadata: r.client_read_only_metadata,
    serverMetadata: r.server_metadata,
    otpAuthEnabled: r.otp_auth_enabled,
    passkeyAuthEnabled: r.passkey_auth_enabled,
    totpSecretEncrypted: r.totp_secret_encrypted,
    isAnonymous: r.is_anonymous,
    restrictedByAdmin: r.restricted_by_admin,
    restrictedByAdminReason: r.restricted_by_admin_reason,
    restrictedByAdminPrivateDetails: r.restricted_by_admin_private_details,
    countryCode: r.country_code,
    riskScores: r.risk_scores,
    signedUpAt: new Date(Number(r.signed_up_at_ms)),
    lastActiveAt: new Date(Number(r.last_active_at_ms)),
    version: r.version,
  };
}

type WrittenRow = UserRow & { [ENQUEUED_COLUMN]: unknown };

function writeOf(row: WrittenRow): UserWrite {
  return { user: userFromRow(row), events: parseEnqueued(row[ENQUEUED_COLUMN]) };
}

/** Where a statement runs: the pool (its own transaction), a client in a transaction, or a TypeORM transaction. */
export type UsersSql = pg.Pool | pg.PoolClient | EntityManager;

async function run<R extends pg.QueryResultRow>(on: UsersSql | undefined, pool: pg.Pool, statement: PreparedStatement, values: unknown[]): Promise<R[]> {
  if (on instanceof EntityManager) return (await on.query(statement.text, values)) as R[];
  return runPrepared<R>(on ?? pool, statement, values);
}

/**
 * The embedded provider's user rows in plain SQL on the control-plane pool: each change is one prepared statement
 * that writes the user and its webhook event together (one round trip, one commit), and rows are mapped by hand.
 * The rules (validation, what a change means) are StackUsersService's; this class only reads and writes.
 */
@Injectable()
export class StackUsersStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private get pool(): pg.Pool {
    return controlPlanePool(this.db);
  }

  async find(projectId: string, userId: string, on?: UsersSql): Promise<StackUserEntity | null> {
    const [row] = await run<UserRow>(on, this.pool, FIND, [projectId, userId]);
    return row ? userFromRow(row) : null;
  }

  /** The row locked for the caller's transaction (`on` must be one). */
  async findForUpdate(projectId: string, userId: string, on: pg.PoolClient): Promise<StackUserEntity | null> {
    const [row] = await runPrepared<UserRow>(on, FIND_FOR_UPDATE, [projectId, userId]);
    return row ? userFromRow(row) : null;
  }

  /** Inserts the user (id chosen by the caller) with its `user.created` events; `payload` is the event with placeholder times. */
  async create(projectId: string, id: string, values: UserValues, payload: string, on?: UsersSql): Promise<UserWrite> {
    const [row] = await run<WrittenRow>(on, this.pool, CREATE, [...valueParams(values), id, projectId, payload]);
    return writeOf(row);
  }

  /** Writes the user if it is still at `version`; null when it is not (changed or deleted meanwhile). */
  async update(
    projectId: string,
    id: string,
    version: string,
    values: UserValues,
    change: { signsUpNow: boolean; payload: string },
    on?: UsersSql,
  ): Promise<UserWrite | null> {
    const [row] = await run<WrittenRow>(on, this.pool, UPDATE, [...valueParams(values), id, projectId, version, change.signsUpNow, change.payload]);
    return row ? writeOf(row) : null;
  }

  /** Revokes the user's live sessions, in the caller's transaction (after the password change it follows). */
  async revokeSessions(userId: string, on: pg.PoolClient): Promise<void> {
    await runPrepared(on, REVOKE_SESSIONS, [userId]);
  }

  /** Deletes the user with its `user.deleted` events; null when there was no such user. */
  async delete(projectId: string, id: string, payload: string): Promise<EnqueuedEvent[] | null> {
    const [row] = await runPrepared<{ id: string; [ENQUEUED_COLUMN]: unknown }>(this.pool, DELETE, [id, projectId, payload]);
    return row ? parseEnqueued(row[ENQUEUED_COLUMN]) : null;
  }

  /** A transaction on its own pooled client (BEGIN … COMMIT, ROLLBACK on failure). */
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

}
