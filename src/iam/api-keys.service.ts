import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { ApiError } from '../common/errors.js';
import { isoTime } from '../common/pagination.js';
import { ProjectEntity } from '../projects/entities/project.entity.js';
import { generateApiKeySecret, hashApiKeySecret } from './api-key-secret.js';
import type {
  ApiKeyCreateResponseDto,
  ApiKeyRevokeResponseDto,
  ApiKeysListResponseItemDto,
  OrgApiKeyCreateResponseDto,
  OrgApiKeyRevokeResponseDto,
  OrgApiKeysListResponseItemDto,
} from './dto/api-key.dto.js';
import { AccountEntity } from './entities/account.entity.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import type { AccessContext, Principal } from './principal.js';

export interface CreatedKey {
  id: number;
  secret: string;
  entity: ApiKeyEntity;
}

type PersonalPrincipal = Extract<Principal, { kind: 'personal' }>;

/** Personal, organization and project-scoped API keys. Secrets are shown once and stored hashed. */
@Injectable()
export class ApiKeysService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async createPersonalKey(tx: EntityManager, accountId: string, name: string, secret?: string): Promise<CreatedKey> {
    return this.insert(tx, { kind: 'personal', name, accountId, createdBy: accountId }, secret);
  }

  async createPersonal(principal: PersonalPrincipal, name: string): Promise<ApiKeyCreateResponseDto> {
    const key = await this.createPersonalKey(this.db.manager, principal.accountId, name);
    return createResponse(key);
  }

  async listPersonal(principal: PersonalPrincipal): Promise<ApiKeysListResponseItemDto[]> {
    const keys = await this.db.getRepository(ApiKeyEntity).find({
      where: { kind: 'personal', accountId: principal.accountId, revokedAt: IsNull() },
      relations: { creator: true },
      order: { id: 'ASC' },
    });
    return keys.map(listItem);
  }

  async revokePersonal(principal: PersonalPrincipal, keyId: number): Promise<ApiKeyRevokeResponseDto> {
    const key = await this.db
      .getRepository(ApiKeyEntity)
      .findOneBy({ id: String(keyId), kind: 'personal', accountId: principal.accountId, revokedAt: IsNull() });
    if (!key) throw ApiError.notFound(`API key ${keyId}`);
    return revokeResponse(await this.revoke(key));
  }

  /** Organization key, or project-scoped key when `projectId` is given (the project must belong to the org). */
  async createOrgKey(access: AccessContext, name: string, projectId?: string): Promise<OrgApiKeyCreateResponseDto> {
    const org = access.org!;
    const creator = access.principal.kind === 'personal' ? access.principal.accountId : null;
    if (projectId !== undefined) {
      const project = await this.db.getRepository(ProjectEntity).findOneBy({ id: projectId, orgId: org.id });
      if (!project) throw ApiError.notFound(`project ${projectId} in organization ${org.id}`);
    }
    const key = await this.insert(this.db.manager, {
      kind: projectId ? 'project' : 'organization',
      name,
      orgId: org.id,
      projectId: projectId ?? null,
      createdBy: creator,
    });
    return { ...createResponse(key), ...(projectId ? { project_id: projectId } : {}) };
  }

  async listOrgKeys(access: AccessContext): Promise<OrgApiKeysListResponseItemDto[]> {
    const keys = await this.db
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .leftJoinAndSelect('k.creator', 'creator')
      .where('k.org_id = :orgId', { orgId: access.org!.id })
      .andWhere(`k.kind IN ('organization', 'project')`)
      .andWhere('k.revoked_at IS NULL')
      .orderBy('k.id', 'ASC')
      .getMany();
    return keys.map((k) => ({ ...listItem(k), ...(k.projectId ? { project_id: k.projectId } : {}) }));
  }

  async revokeOrgKey(access: AccessContext, keyId: number): Promise<OrgApiKeyRevokeResponseDto> {
    const key = await this.db
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.id = :id', { id: String(keyId) })
      .andWhere('k.org_id = :orgId', { orgId: access.org!.id })
      .andWhere(`k.kind IN ('organization', 'project')`)
      .andWhere('k.revoked_at IS NULL')
      .getOne();
    if (!key) throw ApiError.notFound(`API key ${keyId}`);
    const revoked = await this.revoke(key);
    return { ...revokeResponse(revoked), ...(revoked.projectId ? { project_id: revoked.projectId } : {}) };
  }

  private async revoke(key: ApiKeyEntity): Promise<ApiKeyEntity> {
    // Conditional update: two concurrent revokes cannot both succeed.
    const result = await this.db
      .getRepository(ApiKeyEntity)
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND revoked_at IS NULL', { id: key.id })
      .returning('*')
      .execute();
    if (!result.affected) throw ApiError.notFound(`API key ${key.id}`);
    return { ...key, revokedAt: new Date() };
  }

  private async insert(
    tx: EntityManager,
    fields: Pick<ApiKeyEntity, 'kind' | 'name'> & Partial<Pick<ApiKeyEntity, 'accountId' | 'orgId' | 'projectId' | 'createdBy'>>,
    secret = generateApiKeySecret(),
  ): Promise<CreatedKey> {
    const repo = tx.getRepository(ApiKeyEntity);
    const entity = await repo.save(
      repo.create({
        accountId: null,
        orgId: null,
        projectId: null,
        createdBy: null,
        ...fields,
        tokenHash: hashApiKeySecret(secret),
      }),
    );
    return { id: Number(entity.id), secret, entity };
  }
}

function createResponse(key: CreatedKey): ApiKeyCreateResponseDto {
  return {
    id: key.id,
    key: key.secret,
    name: key.entity.name,
    created_at: isoTime(key.entity.createdAt),
    created_by: key.entity.createdBy ?? '',
  };
}

function listItem(key: ApiKeyEntity): ApiKeysListResponseItemDto {
  const creator: AccountEntity | undefined = key.creator ?? undefined;
  return {
    id: Number(key.id),
    name: key.name,
    created_at: isoTime(key.createdAt),
    created_by: { id: creator?.id ?? '', name: creator?.name ?? '', image: '' },
    last_used_at: key.lastUsedAt ? isoTime(key.lastUsedAt) : null,
    last_used_from_addr: key.lastUsedFromAddr,
  };
}

function revokeResponse(key: ApiKeyEntity): ApiKeyRevokeResponseDto {
  return {
    id: Number(key.id),
    name: key.name,
    created_at: isoTime(key.createdAt),
    created_by: key.createdBy ?? '',
    last_used_at: key.lastUsedAt ? isoTime(key.lastUsedAt) : null,
    last_used_from_addr: key.lastUsedFromAddr,
    revoked: true,
  };
}
