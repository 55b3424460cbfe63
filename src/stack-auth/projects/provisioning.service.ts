import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TokensService } from '../auth/tokens.service.js';
import type { StackProjectEntity } from '../entities/stack-project.entity.js';
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

  async provisionProject(displayName: string, description = 'Created with Neon'): Promise<ProvisionedProject> {
    return this.db.transaction(async (tx) => {
      const project = await this.projects.create(tx, displayName, description);
      await this.tokens.createSigningKey(tx, project.id);
      const keys = await this.projects.createKeySet(tx, project.id, { description: 'Neon integration admin key', superSecretAdminKey: true });
      return { project, superSecretAdminKey: keys.superSecretAdminKey! };
    });
  }
}
