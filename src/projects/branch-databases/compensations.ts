import type { Logger } from 'pino';

/**
 * Undo steps for work that a database transaction cannot roll back (CREATE ROLE, CREATE DATABASE on
 * the compute server). Each real step registers its undo right after it succeeds; when the whole
 * operation fails, `run` undoes them newest first. A failing undo is logged and the rest still run.
 */
export class Compensations {
  private readonly steps: { what: string; undo: () => Promise<void> }[] = [];

  constructor(private readonly logger: Logger) {}

  add(what: string, undo: () => Promise<void>): void {
    this.steps.push({ what, undo });
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.undo();
      } catch (err) {
        this.logger.error({ err, step: step.what }, 'compensation failed: a compute object may be left behind');
      }
    }
  }
}
