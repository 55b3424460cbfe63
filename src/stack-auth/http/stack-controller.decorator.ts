import { applyDecorators, Controller, UseFilters, UseGuards } from '@nestjs/common';
import { EmbeddedProviderRoutes } from '../../common/access-policy.js';
import { StackAuthGuard } from './stack-auth.guard.js';
import { StackErrorFilter } from './stack-error.filter.js';

/**
 * A controller of the embedded provider, mounted under `/stack-auth/api/v1/<path>`: outside the Neon API's
 * access policies and document, with Stack Auth's authentication and error format.
 */
export function StackController(path = ''): ClassDecorator {
  return applyDecorators(
    Controller(`stack-auth/api/v1${path ? `/${path}` : ''}`),
    EmbeddedProviderRoutes(),
    UseFilters(StackErrorFilter),
    UseGuards(StackAuthGuard),
  );
}
