import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { OperationsService } from './operations.service.js';

/** Groups taken up per pass. */
const BATCH = 50;
/** How often one process prunes the ended operations of deleted projects. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * Finishes or rolls back the operations no process is driving: at start (after the migrations), every
 * OPERATIONS_RECONCILE_SECONDS, and when kicked (work recorded without a request to drive it). Every replica runs
 * it; the operation locks make sure one process drives a given operation at a time. Once an hour it also prunes the
 * ended operations of deleted projects (OperationsService.pruneEnded).
 */
@Injectable()
export class OperationsReconciler implements OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastPruneAt = 0;

  constructor(
    private readonly operations: OperationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Runs a pass now, then one every OPERATIONS_RECONCILE_SECONDS. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.kick(), this.config.operationsReconcileSeconds * 1000);
    this.timer.unref();
    this.kick();
  }

  /** Starts a pass (or, when one is running, another right after it). Never throws. */
  kick(): void {
    if (this.stopped) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.runPass()
      .catch((err: unknown) => this.logger.error({ err }, 'operations reconciler: pass failed'))
      .finally(() => {
        this.pass = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when no pass is running (tests). */
  async idle(): Promise<void> {
    while (this.pass) await this.pass;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.pass;
  }

  private async runPass(): Promise<void> {
    if (Date.now() - this.lastPruneAt >= PRUNE_EVERY_MS) {
      this.lastPruneAt = Date.now();
      try {
        const pruned = await this.operations.pruneEnded();
        if (pruned > 0) this.logger.info({ pruned }, 'operations reconciler: pruned ended operations of deleted projects');
      } catch (err) {
        this.logger.warn({ err }, 'operations reconciler: could not prune ended operations; tried again in an hour');
      }
    }
    const seen = new Set<string>();
    for (;;) {
      const due = (await this.operations.dueGroups(BATCH)).filter((id) => !seen.has(id));
      if (due.length === 0 || this.stopped) return;
      for (const id of due) {
        seen.add(id);
        if (this.stopped) return;
        try {
          if (await this.operations.recover(id)) this.logger.info({ operationId: id }, 'operations reconciler: took up an operation');
        } catch (err) {
          this.logger.warn({ err, operationId: id }, 'operations reconciler: the operation failed again; it is retried later');
        }
      }
    }
  }
}
