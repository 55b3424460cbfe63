import type { EntityManager } from 'typeorm';
import { ApiError, ErrorCode } from '../../common/errors.js';
import type { ProjectSettings } from '../../projects/entities/project.entity.js';

/**
 * Neon Auth does not work with Private Link (`settings.block_public_connections`) or IP Allow
 * (`settings.allowed_ips.ips` non-empty): the auth provider must reach the product over the internet
 * to deliver user events (Neon: "Neon Auth does not currently support projects with IP Allow or Private
 * Networking enabled"). Both directions are refused with ErrorCode.NeonAuthPrivateNetworking (400):
 * enabling Neon Auth on such a project, and turning either setting on while Neon Auth is active.
 */
export type PrivateNetworkingFeature = 'Private Link' | 'IP Allow';

/** The private-networking features these settings turn on. */
export function privateNetworkingOf(settings: ProjectSettings | null | undefined): PrivateNetworkingFeature[] {
  const out: PrivateNetworkingFeature[] = [];
  if (settings?.block_public_connections === true) out.push('Private Link');
  const ips = settings?.allowed_ips?.ips;
  if (Array.isArray(ips) && ips.length > 0) out.push('IP Allow');
  return out;
}

export function privateNetworkingError(features: PrivateNetworkingFeature[], direction: 'enable' | 'settings'): ApiError {
  const names = features.join(' and ');
  const settings = features.map((f) => (f === 'Private Link' ? 'block_public_connections' : 'allowed_ips')).join(', ');
  return new ApiError(
    ErrorCode.NeonAuthPrivateNetworking,
    direction === 'enable'
      ? `Neon Auth is not supported on projects with ${names} enabled (settings: ${settings}); turn ${features.length > 1 ? 'them' : 'it'} off first`
      : `${names} cannot be enabled (settings: ${settings}) while Neon Auth is enabled on a branch of this project; disable Neon Auth first`,
  );
}

/**
 * For PATCH /projects/{id}: call inside the transaction that holds the project row locked (FOR NO KEY UPDATE),
 * with the settings before and after the change. Refuses (400, NeonAuthPrivateNetworking) when the change turns
 * Private Link or IP Allow on while any branch of the project has Neon Auth. Enabling Neon Auth takes a FOR SHARE
 * lock on the project row and re-reads the settings, so the two cannot race past each other.
 */
export async function assertSettingsAllowNeonAuth(
  tx: EntityManager,
  projectId: string,
  before: ProjectSettings | null | undefined,
  after: ProjectSettings | null | undefined,
): Promise<void> {
  const had = new Set(privateNetworkingOf(before));
  const turnedOn = privateNetworkingOf(after).filter((f) => !had.has(f));
  if (turnedOn.length === 0) return;
  const rows: unknown[] = await tx.query('SELECT 1 FROM neon_auth_integrations WHERE project_id = $1 LIMIT 1', [projectId]);
  if (rows.length > 0) throw privateNetworkingError(turnedOn, 'settings');
}
