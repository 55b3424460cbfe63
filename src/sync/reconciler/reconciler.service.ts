import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, type QueryRunner } from 'typeorm';
import { databaseNow } from '../../common/db-clock.js';
import { readAhead } from '../../common/read-ahead.js';
import { LOGGER } from '../../common/logger.js';
import { NeonAuthIntegrationResolver } from '../../neon-auth/integrations/integration-resolver.js';
import type { NeonAuthIntegrationEntity } from '../../neon-auth/integrations/integration.entity.js';
import type { UsersSyncRow } from '../../neon-auth/users-sync/users-sync.statements.js';
import { NeonAuthUsersSyncStore } from '../../neon-auth/users-sync/users-sync.store.js';
import type { BranchDatabase } from '../../projects/branch-databases/branch-databases.service.js';
import {
  iterateProviderPages,
  MAX_PROVIDER_PAGE_SIZE,
  ProviderUserNotFound,
  type AuthProvider,
  type ListUsersRequest,
  type ProviderCredentials,
  type ProviderUser,
  type ProviderUserPage,
} from '../../providers/auth-provider.port.js';
import { NeonAuthSyncReconciliationEntity, type ReconcileCounts } from './reconciliation.entity.js';
import { isUuid } from '../../common/validation.js';

/** pg_advisory_lock(RECONCILE_LOCK_CLASS, hashtext(integration id)) on the control-plane database: one run per integration. ASCII "recn". */
export const RECONCILE_LOCK_CLASS = 0x7265_636e;
/** Users compared and written per batch (one compare query, at most two upsert calls). */
const BATCH = 1_000;
/** Provider pages requested ahead of the one being compared and written. */
const PAGES_AHEAD = 2;
/** Batches written at the same time (each on its own connection of the branch database's pool). */
const WRITES_IN_FLIGHT = 2;
/** Complete listings tried before a run gives up on deleting (each retry restarts the listing). */
const MAX_LISTINGS = 3;
/** Parallel provider.getUser re-checks of deletion candidates. */
const RECHECK_CONCURRENCY = 8;

interface Listing {
  /** Whether the listing ended normally and provably reached the end (see listUsers' cursor note below). */
  complete: boolean;
  seen: Set<string>;
}

interface Run {
  integrationId: string;
  target: BranchDatabase;
  provider: AuthProvider;
  credentials: ProviderCredentials;
  /** id -> deleted, for every row of users_sync; kept current with this run's own writes. */
  rows: Map<string, boolean>;
  counts: ReconcileCounts;
  /** Ids this run wrote (so a repeated listing does not count them as unchanged). */
  written: Set<string>;
}

/**
 * Repairs drift between a provider project's users and the integration's `neon_auth.users_sync`:
 * missing rows are inserted, rows whose `raw_json` differs (or that are marked deleted while the user
 * exists) are updated, live rows of users the provider no longer has are soft-deleted. All writes go
 * through NeonAuthUsersSyncStore (its ordering rule: a state is stamped with the time its page was
 * requested, on the control-plane database's clock like every other version, so a webhook carrying a later
 * change always wins, and a stale read never overwrites it).
 *
 * Deletion is only ever inferred from a listing that provably reached the end. Stack Auth pages with "the
 * id of the previous page's last user" as cursor: when that user is deleted between two pages, the next
 * page comes back EMPTY with no next cursor — it looks exactly like the end of the list. (The embedded
 * provider's keyset cursor and the mock's tombstones go on after such a deletion; a real Stack Auth does not.) So a listing whose last page was empty after a cursor counts as
 * complete only if the cursor's user still exists (provider.getUser); otherwise the listing is restarted
 * (up to MAX_LISTINGS times) and, if none completes, nothing is deleted (`complete: false`). Every
 * deletion candidate is then re-checked with provider.getUser, and only ProviderUserNotFound deletes.
 *
 * One run per integration at a time across replicas (a session advisory lock on the control-plane
 * database); `last_reconciled_at` (neon_auth_sync_reconciliations) is the start of the last complete run.
 */
