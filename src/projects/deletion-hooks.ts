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

/**
 * The same for one database of a branch (by its name in the API): may refuse the deletion by throwing an ApiError
 * (Neon Auth refuses while it is enabled on the database), or record work.
 */
export type DatabaseDeletionHook = (tx: EntityManager, projectId: string, branchId: string, databaseName: string) => Promise<void>;

/**
 * Work another feature does when a new branch becomes ready (its databases copied from its parent): called in the
 * transaction that marks it ready, so it is done exactly when the branch is. Neon Auth carries a Better Auth
 * integration over to the copy, as Neon's branching carries auth state.
 */
export type BranchReadyHook = (tx: EntityManager, projectId: string, branchId: string, parentId: string) => Promise<void>;

/** The hooks through which features built on projects take part in deletions, without projects importing them. */
@Injectable()
export class DeletionHooks {
  private readonly hooks: BranchDeletionHook[] = [];
  private readonly databaseHooks: DatabaseDeletionHook[] = [];
  private readonly readyHooks: BranchReadyHook[] = [];

  constructor(
    private readonly reconciler: OperationsReconciler,
    private readonly events: ClusterEvents,
  ) {}

  register(hook: BranchDeletionHook): void {
    this.hooks.push(hook);
  }

  registerDatabase(hook: DatabaseDeletionHook): void {
    this.databaseHooks.push(hook);
  }

  /** Registers work for new branches (see BranchReadyHook). */
  registerBranchReady(hook: BranchReadyHook): void {
    this.readyHooks.push(hook);
  }

  /** In the transaction that marks a branch copied from `parentId` ready. */
  async branchReady(tx: EntityManager, projectId: string, branchId: string, parentId: string): Promise<void> {
    for (const hook of this.readyHooks) await hook(tx, projectId, branchId, parentId);
  }

  async deleting(tx: EntityManager, projectId: string, branchIds: string[]): Promise<void> {
    for (const hook of this.hooks) await hook(tx, projectId, branchIds);
  }

  async deletingDatabase(tx: EntityManager, projectId: string, branchId: string, databaseName: string): Promise<void> {
    for (const hook of this.databaseHooks) await hook(tx, projectId, branchId, databaseName);
  }

  /**
   * After the commit: starts the work the hooks recorded, and waits until every replica has dropped what it cached
   * of the deleted branches (their integrations' rows went with them; see ClusterEvents).
   */
  async deleted(): Promise<void> {
    if (this.hooks.length > 0 || this.databaseHooks.length > 0) this.reconciler.kick();
    await this.events.settle();
  }
}
