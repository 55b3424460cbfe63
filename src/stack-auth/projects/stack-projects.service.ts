import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { ClusterCache, ClusterEvents } from '../../common/cluster-events.js';
import { SecretsService } from '../../common/secrets.js';
import { controlPlanePool, runPrepared, type PreparedStatement } from '../../database/pg-pool.js';
import { StackApiKeySetEntity } from '../entities/stack-api-key-set.entity.js';
import { DEFAULT_PROJECT_CONFIG, StackProjectEntity } from '../entities/stack-project.entity.js';
import type { ProjectUpdateInput } from './dto/project-update.dto.js';
import { applyProjectUpdate } from './stack-project-config.js';
import { hashSecret, newStackKey, type StackKeyKind } from './stack-keys.js';
import { isUuid } from '../../common/validation.js';

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


const KEY_HASH_COLUMNS: Record<StackKeyKind, string> = {
  publishable_client_key: 'publishable_client_key_hash',
  secret_server_key: 'secret_server_key_hash',
  super_secret_admin_key: 'super_secret_admin_key_hash',
};

/** The project row's columns, named (see stack-users.store.ts: prepared statements never read `*`). */
const PROJECT_COLUMNS = ['id', 'display_name', 'description', 'config', 'owned_by', 'provision_key', 'owner_email', 'created_at', 'updated_at']
  .map((c) => `p.${c}`)
  .join(', ');

/**
 * The cluster-event topic of provider projects: the triggers on `stack_auth.projects` and `stack_auth.api_key_sets`
 * (migration StackProjectChangeEvents) announce every change with the project id as key, in the writing transaction.
 */
export const STACK_PROJECT_TOPIC = 'stack_project';

/**
 * How long a project-and-key check is kept: the fallback bound for a replica that misses an event (changes reach every
 * replica's cache through ClusterEvents). A key is kept only while it has more than KEY_CACHE_MARGIN to live.
 */
const KEY_CHECK_TTL_MS = 30_000;
const KEY_CACHE_MARGIN = "interval '60 seconds'";
const MAX_KEY_CHECKS = 10_000;

/**
 * Per key kind: the project row, whether a live key set of it has the key's hash ($2), and whether that answer may be
 * kept (the key does not expire within KEY_CACHE_MARGIN, on the database's clock, which also decides expiry).
 */
const PROJECT_WITH_KEY: Record<StackKeyKind, PreparedStatement> = Object.fromEntries(
  Object.entries(KEY_HASH_COLUMNS).map(([kind, column]) => [
    kind,
    {
      name: `stack_project_with_${kind}_v2`,
      text: `SELECT ${PROJECT_COLUMNS}, k.id IS NOT NULL AS key_valid, k.id IS NOT NULL AND (k.expires_at IS NULL OR k.expires_at > now() + ${KEY_CACHE_MARGIN}) AS key_cacheable
        FROM stack_auth.projects p
        LEFT JOIN stack_auth.api_key_sets k
          ON k.project_id = p.id AND k.${column} = $2 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
        WHERE p.id = $1`,
    },
  ]),
) as Record<StackKeyKind, PreparedStatement>;

/** A project and what its key check found; cached only when the key is valid (frozen: shared by requests). */
interface KeyCheck {
  project: StackProjectEntity;
  keyValid: boolean;
  cacheable: boolean;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value) && !(value instanceof Date)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

interface ProjectRow {
  id: string;
  display_name: string;
  description: string;
  config: StackProjectEntity['config'];
  owned_by: StackProjectEntity['ownedBy'];
  provision_key: string | null;
  owner_email: string | null;
  created_at: Date;
  updated_at: Date;
}

