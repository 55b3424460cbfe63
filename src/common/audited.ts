import { SetMetadata } from '@nestjs/common';
import type { ErrorCode } from './errors.js';

/** Route metadata key read by the audit interceptor (src/audit). */
export const AUDIT_KEY = 'audit_spec';

/** Where an audit record's target id comes from. */
export type AuditTargetId = { param: string } | { body: string } | { response: string };

export interface AuditSpec {
  /** What happened, e.g. `neon_auth.enable`, `api_key.create`. */
  action: string;
  /** What it happened to, e.g. `branch`, `api_key`, `member`. */
  target: string;
  targetId?: AuditTargetId;
  /** Where the organization comes from when the route's policy did not resolve one (e.g. an accepted invitation). */
  org?: AuditTargetId;
  /** Request body fields copied into the record. Never name a secret (keys, passwords, secret server keys). */
  details?: string[];
  /** Refusals (by error code) recorded too, as `<action>.refused`; e.g. quota refusals. */
  refusals?: ErrorCode[];
  /** Record only the refusals, not the successes (e.g. project creation, audited for its quota). */
  refusalsOnly?: boolean;
}

/**
 * Declares that a route is an administrative action: the audit interceptor appends who did it (account and key),
 * what, to what, when and from where to the audit log once it succeeded. One declaration per route, beside its
 * access policy; the route-policy test lists them.
 */
export function Audited(spec: AuditSpec): MethodDecorator {
  return SetMetadata(AUDIT_KEY, spec);
}
