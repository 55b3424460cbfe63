import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

/** Route metadata key read by the global AccessGuard (see src/iam/policy.ts). */
export const ACCESS_POLICY_KEY = 'access_policy';

/**
 * Policy of the embedded Stack-Auth-compatible provider's routes: the global guard lets them through,
 * and the provider authenticates them itself with its own project keys and tokens (StackAuthGuard).
 */
export const EMBEDDED_PROVIDER_POLICY = 'embedded_provider';

/** Marks a controller as part of the embedded provider; it is not part of the Neon API document. */
export function EmbeddedProviderRoutes(): ClassDecorator {
  return applyDecorators(SetMetadata(ACCESS_POLICY_KEY, EMBEDDED_PROVIDER_POLICY), ApiExcludeController());
}