function projectFromRow(r: ProjectRow): StackProjectEntity {
  return {
    id: r.id,
    displayName: r.display_name,
    description: r.description,
    config: r.config,
    ownedBy: r.owned_by,
    provisionKey: r.provision_key,
    ownerEmail: r.owner_email,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Provider projects and their key sets. Keys are shown once, when created, and stored as hashes. */
@Injectable()
export class StackProjectsService {
  /** Project-and-key checks of valid keys, by `projectId/kind/key hash`, dropped by the project's cluster events. */
  private readonly keyChecks: ClusterCache<KeyCheck>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly secrets: SecretsService,
    private readonly cluster: ClusterEvents,
  ) {
    this.keyChecks = new ClusterCache(cluster, STACK_PROJECT_TOPIC, { ttlMs: KEY_CHECK_TTL_MS, maxEntries: MAX_KEY_CHECKS, scope: (k) => k.slice(0, k.indexOf('/')) });
  }

  async create(tx: EntityManager, displayName: string, description = '', provisionKey: string | null = null): Promise<StackProjectEntity> {
    const repo = tx.getRepository(StackProjectEntity);
    return repo.save(repo.create({ displayName, description, config: { ...DEFAULT_PROJECT_CONFIG }, ownedBy: 'neon', ownerEmail: null, provisionKey }));
  }

  async find(projectId: string): Promise<StackProjectEntity | null> {
    if (!isUuid(projectId)) return null;
    return this.db.getRepository(StackProjectEntity).findOneBy({ id: projectId.toLowerCase() });
  }

  /**
   * The project and whether `key` is a live key of `kind` for it (every provider request asks this): one prepared
   * statement, its answer for a valid key kept per process until the project or its key sets change on any replica
   * (cluster events; the writers below settle before answering) or KEY_CHECK_TTL_MS passes. Refusals are never kept.
   * The project answered is shared by the requests of that key: frozen. Null when there is no such project.
   */
  async findWithKey(projectId: string, kind: StackKeyKind, key: string): Promise<{ project: StackProjectEntity; keyValid: boolean } | null> {
    if (!isUuid(projectId)) return null;
    const id = projectId.toLowerCase();
    const hash = hashSecret(key);
    const check = await this.keyChecks.get(
      `${id}/${kind}/${hash}`,
      async () => {
        const [row] = await runPrepared<ProjectRow & { key_valid: boolean; key_cacheable: boolean }>(controlPlanePool(this.db), PROJECT_WITH_KEY[kind], [id, hash]);
        return row ? deepFreeze({ project: projectFromRow(row), keyValid: row.key_valid, cacheable: row.key_cacheable }) : undefined;
      },
      (c) => c.keyValid && c.cacheable,
    );
    return check ? { project: check.project, keyValid: check.keyValid } : null;
  }

  /** Waits until every replica has dropped what it cached of a project this process just changed (see ClusterEvents.settle). */
  async settleChanges(): Promise<void> {
    await this.cluster.settle();
  }

  /**
   * Stack's `PATCH /internal/projects/current`: applies a validated body to the project, its row locked for the
   * read-modify-write (two concurrent PATCHes apply one after the other; neither loses the other's fields). New
   * OAuth client secrets and the SMTP password are sealed (stack-project-config.ts). The next request of any client reads
   * the new configuration: the answer waits until every replica has dropped its cached copy. Answers null when the project no longer exists.
   */
  async updateProject(projectId: string, input: ProjectUpdateInput): Promise<StackProjectEntity | null> {
    const updated = await this.db.transaction(async (tx) => {
      const repo = tx.getRepository(StackProjectEntity);
      const project = await repo.findOne({ where: { id: projectId }, lock: { mode: 'pessimistic_write' } });
      if (!project) return null;
      if (input.display_name !== undefined) project.displayName = input.display_name;
      if (input.description !== undefined) project.description = input.description;
      if (input.config !== undefined) project.config = applyProjectUpdate(project.id, project.config, input.config, (plain, context) => this.secrets.encrypt(plain, context));
      return repo.save(project);
    });
    if (updated) await this.settleChanges();
    return updated;
  }

  /**
   * Deletes the project and everything it owns, in one transaction (Stack's `DELETE /internal/projects/current`).
   * Every stack_auth table is emptied of the project by foreign keys that cascade from `projects`: api_key_sets,
   * users, signing_keys, ownership_transfers and webhook_endpoints directly; sessions through their user and
   * webhook_outbox through its endpoint (each of those rows belongs to its user's / endpoint's project).
   * No user.deleted webhooks are sent (Stack sends none for a project deletion): pending outbox rows vanish, and
   * a delivery job that finds no rows has nothing to do. A delivery in flight keeps its row locked until its
   * HTTP request ends; the delete waits for it. Answers whether the project existed.
   */
  async deleteProject(projectId: string): Promise<boolean> {
    if (!isUuid(projectId)) return false;
    const deleted = await this.db.transaction(async (tx) => {
      const result = await tx.getRepository(StackProjectEntity).delete({ id: projectId.toLowerCase() });
      return (result.affected ?? 0) > 0;
    });
    if (deleted) await this.settleChanges();
    return deleted;
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

  /** True when `key` is a live key of this kind for the project (not revoked, not expired): findWithKey's check. */
  async isValidKey(projectId: string, kind: StackKeyKind, key: string): Promise<boolean> {
    return (await this.findWithKey(projectId, kind, key))?.keyValid ?? false;
  }
}
