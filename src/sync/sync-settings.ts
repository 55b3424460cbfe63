import type { AppConfig } from '../config/config.js';

/** Advisory lock (APPLY_LOCK_CLASS, hashtext(integration id)): one applier of an integration at a time across replicas. ASCII "aply". */
export const APPLY_LOCK_CLASS = 0x6170_6c79;

export interface SyncSettings {
  /** Failed apply attempts of one inbox row before it parks as a dead letter (status 'dead'). */
  maxAttempts: number;
  /** First retry delay (seconds); pg-boss doubles it with jitter on every retry. */
  retryDelaySeconds: number;
  /** Idle pg-boss workers look for due retries this often. */
  pollingIntervalSeconds: number;
  /** Inbox rows per apply transaction (one multi-row upsert per branch database). */
  batchSize: number;
  /** Applied and skipped inbox rows older than this are pruned (SYNC_INBOX_RETENTION_DAYS), deletions excepted. */
  retentionDays: number;
  /** Applied `user.deleted` rows older than this are pruned (SYNC_INBOX_DELETION_RETENTION_DAYS). */
  deletionRetentionDays: number;
}

/**
 * Settings from the validated configuration (SYNC_MAX_ATTEMPTS, SYNC_RETRY_DELAY_SECONDS, SYNC_POLL_SECONDS,
 * SYNC_INBOX_RETENTION_DAYS, SYNC_INBOX_DELETION_RETENTION_DAYS).
 */
export function syncSettings(config: AppConfig): SyncSettings {
  return {
    maxAttempts: config.syncMaxAttempts,
    retryDelaySeconds: config.syncRetryDelaySeconds,
    pollingIntervalSeconds: config.syncPollSeconds,
    batchSize: 2000,
    retentionDays: config.syncInboxRetentionDays,
    deletionRetentionDays: config.syncInboxDeletionRetentionDays,
  };
}

/** Integrations drained at once per process: each holds two connections (reader, writer) of the engine's pool. */
export const PARALLEL_DRAINS = 4;
