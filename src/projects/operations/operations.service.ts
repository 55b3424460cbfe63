import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import type { Logger } from 'pino';
import { DataSource, In, IsNull, Like, Not, Or, type EntityManager } from 'typeorm';
import { CrashPoints } from '../../common/crash-points.js';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { ComputeBusyError } from '../branch-databases/branch-database-cluster.js';
import { LOGGER } from '../../common/logger.js';
import { keysetPage } from '../../common/pagination.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { OperationEntity, UNFINISHED_STATUSES, type OperationStatus } from './operation.entity.js';

/** Days an ended operation of a deleted project is kept (an existing project keeps its whole history, as on Neon). */
export const DELETED_PROJECT_OPERATIONS_RETENTION_DAYS = 7;
/** Failed attempts of an operation's work before one that can be undone is rolled back instead of retried. */
export const MAX_OPERATION_FAILURES = 5;
/** Longest wait between two attempts of a failing operation, in seconds. */
const MAX_RETRY_DELAY_SECONDS = 300;
/** The advisory lock key of an operation: the first 64 bits of its (random) uuid, so two operations never share one. */
const LOCK_KEY_SQL = `('x' || left(replace($1::text, '-', ''), 16))::bit(64)::bigint`;
/** Operations driven at once by one process (each holds a connection of the lock pool while it runs). */
const LOCK_POOL_SIZE = 16;

/** An operation being driven: its rows and a way to record progress in its plan. */
export interface RunningOperation<P extends object = Record<string, unknown>> {
  readonly op: OperationEntity;
  /** This driver's lease (see OperationEntity.lease). */
  readonly lease: string;
  readonly plan: P;
  /** Merges `patch` into the plan and stores it before returning (so a crash after this keeps it). */
  save(patch: Partial<P>): Promise<void>;
}

/**
 * What a kind of operation does. The work must be idempotent: after a crash it runs again from the start, with
 * the plan as far as it was saved.
 */
export interface OperationHandler<P extends object = Record<string, unknown>> {
  /** Does the work (or what is left of it). Needed when `interrupted` is 'forward'. */
  forward?(run: RunningOperation<P>): Promise<unknown>;
  /** Undoes whatever the work may have done, idempotently. Needed when `interrupted` is 'rollback'. */
  rollback?(run: RunningOperation<P>): Promise<void>;
  /**
   * What the API may show of a failure (GET /operations `error`): the handler's own mapping. Without it, an ApiError's
   * message, else only the kind of failure (the cause goes to the log).
   */
  describe?(err: unknown, op: OperationEntity): string | undefined;
  /**
   * After a crash, when no process drives the operation any more: resume the work, or undo it (for work whose
   * result only its caller could use, such as keys shown once).
   */
  interrupted: 'forward' | 'rollback';
  /** In the transaction that marks the operations finished (e.g. the branch becomes ready). */
  finished?(tx: EntityManager, run: RunningOperation<P>): Promise<void>;
  /** In the transaction that marks the operations failed, after the rollback (e.g. the half-made rows go). */
  failed?(tx: EntityManager, run: RunningOperation<P>): Promise<void>;
}

/** One operation to record; the first one recorded with a `kind` carries the work of the group. */
export interface OperationSpec {
  action: string;
  projectId: string;
  branchId?: string | null;
  endpointId?: string | null;
}

/** Records the operations of one group inside the caller's transaction. */
export interface OperationRecorder {
  /** The operation that carries the work: `kind` names its handler, `plan` is what the handler gets. */
  work<P extends object>(kind: string, spec: OperationSpec, plan: P): Promise<void>;
  /** Another operation of the group, finished or failed with it (e.g. `start_compute` beside `create_timeline`). */
  also(spec: OperationSpec): Promise<void>;
}

/** The result of `perform`: the caller's value, the group's operations as they ended, and the work's result. */
export interface Performed<T> {
  value: T;
  result: unknown;
  operations: OperationEntity[];
}

/** The operation's lease went to another process (this one lost its lock): stop, write nothing more. */
export class OperationLeaseLost extends Error {
  constructor(readonly operationId: string) {
    super(`operation ${operationId}: another process took it over`);
  }
}

