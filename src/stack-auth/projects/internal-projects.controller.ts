import { Body, Delete, Get, Patch } from '@nestjs/common';
import { KnownErrors } from '../http/known-errors.js';
import { StackAccess, StackCaller, type StackAuth } from '../http/stack-auth.guard.js';
import { StackController } from '../http/stack-controller.decorator.js';
import { StackBodyPipe } from '../users/dto/stack-validation.js';
import { ProjectUpdateDto, type ProjectUpdateInput } from './dto/project-update.dto.js';
import { adminProjectView } from './stack-project-config.js';
import { StackProjectsService } from './stack-projects.service.js';

/** Stack Auth's internal (dashboard) project routes that the control plane needs. */
@StackController('internal/projects')
export class StackInternalProjectsController {
  constructor(private readonly projects: StackProjectsService) {}

  /** The admin view of the project: its configuration with OAuth client secrets and the SMTP password redacted. */
  @Get('current')
  @StackAccess('admin')
  getCurrentProject(@StackCaller() auth: StackAuth) {
    return adminProjectView(auth.project);
  }

  /** A partial update of the project (`display_name`, `description`, `config`); answers the admin view after it. */
  @Patch('current')
  @StackAccess('admin')
  async updateCurrentProject(@StackCaller() auth: StackAuth, @Body(new StackBodyPipe(ProjectUpdateDto)) body: ProjectUpdateInput) {
    const project = await this.projects.updateProject(auth.project.id, body);
    if (!project) throw KnownErrors.currentProjectNotFound(auth.project.id);
    return adminProjectView(project);
  }

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
