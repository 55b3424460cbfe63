import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isoTime } from '../../common/pagination.js';
import type { OutgoingMessage } from '../better-auth-options.js';
import type { BranchAuthTenant } from '../better-auth-servers.js';
import { pruneBranchLog } from '../branch-log.js';
import type { MailboxMessageDto } from './mailbox.dto.js';
import { MailboxMessageEntity } from './mailbox-message.entity.js';

/** How long a message stays readable (its codes and links expire well before). */
export const MAILBOX_RETENTION_MS = 24 * 3600_000;
/** Most messages kept per branch (a flood of sign-ups cannot grow the control-plane database without bound). */
export const MAILBOX_MAX_PER_BRANCH = 1000;

/**
 * The local mailbox of the hosted Better Auth servers: where their messages land until an e-mail provider is
 * configured for the branch. Writing one also prunes the branch's mailbox (pruneBranchLog).
 */
@Injectable()
export class BetterAuthMailbox {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async deliver(tenant: Pick<BranchAuthTenant, 'integrationId' | 'projectId' | 'branchId' | 'databaseName'>, message: OutgoingMessage): Promise<void> {
    const repo = this.db.getRepository(MailboxMessageEntity);
    await repo.insert({
      integrationId: tenant.integrationId,
      projectId: tenant.projectId,
      branchId: tenant.branchId,
      databaseName: tenant.databaseName,
      kind: message.kind,
      recipient: message.to,
      subject: message.subject,
      body: message.text,
      data: message.data as MailboxMessageEntity['data'] & object,
    });
    await pruneBranchLog(this.db, 'neon_auth_mailbox', tenant.branchId, { retentionMs: MAILBOX_RETENTION_MS, maxPerBranch: MAILBOX_MAX_PER_BRANCH });
  }

  /** The branch's messages, newest first (optionally only those to `recipient`). */
  async list(projectId: string, branchId: string, options: { recipient?: string; limit: number }): Promise<MailboxMessageDto[]> {
    const rows = await this.db.getRepository(MailboxMessageEntity).find({
      where: { projectId, branchId, ...(options.recipient !== undefined ? { recipient: options.recipient } : {}) },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: options.limit,
    });
    return rows.map((r) => ({
      id: r.id,
      database_name: r.databaseName,
      kind: r.kind,
      to: r.recipient,
      subject: r.subject,
      text: r.body,
      data: r.data,
      created_at: isoTime(r.createdAt),
    }));
  }
}
