import { NEON_ID_PARAM_SCHEMA } from './validation.js';

/**
 * The `@ApiParam` declarations of the path parameters many routes share, declared once. Their values are
 * validated by NeonIdPipe on the `@Param` itself.
 */
export const PROJECT_ID_PARAM = {
  name: 'project_id',
  description: 'The Neon project ID',
  schema: NEON_ID_PARAM_SCHEMA,
} as const;

export const BRANCH_ID_PARAM = {
  name: 'branch_id',
  description: 'The branch ID',
  schema: NEON_ID_PARAM_SCHEMA,
} as const;
