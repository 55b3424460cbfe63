import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { isUniqueViolation } from '../common/db-errors.js';
import { ApiError, ErrorCode } from '../common/errors.js';
import { countUnderQuotaLock } from '../common/quota.js';
import { newOrgId, randomAlnum } from '../common/ids.js';
import { isoTime } from '../common/pagination.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { OrganizationDto, OrganizationsResponseDto } from './dto/organization.dto.js';
import { MemberEntity } from './entities/member.entity.js';
import { OrganizationEntity } from './entities/organization.entity.js';
import type { AccessContext, Principal } from './principal.js';

@Injectable()
export class OrganizationsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Creates an organization whose only member is `adminAccountId`, as admin. */
  async createWithAdmin(tx: EntityManager, name: string, adminAccountId: string): Promise<OrganizationEntity> {
    const org = await this.insertWithFreshId(tx, name.trim());
    await tx.getRepository(MemberEntity).insert({ orgId: org.id, accountId: adminAccountId, role: 'admin' });
    return org;
  }

  async create(principal: Extract<Principal, { kind: 'personal' }>, name: string): Promise<OrganizationDto> {
    const org = await this.db.transaction(async (tx) => {
      await this.assertOrganizationQuota(tx, principal.accountId);
      return this.createWithAdmin(tx, name, principal.accountId);
    });
    return toOrganizationDto(org);
  }

  /**
   * ORGANIZATIONS_LIMIT: an account belongs to at most that many organizations (each may hold PROJECTS_LIMIT
   * projects, so this bounds what one account can create). Counted under a transaction advisory lock.
   */
  private async assertOrganizationQuota(tx: EntityManager, accountId: string): Promise<void> {
    const limit = this.config.organizationsLimit;
    const n = await countUnderQuotaLock(tx, `organizations:${accountId}`, 'SELECT count(*)::int AS n FROM organization_members WHERE account_id = $1', accountId, limit);
    if (n !== undefined && n >= limit) {
      throw new ApiError(ErrorCode.OrganizationsLimitExceeded, `organizations limit exceeded: the account belongs to ${n} organizations and its limit is ${limit}`);
    }
  }

  get(access: AccessContext): OrganizationDto {
    return toOrganizationDto(access.org!);
  }

  /** Personal keys: the caller's organizations. Organization and project keys: the key's organization. */
  async listForPrincipal(principal: Principal): Promise<OrganizationsResponseDto> {
    const repo = this.db.getRepository(OrganizationEntity);
    const orgs =
      principal.kind === 'personal'
        ? await repo
            .createQueryBuilder('o')
            .innerJoin(MemberEntity, 'm', 'm.org_id = o.id AND m.account_id = :accountId', { accountId: principal.accountId })
            .orderBy('o.created_at', 'ASC')
            .addOrderBy('o.id', 'ASC')
            .getMany()
        : await repo.findBy({ id: principal.orgId });
    return { organizations: orgs.map(toOrganizationDto) };
  }

  private async insertWithFreshId(tx: EntityManager, name: string): Promise<OrganizationEntity> {
    const base = slugify(name);
    for (let attempt = 0; ; attempt++) {
      const org = tx.getRepository(OrganizationEntity).create({
        id: newOrgId(),
        name,
        handle: `${base}-${randomAlnum(6)}`,
        plan: 'free',
      });
      try {
        return await tx.transaction((inner) => inner.getRepository(OrganizationEntity).save(org));
      } catch (err) {
        // Ids and handles are random; retry the rare collision.
        if (!isUniqueViolation(err) || attempt >= 5) throw err;
      }
    }
  }
}

function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return slug || 'org';
}

export function toOrganizationDto(org: OrganizationEntity): OrganizationDto {
  return {
    id: org.id,
    name: org.name,
    handle: org.handle,
    plan: org.plan,
    created_at: isoTime(org.createdAt),
    managed_by: 'console',
    updated_at: isoTime(org.updatedAt),
  };
}
