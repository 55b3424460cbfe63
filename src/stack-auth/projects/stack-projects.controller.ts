import { Get, Header, Param } from '@nestjs/common';
import { TokensService } from '../auth/tokens.service.js';
import { StackStatusError } from '../http/known-errors.js';
import { StackAccess, StackCaller, type StackAuth } from '../http/stack-auth.guard.js';
import { StackController } from '../http/stack-controller.decorator.js';
import { clientProjectConfig } from './stack-project-config.js';
import { StackProjectsService } from './stack-projects.service.js';

@StackController('projects')
export class StackProjectsController {
  constructor(
    private readonly projects: StackProjectsService,
    private readonly tokens: TokensService,
  ) {}

  /** The client view of the current project (`app.getProject()` in the SDK), with any access type. */
  @Get('current')
  @StackAccess('client', 'server', 'admin')
  current(@StackCaller() auth: StackAuth) {
    return { id: auth.project.id, display_name: auth.project.displayName, config: clientProjectConfig(auth.project.config) };
  }

  /** The project's public signing keys; `?include_anonymous` / `?include_restricted` add nothing here. */
  @Get(':project_id/.well-known/jwks.json')
  @Header('cache-control', 'public, max-age=3600')
  async jwks(@Param('project_id') projectId: string) {
    const project = await this.projects.find(projectId);
    if (!project) throw new StackStatusError(404, 'Project not found');
    return this.tokens.jwks(project.id);
  }
}
