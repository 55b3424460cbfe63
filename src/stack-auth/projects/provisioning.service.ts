import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TokensService } from '../auth/tokens.service.js';
import { StackProjectEntity } from '../entities/stack-project.entity.js';
import { StackProjectsService } from './stack-projects.service.js';

export interface ProvisionedProject {
  project: StackProjectEntity;
  /** `sak_…`, shown once. */
  superSecretAdminKey: string;
}

/** Creates a ready-to-use provider project: the project, its first signing key and an admin key. */
@Injectable()
export class ProvisioningService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly projects: StackProjectsService,
    private readonly tokens: TokensService,
  ) {}

  /**
   * A new project with its signing key and an admin key. With `provisionKey`, a repeat answers the project the first
   * call made (with a new admin key); concurrent calls with one key take turns on its unique index.
   */
  async provisionProject(displayName: string, description = 'Created with Neon', provisionKey: string | null = null): Promise<ProvisionedProject> {
    return this.db.transaction(async (tx) => {
      if (provisionKey !== null) await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`stack_auth provision:${provisionKey}`]);
      let project = provisionKey === null ? null : await tx.getRepository(StackProjectEntity).findOneBy({ provisionKey });
      if (!project) {
        project = await this.projects.create(tx, displayName, description, provisionKey);
        await this.tokens.createSigningKey(tx, project.id);
      }
      const keys = await this.projects.createKeySet(tx, project.id, { description: 'Neon integration admin key', superSecretAdminKey: true });
      return { project, superSecretAdminKey: keys.superSecretAdminKey! };
    });
  }
}
