import type { Logger } from 'pino';
import { ConfigError, loadConfig, type AppConfig } from '../config/config.js';

/** EX_CONFIG: the configuration cannot work. */
export const EXIT_CONFIG = 78;
/** How long running work gets to finish on SIGINT/SIGTERM before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** The validated configuration; on a bad one, every problem on stderr and exit 78. */
export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

/**
 * SIGINT/SIGTERM run `stop` once (logging `message`), then exit 0, or 1 if it failed or took longer than
 * SHUTDOWN_GRACE_MS (plus 5 s). Answers whether a stop has begun, for a start that is still under way.
 */
export function stopOnSignals(logger: Logger, message: string, stop: () => Promise<void>): () => boolean {
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, message);
    const force = setTimeout(() => {
      logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS + 5000);
    force.unref();
    try {
      await stop();
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void shutdown(signal));
  }
  return () => stopping;
}

/** Logs why a start failed (fatal). */
export function logStartFailure(logger: Logger, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  logger.fatal({ err }, `failed to start: ${message}`);
}