/** An operation's work failed and was rolled back; `cause` is what failed (the caller maps it to its answer). */
export class OperationRolledBack extends Error {
  constructor(readonly cause: unknown) {
    super(`operation rolled back: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/**
 * Durable control-plane operations (Neon's `operations`): creating or deleting a project, branch or database,
 * enabling or disabling Neon Auth. The operation is recorded, in the same transaction as the rows it is about,
 * before any physical work starts; then the work runs while this process holds the operation's advisory lock
 * (a session lock on a connection of its own, so it ends with the process). The reconciler
 * (OperationsReconciler) takes over every unfinished operation whose lock is free: its process died, or its work
 * failed and waits for a retry. Handlers are registered per kind by the features that own the work.
 */
@Injectable()
export class OperationsService implements OnApplicationShutdown {
  private readonly handlers = new Map<string, OperationHandler<never>>();
  private lockPool?: pg.Pool;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly crash: CrashPoints,
  ) {}

  register<P extends object>(kind: string, handler: OperationHandler<P>): void {
    if (this.handlers.has(kind)) throw new Error(`operation kind ${kind} is registered twice`);
    this.handlers.set(kind, handler as OperationHandler<never>);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.lockPool?.end().catch(() => undefined);
  }

  /**
   * Records a group of operations in a transaction with the caller's rows (`prepare`), then drives its work in
   * this request. The work failing rolls it back when its handler can (OperationRolledBack, with the cause);
   * otherwise the operation is left in `error` for the reconciler to retry, and this returns normally.
   */
  async perform<T>(prepare: (tx: EntityManager, record: OperationRecorder) => Promise<T>): Promise<Performed<T>> {
    const groupId = randomUUID();
    let lock: Awaited<ReturnType<OperationsService['lock']>>;
    try {
      lock = await this.lock(groupId);
    } catch (err) {
      // Every connection of the lock pool drives an operation and none came free in time: retry-safe (503).
      if (err instanceof Error && /timeout exceeded when trying to connect/.test(err.message)) {
        throw new ApiError(ErrorCode.ServiceUnavailable, `too many operations are in progress on this server (${LOCK_POOL_SIZE}); retry shortly`);
      }
      throw err;
    }
    if (!lock) throw new Error(`operation ${groupId}: a fresh lock was taken`);
    try {
      let kind: string | undefined;
      const value = await this.db.transaction(async (tx) => {
        const recorder: OperationRecorder = {
          work: async (k, spec, plan) => {
            if (kind !== undefined) throw new Error(`operation group ${groupId} has two works`);
            if (!this.handlers.has(k)) throw new Error(`no handler for operation kind ${k}`);
            kind = k;
            await this.insert(tx, groupId, groupId, spec, { kind: k, plan: plan as Record<string, unknown>, status: 'running' });
          },
          also: async (spec) => {
            await this.insert(tx, randomUUID(), groupId, spec, { kind: null, plan: null, status: 'scheduling' });
          },
        };
        return prepare(tx, recorder);
      });
      if (kind === undefined) return { value, result: undefined, operations: [] };
      this.crash.reach(`${kind}:recorded`);
      const result = await this.drive(groupId, 'request');
      return { value, result, operations: await this.group(groupId) };
    } finally {
      await lock.release();
    }
  }

  /**
   * Records, in the caller's transaction, a group whose work no request drives: the reconciler takes it up (call
   * OperationsReconciler.kick after the commit to start it at once). Returns its id.
   */
  async enqueue<P extends object>(tx: EntityManager, kind: string, spec: OperationSpec, plan: P): Promise<string> {
    if (!this.handlers.has(kind)) throw new Error(`no handler for operation kind ${kind}`);
    const id = randomUUID();
    await this.insert(tx, id, id, spec, { kind, plan: plan as Record<string, unknown>, status: 'scheduling' });
    return id;
  }

  /**
   * Drives an unfinished group no process holds (the reconciler's entry): resumes or undoes it as its handler says.
   * Returns false when another process holds it or it is over.
   */
  async recover(groupId: string): Promise<boolean> {
    const lock = await this.lock(groupId);
    if (!lock) return false;
    try {
      const op = await this.db.getRepository(OperationEntity).findOneBy({ id: groupId });
      if (!op || !UNFINISHED_STATUSES.includes(op.status)) return false;
      await this.drive(groupId, 'recover').catch((err: unknown) => {
        if (!(err instanceof OperationRolledBack)) throw err;
      });
      return true;
    } finally {
      await lock.release();
    }
  }

  /** The ids of unfinished groups that are due (not waiting for a retry), oldest first. */
  async dueGroups(limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(
      // The status list is written out so that the partial index operations_unfinished_idx serves the scan.
      `SELECT id FROM operations
        WHERE status IN ('scheduling', 'running', 'error', 'cancelling') AND kind IS NOT NULL
          AND (retry_at IS NULL OR retry_at <= now())
        ORDER BY created_at, id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Deletes the ended operations of projects that no longer exist, once they are older than
   * DELETED_PROJECT_OPERATIONS_RETENTION_DAYS (nobody can read them through the API). Returns how many went.
   */
  async pruneEnded(): Promise<number> {
    const rows: unknown[] = await this.db.query(
      `DELETE FROM operations WHERE id IN (
         SELECT o.id FROM operations o
          WHERE o.status IN ('finished', 'failed', 'cancelled', 'skipped')
            AND o.updated_at < now() - make_interval(days => $1)
            AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = o.project_id)
          LIMIT 10000)
       RETURNING 1`,
      [DELETED_PROJECT_OPERATIONS_RETENTION_DAYS],
    );
    return rows.length;
  }

  /**
   * Unfinished operations on these branches (a new operation on them waits for these: 423). `computeOnly`: only those
   * whose work touches the branch's databases and roles (a creation need not wait for Neon Auth's provider calls).
   */
  async unfinishedOn(manager: EntityManager, projectId: string, branchIds?: string[], computeOnly = false): Promise<OperationEntity[]> {
    return manager.getRepository(OperationEntity).find({
      where: {
        projectId,
        status: In(UNFINISHED_STATUSES),
        ...(branchIds ? { branchId: In(branchIds) } : {}),
        ...(computeOnly ? { kind: Or(IsNull(), Not(Like('neon_auth.%'))) } : {}),
      },
      order: { createdAt: 'ASC' },
      take: 5,
    });
  }

  /** GET /projects/{id}/operations: newest first, keyset-paged. */
  async list(projectId: string, query: { cursor?: string; limit?: number }): Promise<{ operations: OperationEntity[]; cursor?: string }> {
    const qb = this.db.getRepository(OperationEntity).createQueryBuilder('o').select('o.id', 'id').where('o.project_id = :projectId', { projectId });
    const page = await keysetPage<OperationEntity, { id: string }>(qb, {
      sortExpr: 'o.created_at',
      sortType: 'timestamptz',
      idExpr: 'o.id',
      order: 'desc',
      limit: query.limit ?? 10,
      cursor: query.cursor,
    });
    const rows = await this.db.getRepository(OperationEntity).findBy({ id: In(page.rows.map((r) => r.id)) });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return { operations: page.rows.map((r) => byId.get(r.id)!).filter(Boolean), ...(page.next ? { cursor: page.next } : {}) };
  }

  /** GET /projects/{id}/operations/{operation_id}: 404 for an operation of another project. */
  async get(projectId: string, operationId: string): Promise<OperationEntity> {
    const op = await this.db.getRepository(OperationEntity).findOneBy({ id: operationId, projectId });
    if (!op) throw ApiError.notFound(`operation ${operationId}`);
    return op;
  }

  /** The operations of a group, in the order they were recorded. */
  group(groupId: string): Promise<OperationEntity[]> {
    return this.db.getRepository(OperationEntity).find({ where: { groupId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  // ---------------------------------------------------------------------------------------------------

  private async drive(groupId: string, mode: 'request' | 'recover'): Promise<unknown> {
    // Taking the lease fences off whoever drove it before (a process that lost its lock without noticing).
    const lease = randomUUID();
    await this.db.query('UPDATE operations SET lease = $2 WHERE id = $1', [groupId, lease]);
    const op = await this.db.getRepository(OperationEntity).findOneByOrFail({ id: groupId });
    const handler = this.handlers.get(op.kind!) as OperationHandler<Record<string, unknown>> | undefined;
    if (!handler) {
      // Written by a newer version, or a kind no longer registered here: leave it for a process that knows it.
      this.logger.error({ operationId: op.id, kind: op.kind }, 'operations: no handler for this kind of operation; left as it is');
      return undefined;
    }
    const run = this.runningOperation(op, lease);
    const undo = mode === 'recover' && (op.rollingBack || (handler.interrupted === 'rollback' && op.status !== 'error'));
    if (undo || !handler.forward) return this.undo(handler, run, undefined);
    let result: unknown;
    try {
      result = await handler.forward(run);
      this.crash.reach(`${op.kind}:forwarded`);
      // In the attempt: a refusal here (e.g. a unique index) undoes the work like a failed step.
      await this.db.transaction(async (tx) => {
        await this.setStatus(tx, run, 'finished', null);
        await handler.finished?.(tx, run);
      });
    } catch (err) {
      if (err instanceof OperationLeaseLost) throw err;
      const failures = op.failuresCount + 1;
      if (handler.rollback && (mode === 'request' || failures >= MAX_OPERATION_FAILURES)) return this.undo(handler, run, err);
      await this.markError(handler, run, failures, err);
      if (mode === 'request') {
        this.logger.warn({ operationId: op.id, action: op.action, err }, 'operation failed; the reconciler retries it');
        return undefined;
      }
      throw err;
    }
    return result;
  }

  /** Rolls the group back (recording that it is rolling back first, so a crash resumes the rollback), then throws. */
  private async undo(handler: OperationHandler<Record<string, unknown>>, run: RunningOperation, cause: unknown): Promise<never> {
    const op = run.op;
    if (!handler.rollback) throw new Error(`operation ${op.id} (${op.kind}) cannot be rolled back`);
    const reason = cause === undefined ? (op.error ?? 'interrupted: the process driving it stopped') : this.describe(handler, op, cause);
    await this.fenced(this.db.manager, run, `UPDATE operations SET rolling_back = true, error = $3, updated_at = now() WHERE id = $1 AND lease = $2`, [reason]);
    try {
      await handler.rollback(run);
    } catch (err) {
      if (err instanceof OperationLeaseLost) throw err;
      await this.markError(handler, run, op.failuresCount + 1, err);
      this.logger.error({ operationId: op.id, kind: op.kind, err }, 'operations: rollback failed; the reconciler retries it');
      throw new OperationRolledBack(cause ?? err);
    }
    this.crash.reach(`${op.kind}:rolled-back`);
    await this.db.transaction(async (tx) => {
      await this.setStatus(tx, run, 'failed', reason);
      await handler.failed?.(tx, run);
    });
    this.logger.info({ operationId: op.id, kind: op.kind, reason }, 'operation rolled back');
    throw new OperationRolledBack(cause ?? new Error(reason));
  }

  /**
   * Records a failed attempt: `error`, retried at `retry_at` with a doubling delay (at most MAX_RETRY_DELAY_SECONDS).
   * It never gives up: a drop left half-done would leave a real database or a login behind. From the fifth failure on,
   * each failure is logged as an error naming the plan, for an operator.
   */
  private async markError(handler: OperationHandler<Record<string, unknown>>, run: RunningOperation, failures: number, err: unknown): Promise<void> {
    const op = run.op;
    const message = this.describe(handler, op, err);
    op.failuresCount = failures;
    if (failures >= MAX_OPERATION_FAILURES) {
      this.logger.error(
        { operationId: op.id, kind: op.kind, action: op.action, projectId: op.projectId, plan: op.plan, failures, err },
        'operations: an operation keeps failing; it is retried every few minutes until its work is done (see its plan)',
      );
    }
    const delay = Math.min(MAX_RETRY_DELAY_SECONDS, 2 ** Math.min(failures, 16));
    await this.fenced(
      this.db.manager,
      run,
      `UPDATE operations SET status = 'error', failures_count = $3, error = $4, retry_at = now() + make_interval(secs => $5), updated_at = now()
        WHERE id = $1 AND lease = $2`,
      [failures, message, delay],
    );
    await this.db.query(`UPDATE operations SET error = $2, updated_at = now() WHERE group_id = $1 AND kind IS NULL`, [op.groupId, message]);
  }

  /** What GET /operations shows of a failure (never a raw driver or network message: those go to the log). */
  private describe(handler: OperationHandler<Record<string, unknown>>, op: OperationEntity, err: unknown): string {
    const described = handler.describe?.(err, op) ?? (err instanceof ApiError ? err.message : err instanceof ComputeBusyError ? err.message : undefined);
    return (described ?? `${err instanceof Error ? err.name : 'error'}: see the server log (operation ${op.id})`).slice(0, 2000);
  }

  /** Ends the group (the work operation only while `run` holds its lease; OperationLeaseLost otherwise). */
  private async setStatus(tx: EntityManager, run: RunningOperation, status: OperationStatus, error: string | null): Promise<void> {
    await this.fenced(tx, run, `UPDATE operations SET status = $3, error = $4, retry_at = NULL, updated_at = now() WHERE id = $1 AND lease = $2`, [status, error]);
    await tx.query(`UPDATE operations SET status = $2, error = $3, retry_at = NULL, updated_at = now() WHERE group_id = $1 AND kind IS NULL`, [run.op.groupId, status, error]);
  }

  /** Runs an UPDATE of the work operation guarded by `id = $1 AND lease = $2`; OperationLeaseLost when it matched nothing. */
  private async fenced(manager: EntityManager, run: RunningOperation, sql: string, params: unknown[]): Promise<void> {
    const [, count] = (await manager.query(sql, [run.op.id, run.lease, ...params])) as [unknown, number];
    if (count !== 1) throw new OperationLeaseLost(run.op.id);
  }

  private runningOperation(op: OperationEntity, lease: string): RunningOperation {
    const plan = { ...(op.plan ?? {}) };
    const run: RunningOperation = {
      op,
      lease,
      plan,
      save: async (patch) => {
        Object.assign(plan, patch);
        await this.fenced(this.db.manager, run, `UPDATE operations SET plan = $3, updated_at = now() WHERE id = $1 AND lease = $2`, [JSON.stringify(plan)]);
      },
    };
    return run;
  }

  private async insert(
    tx: EntityManager,
    id: string,
    groupId: string,
    spec: OperationSpec,
    fields: Pick<OperationEntity, 'kind' | 'plan' | 'status'>,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO operations (id, group_id, project_id, branch_id, endpoint_id, action, status, kind, plan, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, clock_timestamp(), clock_timestamp())`,
      [id, groupId, spec.projectId, spec.branchId ?? null, spec.endpointId ?? null, spec.action, fields.status, fields.kind, fields.plan === null ? null : JSON.stringify(fields.plan)],
    );
  }

  /** Takes the group's advisory lock on a connection of its own; null when another session holds it. */
  private async lock(groupId: string): Promise<{ release(): Promise<void> } | null> {
    this.lockPool ??= this.newLockPool();
    const client = await this.lockPool.connect();
    // A lock connection that breaks while checked out (failover, a terminated backend) must not crash the process: the
    // lock is gone with it, and the lease fences off whatever this process still writes.
    // The listener goes with the checkout: the pool reuses its clients, and one left behind per operation would pile up.
    const onError = (err: Error): void => this.logger.warn({ err, operationId: groupId }, 'operations: the lock connection of an operation broke; its lock is lost');
    client.on('error', onError);
    const giveBack = (destroy?: boolean): void => {
      client.off('error', onError);
      client.release(destroy);
    };
    try {
      const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY_SQL}) AS ok`, [groupId]);
      if (!rows[0].ok) {
        giveBack();
        return null;
      }
    } catch (err) {
      giveBack(true);
      throw err;
    }
    return {
      release: async () => {
        try {
          await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY_SQL})`, [groupId]);
          giveBack();
        } catch {
          giveBack(true); // a broken connection takes its locks with it
        }
      },
    };
  }

  private newLockPool(): pg.Pool {
    if (!this.config.databaseUrl) throw new Error('operations: no control-plane database URL');
    const pool = new pg.Pool({
      connectionString: this.config.databaseUrl,
      max: LOCK_POOL_SIZE,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
      application_name: 'neon-auth-control-plane:operations',
    });
    pool.on('error', (err) => this.logger.warn({ err }, 'operations: idle lock connection failed'));
    return pool;
  }
}

