import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StackProjectEntity } from '../entities/stack-project.entity.js';
import { StackStatusError } from '../http/known-errors.js';
import { ProvisioningService } from '../projects/provisioning.service.js';
import { StackProjectsService } from '../projects/stack-projects.service.js';
import { WebhookEndpointsService } from '../webhooks/webhook-endpoints.service.js';
import type { CreateApiKeySetDto, CreateWebhookEndpointDto, ProvisionProjectDto } from './dto/neon-integration.dto.js';
import { NOT_TRANSFERABLE } from './ownership-transfer.service.js';

export interface ApiKeySetCreated {
  id: string;
  description: string;
  created_at_millis: number;
  expires_at_millis: number;
  publishable_client_key?: string;
  secret_server_key?: string;
  super_secret_admin_key?: string;
}

/** Neon's integration API: how Neon provisions a managed provider project, its SDK keys and its webhook. */
@Injectable()
export class NeonIntegrationService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly provisioning: ProvisioningService,
    private readonly projects: StackProjectsService,
    private readonly endpoints: WebhookEndpointsService,
  ) {}

  /**
   * A new project with an admin key. `connection_strings` are validated and not kept: the embedded
   * provider always keeps its users itself (Stack Auth's "hosted" source of truth); users reach Neon
   * databases through the signed webhooks.
   */
  async provision(body: ProvisionProjectDto, idempotencyKey?: string): Promise<{ project_id: string; super_secret_admin_key: string }> {
    if (idempotencyKey !== undefined && (idempotencyKey.length < 1 || idempotencyKey.length > 255)) {
      throw new StackStatusError(400, 'Idempotency-Key must be 1 to 255 characters.');
    }
    const { project, superSecretAdminKey } = await this.provisioning.provisionProject(body.display_name, undefined, idempotencyKey ?? null);
    return { project_id: project.id, super_secret_admin_key: superSecretAdminKey };
  }

  /** A key set for the project; its keys are in this answer only (stored as hashes). */
  async createApiKeySet(project: StackProjectEntity, body: CreateApiKeySetDto): Promise<ApiKeySetCreated> {
    if (!body.has_publishable_client_key && !body.has_secret_server_key && !body.has_super_secret_admin_key) {
      throw new StackStatusError(400, 'At least one of has_publishable_client_key, has_secret_server_key and has_super_secret_admin_key must be true.');
    }
    const created = await this.db.transaction((tx) =>
      this.projects.createKeySet(tx, project.id, {
        description: body.description,
        expiresAt: new Date(body.expires_at_millis),
        publishableClientKey: body.has_publishable_client_key,
        secretServerKey: body.has_secret_server_key,
        superSecretAdminKey: body.has_super_secret_admin_key,
      }),
    );
    const out: ApiKeySetCreated = {
      id: created.entity.id,
      description: created.entity.description,
      created_at_millis: created.entity.createdAt.getTime(),
      expires_at_millis: body.expires_at_millis,
    };
    if (created.publishableClientKey) out.publishable_client_key = created.publishableClientKey;
    if (created.secretServerKey) out.secret_server_key = created.secretServerKey;
    if (created.superSecretAdminKey) out.super_secret_admin_key = created.superSecretAdminKey;
    return out;
  }

  /** Registers a webhook endpoint; answers its `whsec_` signing secret. */
  async registerWebhook(project: StackProjectEntity, body: CreateWebhookEndpointDto): Promise<{ secret: string }> {
    const { secret } = await this.endpoints.register(project.id, body.url, body.description ?? '');
    return { secret };
  }

  /** The caller's admin key is for one project; the body or query must name that project. */
  assertSameProject(project: StackProjectEntity, projectId: string): void {
    if (projectId.toLowerCase() !== project.id) throw new StackStatusError(400, NOT_TRANSFERABLE);
  }
}
