import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Neon's operation statuses. */
export type OperationStatus = 'scheduling' | 'running' | 'finished' | 'failed' | 'error' | 'cancelling' | 'cancelled' | 'skipped';

/** Statuses of an operation that is not over yet (the reconciler drives these). */
export const UNFINISHED_STATUSES: OperationStatus[] = ['scheduling', 'running', 'error', 'cancelling'];

/**
 * A control-plane operation, recorded before its physical work starts (Neon's `operations`). One operation of a
 * group carries the work (`kind` names its handler, `plan` what it does and how far it got); the others of the
 * group (e.g. `start_compute` beside `create_timeline`) end with it. There is deliberately no foreign key to the
 * project or branch: the operation that deletes them outlives their rows.
 */
@Entity({ name: 'operations' })
@Index('operations_project_idx', ['projectId', 'createdAt'])
@Index('operations_unfinished_idx', ['status'], { where: `status IN ('scheduling', 'running', 'error', 'cancelling')` })
export class OperationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** The operation of the group that carries the work (its own id when it does). */
  @Column({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @Column({ name: 'project_id', type: 'text' })
  projectId!: string;

  @Column({ name: 'branch_id', type: 'text', nullable: true })
  branchId!: string | null;

  @Column({ name: 'endpoint_id', type: 'text', nullable: true })
  endpointId!: string | null;

  /** Neon's action: create_timeline, create_branch, start_compute, apply_config, delete_timeline, suspend_compute, … */
  @Column({ type: 'text' })
  action!: string;

  @Column({ type: 'text' })
  status!: OperationStatus;

  /** The handler of the work (see OperationHandler); null for the other operations of a group. */
  @Column({ type: 'text', nullable: true })
  kind!: string | null;

  /** What the handler needs to do, undo or resume the work (never a secret in clear). */
  @Column({ type: 'jsonb', nullable: true })
  plan!: Record<string, unknown> | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** The work failed for good (or was interrupted where it cannot resume): what it did is being undone. */
  @Column({ name: 'rolling_back', type: 'boolean', default: false })
  rollingBack!: boolean;

  /**
   * Set by whoever drives the operation now (a request, or the reconciler that took it over); its writes of the plan
   * and of the end state only count while it still holds the lease, so a process that lost its lock unnoticed
   * cannot finish what another one is undoing.
   */
  @Column({ type: 'uuid', nullable: true })
  lease!: string | null;

  @Column({ name: 'failures_count', type: 'integer', default: 0 })
  failuresCount!: number;

  /** When the reconciler may try an `error` operation again. */
  @Column({ name: 'retry_at', type: 'timestamptz', nullable: true })
  retryAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
