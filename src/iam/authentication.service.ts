import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../common/logger.js';
import { hashApiKeySecret } from './api-key-secret.js';
import type { ApiKeyKind } from './entities/api-key.entity.js';
import type { Principal } from './principal.js';

interface KeyRow {
  id: string;
  kind: ApiKeyKind;
  account_id: string | null;
  org_id: string | null;
  project_id: string | null;
  last_used_at: Date | null;
  email: string | null;
  is_platform_admin: boolean | null;
}

/** Don't write last_used_at more often than this per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Turns a bearer secret into a Principal. Revoked or unknown keys authenticate as nobody. */
@Injectable()
export class AuthenticationService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async authenticate(secret: string, remoteAddr: string): Promise<Principal | null> {
    if (!secret || secret.length > 512) return null;
    const rows: KeyRow[] = await this.db.query(
      `SELECT k.id, k.kind, k.account_id, k.org_id, k.project_id, k.last_used_at, a.email, a.is_platform_admin
         FROM api_keys k LEFT JOIN accounts a ON a.id = k.account_id
        WHERE k.token_hash = $1 AND k.revoked_at IS NULL`,
      [hashApiKeySecret(secret)],
    );
    const row = rows[0];
    if (!row) return null;
    this.recordUse(row, remoteAddr);
    const keyId = Number(row.id);
    switch (row.kind) {
      case 'personal':
        return {
          kind: 'personal',
          keyId,
          accountId: row.account_id!,
          email: row.email!,
          isPlatformAdmin: row.is_platform_admin === true,
        };
      case 'organization':
        return { kind: 'organization', keyId, orgId: row.org_id! };
      case 'project':
        return { kind: 'project', keyId, orgId: row.org_id!, projectId: row.project_id! };
      default:
        return null;
    }
  }

  private recordUse(row: KeyRow, remoteAddr: string): void {
    if (row.last_used_at && Date.now() - row.last_used_at.getTime() < LAST_USED_RESOLUTION_MS) return;
    this.db
      .query(`UPDATE api_keys SET last_used_at = now(), last_used_from_addr = $2 WHERE id = $1`, [row.id, remoteAddr])
      .catch((err: unknown) => this.logger.warn({ err, keyId: row.id }, 'could not record API key use'));
  }
}
