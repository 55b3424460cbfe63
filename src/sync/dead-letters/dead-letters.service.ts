import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { LOGGER } from '../../common/logger.js';
import { keysetPage } from '../../common/pagination.js';
import { NeonAuthIntegrationResolver } from '../../neon-auth/integrations/integration-resolver.js';
import { SyncQueue } from '../sync-queue.js';
import { SyncInboxEntity } from '../sync-inbox.entity.js';
import {
  DEAD_LETTERS_DEFAULT_LIMIT,
  type ListNeonAuthSyncDeadLettersQueryDto,
  type NeonAuthSyncDeadLettersResponseDto,
  type ReplayNeonAuthSyncDeadLettersRequestDto,
  type ReplayNeonAuthSyncDeadLettersResponseDto,
} from './dead-letters.dto.js';

const INT8_MAX = 9_223_372_036_854_775_807n;

type DeadLetterRow = {
  id: string;
  message_id: string;
  event_type: string;
  user_id: string | null;
  attempts: number;
  last_error: string | null;
  received_at: Date;
};

/**
 * Dead letters of a branch's Neon Auth integration (issue 5): inbox rows (sync_inbox) parked with status
 * 'dead' after SYNC_MAX_ATTEMPTS failed applies. Listing reads them; replay puts them back in the queue
 * (pending, attempts 0, last_error cleared) in one transaction and wakes the applier.
 *
 * Replay is safe to repeat and to run concurrently: a row changes only while it is 'dead' (under its row
 * lock), so of two concurrent replays of the same rows one puts them back and the other finds them no longer
 * dead (all: replays 0; named ids: 400 naming them), and nothing is applied twice (the applier's own rules).
 */
@Injectable()
export class SyncDeadLettersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly integrations: NeonAuthIntegrationResolver,
    private readonly queue: SyncQueue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async list(projectId: string, branchId: string, query: ListNeonAuthSyncDeadLettersQueryDto): Promise<NeonAuthSyncDeadLettersResponseDto> {
    const integration = await this.integrations.findForBranch(projectId, branchId);
    const qb = this.db
      .getRepository(SyncInboxEntity)
      .createQueryBuilder('i')
      .select('i.id::text', 'id')
      .addSelect('i.message_id', 'message_id')
      .addSelect('i.event_type', 'event_type')
      .addSelect(`COALESCE(i.user_id, i.payload #>> '{data,id}')`, 'user_id')
      .addSelect('i.attempts', 'attempts')
      .addSelect('i.last_error', 'last_error')
      .addSelect('i.received_at', 'received_at')
      .where('i.integration_id = :integrationId', { integrationId: integration.id })
      .andWhere(`i.status = 'dead'`);
    // Keyset by id (arrival order): zero-padded so that its text order is the numeric order.
    const page = await keysetPage<SyncInboxEntity, DeadLetterRow>(qb, {
      sortExpr: `lpad(i.id::text, 20, '0')`,
      sortType: 'text',
      idExpr: 'i.id',
      order: 'asc',
      limit: query.limit ?? DEAD_LETTERS_DEFAULT_LIMIT,
      cursor: query.cursor,
    });
    return {
      dead_letters: page.rows.map((r) => ({
        id: r.id,
        message_id: r.message_id,
        event_type: r.event_type,
        user_id: r.user_id,
        attempts: Number(r.attempts),
        last_error: r.last_error,
        received_at: new Date(r.received_at).toISOString(),
      })),
      ...(page.next ? { pagination: { next: page.next } } : {}),
    };
  }

  async replay(
    projectId: string,
    branchId: string,
    body: ReplayNeonAuthSyncDeadLettersRequestDto,
  ): Promise<ReplayNeonAuthSyncDeadLettersResponseDto> {
    const integration = await this.integrations.findForBranch(projectId, branchId);
    const ids = body?.ids === undefined ? undefined : [...new Set(body.ids)];
    const replayed = await this.db.transaction(async (tx) => {
      if (ids === undefined) {
        const rows = (await tx.query(
          `UPDATE sync_inbox SET status = 'pending', attempts = 0, last_error = NULL
            WHERE integration_id = $1 AND status = 'dead' RETURNING id`,
          [integration.id],
        )) as [unknown[], number];
        return rows[1];
      }
      // Lock the named rows first (in id order: concurrent replays never deadlock), then check all of them.
      const found = (await tx.query(
        `SELECT id::text AS id, status FROM sync_inbox WHERE integration_id = $1 AND id = ANY($2::bigint[]) ORDER BY id FOR UPDATE`,
        [integration.id, ids.filter((id) => BigInt(id) <= INT8_MAX)], // larger ones name no row
      )) as { id: string; status: string }[];
      const statusOf = new Map(found.map((r) => [r.id, r.status]));
      const missing = ids.filter((id) => !statusOf.has(id));
      if (missing.length > 0) throw notFound(missing);
      const notDead = ids.filter((id) => statusOf.get(id) !== 'dead');
      if (notDead.length > 0) {
        throw ApiError.validation(
          `not dead letters (already replayed or applied): ${notDead.map((id) => `${id} (${statusOf.get(id)})`).join(', ')}`,
        );
      }
      const rows = (await tx.query(
        `UPDATE sync_inbox SET status = 'pending', attempts = 0, last_error = NULL
          WHERE integration_id = $1 AND id = ANY($2::bigint[]) AND status = 'dead' RETURNING id`,
        [integration.id, ids],
      )) as [unknown[], number];
      return rows[1];
    });
    if (replayed > 0) {
      this.logger.info({ integrationId: integration.id, replayed }, 'sync: dead letters put back in the queue');
      this.queue.wake(integration.id, { retryNow: true }); // replayed rows do not wait for an earlier backoff
    }
    return { replayed };
  }
}

function notFound(ids: string[]): ApiError {
  return new ApiError(ErrorCode.NotFound, `no dead letter of this branch has the id ${ids.join(', ')}`);
}