@Injectable()
export class SyncReconcilerService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly integrations: NeonAuthIntegrationResolver,
    private readonly usersSync: NeonAuthUsersSyncStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Reconciles now; waits for a run of the same integration (on any replica) to finish first. */
  async reconcile(integration: NeonAuthIntegrationEntity): Promise<ReconcileCounts> {
    const result = await this.withLock(integration.id, true, () => this.run(integration));
    return result!;
  }

  /**
   * Reconciles unless a run of the integration is in progress somewhere (then `undefined`), or `isDue`,
   * asked once the lock is held, says another replica has just done it.
   */
  async tryReconcile(integration: NeonAuthIntegrationEntity, isDue?: () => Promise<boolean>): Promise<ReconcileCounts | undefined> {
    return this.withLock(integration.id, false, async () => {
      if (isDue && !(await isDue())) return undefined;
      return this.run(integration);
    });
  }

  /** The stored state of the integration's last reconciliation, if any. */
  lastReconciliation(integrationId: string): Promise<NeonAuthSyncReconciliationEntity | null> {
    return this.db.getRepository(NeonAuthSyncReconciliationEntity).findOneBy({ integrationId });
  }

  private async withLock<T>(integrationId: string, wait: boolean, fn: () => Promise<T>): Promise<T | undefined> {
    const runner: QueryRunner = this.db.createQueryRunner();
    await runner.connect();
    try {
      if (wait) {
        await runner.query('SELECT pg_advisory_lock($1, hashtext($2))', [RECONCILE_LOCK_CLASS, integrationId]);
      } else {
        const [row] = (await runner.query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [RECONCILE_LOCK_CLASS, integrationId])) as { ok: boolean }[];
        if (!row.ok) return undefined;
      }
      try {
        return await fn();
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1, hashtext($2))', [RECONCILE_LOCK_CLASS, integrationId]);
      }
    } finally {
      await runner.release();
    }
  }

  private async run(integration: NeonAuthIntegrationEntity): Promise<ReconcileCounts> {
    const started = Date.now(); // for the run's duration only
    try {
      const startedAt = new Date(await databaseNow(this.db));
      const target = await this.integrations.branchDatabaseOf(integration);
      const run: Run = {
        integrationId: integration.id,
        target,
        provider: this.integrations.providerOf(integration),
        credentials: this.integrations.credentialsOf(integration),
        rows: await this.usersSync.rowStates(target),
        counts: { inserted: 0, updated: 0, deleted: 0, unchanged: 0, skipped: 0, complete: false, ms: 0 },
        written: new Set(),
      };
      let listing: Listing | undefined;
      for (let attempt = 1; attempt <= MAX_LISTINGS; attempt++) {
        listing = await this.listAndRepair(run);
        if (listing.complete) break;
        this.logger.warn({ integrationId: integration.id, attempt }, 'reconcile: the provider listing ended early (its cursor user was deleted); listing again');
      }
      const seen = listing!.seen;
      run.counts.complete = listing!.complete;
      if (listing!.complete) await this.deleteAbsent(run, seen);
      run.counts.unchanged = [...seen].filter((id) => !run.written.has(id)).length;
      if (!listing!.complete) this.logger.warn({ integrationId: integration.id }, 'reconcile: no listing completed; nothing was marked deleted');
      run.counts.ms = Date.now() - started;
      await this.record(integration.id, { lastReconciledAt: run.counts.complete ? startedAt : undefined, lastResult: run.counts, lastError: null });
      this.logger.info({ integrationId: integration.id, database: target.physicalName, ...run.counts }, 'reconciled neon_auth.users_sync with the provider');
      return run.counts;
    } catch (err) {
      await this.record(integration.id, { lastError: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  /**
   * One pass over the provider's list: writes missing and stale rows, answers what it saw and whether it provably ended.
   * A pipeline: pages are requested up to PAGES_AHEAD ahead of the one being compared and written, and up to
   * WRITES_IN_FLIGHT batches are written at once (disjoint users: a listing's users are written once).
   */
  private async listAndRepair(run: Run): Promise<Listing> {
    const requestedAt = new WeakMap<ProviderUserPage, string>();
    let last: { cursor?: string; returned: number } | undefined;
    // A time on the control-plane clock read before the next page's request is sent: read while the page before is
    // being fetched, so the clock's round trip is not on the listing's path. (Earlier than the request is safe: a
    // state stamped older only loses more ties to webhooks, which carry the same or newer states.)
    let nextAt: Promise<string> | undefined;
    // Observes the page requests: the time before each was sent (its states' timestamp) and how the list ended.
    const observed: AuthProvider = Object.create(run.provider, {
      listUsers: {
        value: async (credentials: ProviderCredentials, request: ListUsersRequest): Promise<ProviderUserPage> => {
          const at = await (nextAt ?? databaseNow(this.db));
          nextAt = databaseNow(this.db);
          nextAt.catch(() => undefined); // awaited by the next page's request, if there is one
          const page = await run.provider.listUsers(credentials, request);
          requestedAt.set(page, at);
          last = { cursor: request.cursor, returned: page.users.length };
          return page;
        },
      },
    });
    const seen = new Set<string>();
    let batch: { user: ProviderUser; at: string }[] = [];
    const writes = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    const flush = async (): Promise<void> => {
      const items = batch;
      batch = [];
      while (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes);
      if (failure) throw failure.err;
      if (items.length === 0) return;
      const write: Promise<void> = this.repairBatch(run, items)
        .catch((err: unknown) => {
          failure ??= { err };
        })
        .finally(() => writes.delete(write));
      writes.add(write);
    };
    try {
      for await (const page of readAhead(iterateProviderPages(observed, run.credentials, MAX_PROVIDER_PAGE_SIZE), PAGES_AHEAD)) {
        const at = requestedAt.get(page) ?? (await databaseNow(this.db));
        for (const user of page.users) {
          if (seen.has(user.id)) continue;
          seen.add(user.id);
          batch.push({ user, at });
        }
        if (batch.length >= BATCH) await flush();
      }
      await flush();
    } finally {
      await Promise.all(writes);
    }
    if (failure) throw failure.err;
    let complete = true;
    if (last && last.cursor !== undefined && last.returned === 0 && isUuid(last.cursor)) {
      // Empty last page after a cursor that names a user (Stack Auth's: a user id whose row gives the position): the
      // true end, or that user was deleted meanwhile and the list lost its place. A positional cursor (the embedded
      // provider's keyset, `c1.…`) survives deletions, so an empty page after it is the end.
      complete = await this.stillExists(run, last.cursor);
    }
    return { complete, seen };
  }

  private async stillExists(run: Run, userId: string): Promise<boolean> {
    try {
      await run.provider.getUser(run.credentials, userId);
      return true;
    } catch (err) {
      if (err instanceof ProviderUserNotFound) return false;
      throw err;
    }
  }

  /** Inserts users without a row, updates rows that differ (compared in the database: jsonb equality). */
  private async repairBatch(run: Run, items: { user: ProviderUser; at: string }[]): Promise<void> {
    if (items.length === 0) return;
    const inserts: UsersSyncRow[] = [];
    const updates: UsersSyncRow[] = [];
    const live: { user: ProviderUser; at: string }[] = [];
    for (const item of items) {
      const deleted = run.rows.get(item.user.id);
      if (deleted === undefined) inserts.push({ raw_json: item.user.raw, updated_at: item.at });
      else if (deleted) updates.push({ raw_json: item.user.raw, updated_at: item.at });
      else live.push(item);
    }
    if (live.length > 0) {
      const stale = await this.usersSync.differing(run.target, live.map((i) => ({ id: i.user.id, raw: i.user.raw })));
      for (const item of live) if (stale.has(item.user.id)) updates.push({ raw_json: item.user.raw, updated_at: item.at });
    }
    if (inserts.length > 0) {
      const r = await this.usersSync.upsertUsers(run.target, inserts);
      run.counts.inserted += r.written;
      run.counts.skipped += r.skipped;
    }
    if (updates.length > 0) {
      const r = await this.usersSync.upsertUsers(run.target, updates);
      run.counts.updated += r.written;
      run.counts.skipped += r.skipped;
    }
    for (const row of [...inserts, ...updates]) {
      const id = row.raw_json.id as string;
      run.rows.set(id, false);
      run.written.add(id);
    }
  }

  /** Soft-deletes live rows of users absent from a complete listing, each confirmed gone with provider.getUser. */
  private async deleteAbsent(run: Run, seen: Set<string>): Promise<void> {
    // Users of an earlier provider project whose rows were kept (see NeonAuthForeignUserEntity) are not this one's to
    // delete; one this provider project turns out to have is its own from now on.
    const foreignRows: { user_id: string }[] = await this.db.query('SELECT user_id FROM neon_auth_foreign_users WHERE integration_id = $1', [run.integrationId]);
    const foreign = new Set(foreignRows.map((f) => f.user_id));
    const nowOwned = [...foreign].filter((id) => seen.has(id));
    if (nowOwned.length > 0) {
      await this.db.query('DELETE FROM neon_auth_foreign_users WHERE integration_id = $1 AND user_id = ANY($2::text[])', [run.integrationId, nowOwned]);
      for (const id of nowOwned) foreign.delete(id);
    }
    const absent = [...run.rows].filter(([id, deleted]) => !deleted && !seen.has(id) && !foreign.has(id)).map(([id]) => id);
    if (absent.length === 0) return;
    // Rows a webhook deleted (or that changed) since the run began are left to that newer state.
    const candidates = await this.usersSync.liveIds(run.target, absent);
    const gone: string[] = [];
    const found: { user: ProviderUser; at: string }[] = [];
    let unverified = 0;
    const at = await databaseNow(this.db);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < candidates.length) {
        const id = candidates[next++];
        const checkedAt = await databaseNow(this.db);
        try {
          found.push({ user: await run.provider.getUser(run.credentials, id), at: checkedAt });
        } catch (err) {
          if (err instanceof ProviderUserNotFound) gone.push(id);
          else unverified++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECHECK_CONCURRENCY, candidates.length) }, worker));
    if (unverified > 0) this.logger.warn({ database: run.target.physicalName, unverified }, 'reconcile: some deletion candidates could not be checked with the provider; kept');
    // Users the listing does not show but the provider has (signed up during the run; or a kind the list omits,
    // such as anonymous users): kept, and repaired like listed ones.
    for (const f of found) seen.add(f.user.id);
    await this.repairBatch(run, found);
    if (gone.length > 0) {
      const r = await this.usersSync.markDeleted(run.target, gone, at);
      run.counts.deleted += r.written;
      run.counts.skipped += r.skipped;
    }
  }

  private async record(
    integrationId: string,
    patch: { lastReconciledAt?: Date; lastResult?: ReconcileCounts; lastError: string | null },
  ): Promise<void> {
    try {
      await this.db.query(
        `INSERT INTO neon_auth_sync_reconciliations (integration_id, last_reconciled_at, last_result, last_error, last_run_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (integration_id) DO UPDATE
            SET last_reconciled_at = COALESCE(EXCLUDED.last_reconciled_at, neon_auth_sync_reconciliations.last_reconciled_at),
                last_result = COALESCE(EXCLUDED.last_result, neon_auth_sync_reconciliations.last_result),
                last_error = EXCLUDED.last_error,
                last_run_at = now()`,
        [integrationId, patch.lastReconciledAt ?? null, patch.lastResult ? JSON.stringify(patch.lastResult) : null, patch.lastError],
      );
    } catch (err) {
      // The integration was disabled during the run (its row is gone): nothing to record.
      this.logger.warn({ integrationId, err: err instanceof Error ? err.message : String(err) }, 'reconcile: could not record the run');
    }
  }
}
