import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { StackApiKeySetEntity } from '../entities/stack-api-key-set.entity.js';
import { DEFAULT_PROJECT_CONFIG, StackProjectEntity } from '../entities/stack-project.entity.js';
import { hashSecret, newStackKey, type StackKeyKind } from './stack-keys.js';

export interface NewKeySet {
  description?: string;
  expiresAt?: Date | null;
  publishableClientKey?: boolean;
  secretServerKey?: boolean;
  superSecretAdminKey?: boolean;
}

export interface CreatedKeySet {
  entity: StackApiKeySetEntity;
  publishableClientKey?: string;
  secretServerKey?: string;
  superSecretAdminKey?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Provider projects and their key sets. Keys are shown once, when created, and stored as hashes. */
@Injectable()
export class StackProjectsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(tx: EntityManager, displayName: string, description = ''): Promise<StackProjectEntity> {
    const repo = tx.getRepository(StackProjectEntity);
    return repo.save(repo.create({ displayName, description, config: { ...DEFAULT_PROJECT_CONFIG }, ownedBy: 'neon', ownerEmail: null }));
  }

  async find(projectId: string): Promise<StackProjectEntity | null> {
    if (!UUID.test(projectId)) return null;
    return this.db.getRepository(StackProjectEntity).findOneBy({ id: projectId.toLowerCase() });
  }

  async createKeySet(tx: EntityManager, projectId: string, spec: NewKeySet): Promise<CreatedKeySet> {
    const issue = (wanted: boolean | undefined, kind: StackKeyKind) => (wanted ? newStackKey(kind) : undefined);
    const publishableClientKey = issue(spec.publishableClientKey, 'publishable_client_key');
    const secretServerKey = issue(spec.secretServerKey, 'secret_server_key');
    const superSecretAdminKey = issue(spec.superSecretAdminKey, 'super_secret_admin_key');
    const repo = tx.getRepository(StackApiKeySetEntity);
    const entity = await repo.save(
      repo.create({
        projectId,
        description: spec.description ?? '',
        expiresAt: spec.expiresAt ?? null,
        publishableClientKeyHash: publishableClientKey ? hashSecret(publishableClientKey) : null,
        secretServerKeyHash: secretServerKey ? hashSecret(secretServerKey) : null,
        superSecretAdminKeyHash: superSecretAdminKey ? hashSecret(superSecretAdminKey) : null,
        revokedAt: null,
      }),
    );
    return { entity, publishableClientKey, secretServerKey, superSecretAdminKey };
  }

  /** True when `key` is a live key of this kind for the project (not revoked, not expired). */
  async isValidKey(projectId: string, kind: StackKeyKind, key: string): Promise<boolean> {
    const column = { publishable_client_key: 'publishableClientKeyHash', secret_server_key: 'secretServerKeyHash', super_secret_admin_key: 'superSecretAdminKeyHash' }[kind];
    const set = await this.db.getRepository(StackApiKeySetEntity).findOne({
      where: { projectId, [column]: hashSecret(key), revokedAt: IsNull() },
      select: { id: true, expiresAt: true },
    });
    return !!set && (set.expiresAt === null || set.expiresAt.getTime() > Date.now());
  }
}
