import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ClusterEvents } from '../common/cluster-events.js';
import { OperationsReconciler } from './operations/operations.reconciler.js';

/**
 * Work another feature must do when branches go (Neon Auth deletes the provider projects it manages for them):
 * called inside the transaction that deletes the branch rows (a project delete: every branch of it), before they
 * go. A hook records its work as durable operations (OperationsService.enqueue), which `deleted` starts once the
 * transaction has committed.
 */
export type BranchDeletionHook = (tx: EntityManager, projectId: string, branchIds: string[]) => Promise<void>;

@Injectable()
export class BranchDeletionHooks {
  private readonly hooks: BranchDeletionHook[] = [];

  constructor(
    private readonly reconciler: OperationsReconciler,
    private readonly events: ClusterEvents,
  ) {}

  register(hook: BranchDeletionHook): void {
    this.hooks.push(hook);
  }

  async deleting(tx: EntityManager, projectId: string, branchIds: string[]): Promise<void> {
    for (const hook of this.hooks) await hook(tx, projectId, branchIds);
  }

  /**
   * After the commit: starts the work the hooks recorded, and waits until every replica has dropped what it cached
   * of the deleted branches (their integrations' rows went with them; see ClusterEvents).
   */
  async deleted(): Promise<void> {
    if (this.hooks.length > 0) this.reconciler.kick();
    await this.events.settle();
  }
}
