import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ProjectSettings } from './entities/project.entity.js';

/**
 * A rule another feature holds a project's settings to: called inside the transaction of PATCH /projects/{id}
 * that holds the project row locked (FOR NO KEY UPDATE), with the settings before and after the change. It
 * refuses the change by throwing an ApiError (answered as is; the transaction rolls back).
 */
export type ProjectSettingsCheck = (
  tx: EntityManager,
  projectId: string,
  before: ProjectSettings | null | undefined,
  after: ProjectSettings | null | undefined,
) => Promise<void>;

/**
 * The hook through which features that build on projects (Neon Auth refuses Private Link and IP Allow while it
 * is enabled) take part in a settings change, without projects importing them: they register a check when
 * their module starts.
 */
@Injectable()
export class ProjectSettingsChecks {
  private readonly checks: ProjectSettingsCheck[] = [];

  register(check: ProjectSettingsCheck): void {
    this.checks.push(check);
  }

  /** Runs every registered check in registration order; the first refusal is thrown. */
  async run(...args: Parameters<ProjectSettingsCheck>): Promise<void> {
    for (const check of this.checks) await check(...args);
  }
}
