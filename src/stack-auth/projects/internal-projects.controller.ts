import { Delete } from '@nestjs/common';
import { KnownErrors } from '../http/known-errors.js';
import { StackAccess, StackCaller, type StackAuth } from '../http/stack-auth.guard.js';
import { StackController } from '../http/stack-controller.decorator.js';
import { StackProjectsService } from './stack-projects.service.js';

/** Stack Auth's internal (dashboard) project routes that the control plane needs. */
@StackController('internal/projects')
export class StackInternalProjectsController {
  constructor(private readonly projects: StackProjectsService) {}

  /**
   * Deletes the current project with admin access, as Stack's dashboard does: its users, keys, sessions,
   * signing keys, webhook endpoints and pending deliveries, transfers. No webhooks are sent for it.
   * Afterwards its keys get CURRENT_PROJECT_NOT_FOUND.
   */
  @Delete('current')
  @StackAccess('admin')
  async deleteCurrentProject(@StackCaller() auth: StackAuth): Promise<{ success: true }> {
    // A concurrent delete of the same project won: answer as the guard would have a moment later.
    if (!(await this.projects.deleteProject(auth.project.id))) throw KnownErrors.currentProjectNotFound(auth.project.id);
    return { success: true };
  }
}
