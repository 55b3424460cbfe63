import { isoTime } from '../common/pagination.js';
import type { ProjectRole } from '../iam/principal.js';
import type { BranchDto } from './dto/branch.dto.js';
import type { DatabaseDto, EndpointDto, OperationDto, RoleDto } from './dto/compute.dto.js';
import type { ProjectDto, ProjectListItemDto } from './dto/project.dto.js';
import type { ProjectPermissionDto } from './dto/permission.dto.js';
import type { BranchEntity } from './entities/branch.entity.js';
import type { DatabaseEntity } from './entities/database.entity.js';
import type { EndpointEntity } from './entities/endpoint.entity.js';
import type { ProjectPermissionEntity } from './entities/project-permission.entity.js';
import type { ProjectEntity } from './entities/project.entity.js';
import type { RoleEntity } from './entities/role.entity.js';
import { UNFINISHED_STATUSES, type OperationEntity } from './operations/operation.entity.js';

/** Reported for every project, branch and endpoint: there is one compute server, not a fleet. */
export const PLATFORM_ID = 'local';
export const PROVISIONER = 'k8s-pod';
/** Fixed compute size: the compute server does not autoscale. */
const FIXED_CU = 0.25;

export type PermissionLevel = 'CAN_VIEW' | 'CAN_EDIT' | 'CAN_MANAGE';

export function permissionLevelOf(role: ProjectRole | undefined): PermissionLevel | undefined {
  if (role === 'admin') return 'CAN_MANAGE';
  if (role === 'member' || role === 'collaborator') return 'CAN_EDIT';
  return undefined;
}

export interface ProjectView {
  /** Host name of the compute server. */
  host: string;
  role?: ProjectRole;
  orgName?: string;
}

function projectCommon(p: ProjectEntity, view: ProjectView) {
  const level = permissionLevelOf(view.role);
  return {
    id: p.id,
    platform_id: PLATFORM_ID,
    region_id: p.regionId,
    name: p.name,
    provisioner: PROVISIONER,
    settings: p.settings,
    pg_version: p.pgVersion,
    proxy_host: view.host,
    branch_logical_size_limit: 0,
    branch_logical_size_limit_bytes: 0,
    store_passwords: p.storePasswords,
    cpu_used_sec: 0,
    creation_source: p.creationSource,
    created_at: isoTime(p.createdAt),
    updated_at: isoTime(p.updatedAt),
    owner_id: p.ownerId ?? '',
    org_id: p.orgId,
    history_retention_seconds: p.historyRetentionSeconds,
    ...(level ? { effective_project_permission: level } : {}),
  };
}

export function toProjectListItemDto(p: ProjectEntity, view: ProjectView): ProjectListItemDto {
  return { ...projectCommon(p, view), active_time: 0, ...(view.orgName !== undefined ? { org_name: view.orgName } : {}) };
}

export function toProjectDto(p: ProjectEntity, view: ProjectView, now = new Date()): ProjectDto {
  const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const periodEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return {
    ...projectCommon(p, view),
    data_storage_bytes_hour: 0,
    data_transfer_bytes: 0,
    written_data_bytes: 0,
    compute_time_seconds: 0,
    active_time_seconds: 0,
    consumption_period_start: isoTime(periodStart),
    consumption_period_end: isoTime(periodEnd),
  };
}

export function toBranchDto(b: BranchEntity): BranchDto {
  return {
    id: b.id,
    project_id: b.projectId,
    ...(b.parentId ? { parent_id: b.parentId, parent_timestamp: isoTime(b.createdAt), init_source: 'parent-data' } : {}),
    name: b.name,
    current_state: b.currentState,
    state_changed_at: isoTime(b.stateChangedAt),
    creation_source: 'console',
    primary: b.isDefault,
    default: b.isDefault,
    protected: b.isProtected,
    cpu_used_sec: 0,
    compute_time_seconds: 0,
    active_time_seconds: 0,
    written_data_bytes: 0,
    data_transfer_bytes: 0,
    created_at: isoTime(b.createdAt),
    updated_at: isoTime(b.updatedAt),
  };
}

export function toRoleDto(r: RoleEntity, password?: string): RoleDto {
  return {
    branch_id: r.branchId,
    name: r.name,
    ...(password !== undefined ? { password } : {}),
    protected: r.isProtected,
    authentication_method: 'password',
    created_at: isoTime(r.createdAt),
    updated_at: isoTime(r.updatedAt),
  };
}

export function toDatabaseDto(d: DatabaseEntity): DatabaseDto {
  return {
    id: Number(d.id),
    branch_id: d.branchId,
    name: d.name,
    owner_name: d.ownerName,
    created_at: isoTime(d.createdAt),
    updated_at: isoTime(d.updatedAt),
  };
}

export function toEndpointDto(e: EndpointEntity, host: string, regionId: string): EndpointDto {
  return {
    host,
    id: e.id,
    project_id: e.projectId,
    branch_id: e.branchId,
    autoscaling_limit_min_cu: FIXED_CU,
    autoscaling_limit_max_cu: FIXED_CU,
    region_id: regionId,
    type: e.type,
    current_state: 'active',
    settings: {},
    pooler_enabled: false,
    pooler_mode: 'transaction',
    disabled: false,
    passwordless_access: false,
    creation_source: 'console',
    created_at: isoTime(e.createdAt),
    updated_at: isoTime(e.updatedAt),
    proxy_host: host,
    suspend_timeout_seconds: -1,
    provisioner: PROVISIONER,
  };
}

export function toPermissionDto(p: ProjectPermissionEntity): ProjectPermissionDto {
  return {
    id: p.id,
    granted_to_email: p.grantedToEmail,
    granted_at: isoTime(p.grantedAt),
    ...(p.revokedAt ? { revoked_at: isoTime(p.revokedAt) } : {}),
  };
}

/** An operation as Neon shows it; `total_duration_ms` counts up to now while it is unfinished. */
export function toOperationDto(op: OperationEntity, now = new Date()): OperationDto {
  const end = UNFINISHED_STATUSES.includes(op.status) ? now : op.updatedAt;
  return {
    id: op.id,
    project_id: op.projectId,
    ...(op.branchId ? { branch_id: op.branchId } : {}),
    ...(op.endpointId ? { endpoint_id: op.endpointId } : {}),
    action: op.action,
    status: op.status,
    ...(op.error ? { error: op.error } : {}),
    failures_count: op.failuresCount,
    ...(op.retryAt && op.status === 'error' ? { retry_at: isoTime(op.retryAt) } : {}),
    created_at: isoTime(op.createdAt),
    updated_at: isoTime(op.updatedAt),
    total_duration_ms: Math.max(0, end.getTime() - op.createdAt.getTime()),
  };
}
