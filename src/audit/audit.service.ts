import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AuditSpec, AuditTargetId } from '../common/audited.js';
import type { ApiError } from '../common/errors.js';
import { decodeCursor, encodeCursor, invalidCursor, isoTime } from '../common/pagination.js';
import { LOGGER } from '../common/logger.js';
import { requestIdOf } from '../common/request-id.js';
import type { AccessContext } from '../iam/principal.js';
import { ProjectEntity } from '../projects/entities/project.entity.js';
import { AuditEventEntity } from './audit-event.entity.js';
import type { AuditEventDto, AuditLogResponseDto, ListAuditLogQueryDto } from './dto/audit.dto.js';

export const DEFAULT_AUDIT_PAGE = 100;

/**
 * The audit log: appends a record per administrative action (the audit interceptor calls `record` after the route
 * answered), and lists an organization's records, newest first, in cursor pages (`GET …/audit_log`, org admins).
 * A record holds the actor (key kind, key id, the account of a personal key), the action, its target, the project,
 * the HTTP status, chosen request fields (never a secret), the request id and the client address.
 */
@Injectable()
export class AuditService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Appends the record of `req` answered with `status`; never throws (a failure is logged as an error). */
  async record(spec: AuditSpec, req: Request, status: number, response: unknown, refusal?: ApiError): Promise<void> {
    const access: AccessContext | undefined = req.access;
    if (!access) return; // not authenticated: nothing administrative happened
    try {
      const body = isObject(req.body) ? req.body : {};
      const projectId = access.project?.id ?? refusal?.subject.projectId ?? stringOf(req.params?.project_id) ?? stringOf(body.project_id) ?? null;
      const principal = access.principal;
      const details: Record<string, unknown> = {};
      for (const field of spec.details ?? []) if (body[field] !== undefined) details[field] = body[field];
      if (refusal) details.refused = refusal.code;
      await this.db.query(
        `INSERT INTO audit_events (org_id, actor_kind, actor_account_id, actor_key_id, action, target_type, target_id, project_id, status, details, request_id, client_addr)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          refusal?.subject.orgId ?? (spec.org ? idFrom(spec.org, req, body, response) : null) ?? (await this.orgOf(access, projectId)),
          principal.kind,
          principal.kind === 'personal' ? principal.accountId : null,
          principal.keyId,
          refusal ? `${spec.action}.refused` : spec.action,
          spec.target,
          targetIdOf(spec, req, body, response),
          projectId,
          status,
          JSON.stringify(details),
          requestIdOf(req),
          req.ip ?? '',
        ],
      );
    } catch (err) {
      this.logger.error({ err, action: spec.action }, 'audit: could not record an administrative action');
    }
  }

  /** An organization's records, newest first. */
  async list(orgId: string, query: ListAuditLogQueryDto): Promise<AuditLogResponseDto> {
    const limit = query.limit ?? DEFAULT_AUDIT_PAGE;
    const before = query.cursor !== undefined ? decodeCursor(query.cursor).id : undefined;
    if (before !== undefined && !/^\d{1,19}$/.test(before)) throw invalidCursor();
    const qb = this.db.getRepository(AuditEventEntity).createQueryBuilder('e').where('e.org_id = :orgId', { orgId });
    if (before !== undefined) qb.andWhere('e.id < :before', { before });
    const rows = await qb.orderBy('e.id', 'DESC').limit(limit + 1).getMany();
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor({ k: '', id: page[page.length - 1].id }) : undefined;
    return { events: page.map(toDto), pagination: next ? { next } : {} };
  }

  private async orgOf(access: AccessContext, projectId: string | null): Promise<string | null> {
    if (access.project) return access.project.orgId;
    if (access.org) return access.org.id;
    if (access.principal.kind !== 'personal') return access.principal.orgId;
    if (projectId) return (await this.db.getRepository(ProjectEntity).findOne({ where: { id: projectId }, select: { orgId: true } }))?.orgId ?? null;
    return null;
  }
}

function targetIdOf(spec: AuditSpec, req: Request, body: Record<string, unknown>, response: unknown): string | null {
  return spec.targetId ? idFrom(spec.targetId, req, body, response) : null;
}

function idFrom(source: AuditTargetId, req: Request, body: Record<string, unknown>, response: unknown): string | null {
  if ('param' in source) return stringOf(req.params?.[source.param]) ?? null;
  if ('body' in source) return stringOf(body[source.body]) ?? null;
  return isObject(response) ? (stringOf(response[source.response]) ?? null) : null;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function toDto(e: AuditEventEntity): AuditEventDto {
  return {
    id: e.id,
    occurred_at: isoTime(e.occurredAt),
    actor: { kind: e.actorKind, account_id: e.actorAccountId, key_id: Number(e.actorKeyId) },
    action: e.action,
    target: { type: e.targetType, id: e.targetId },
    project_id: e.projectId,
    status: e.status,
    details: e.details,
    request_id: e.requestId,
    client_addr: e.clientAddr,
  };
}
