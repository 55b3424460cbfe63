import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import { createApp } from './app.factory.js';
import { createLogger } from './common/logger.js';
import { ConfigError, loadConfig, type AppConfig } from './config/config.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './database/embedded-postgres.js';

/** How long in-flight requests get to finish on SIGINT/SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);

  let embedded: EmbeddedPostgresHandle | undefined;
  let app: NestExpressApplication | undefined;
  let stopping = false;

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: closing HTTP, then workers, then the database');
    const force = setTimeout(() => {
      logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS + 5000);
    force.unref();
    try {
      await app?.close();
      await embedded?.stop();
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

  try {
    if (!config.databaseUrl) {
      embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, logger);
      config = { ...config, databaseUrl: embedded.databaseUrl };
    }
    if (stopping) return;
    app = await createApp(config, logger);
    const server = await app.listen(config.port, config.host);
    server.keepAliveTimeout = 5000;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info(
      { port, host: config.host, publicUrl: config.publicUrl, embeddedPostgres: Boolean(embedded) },
      `listening on http://${config.host}:${port} (API ${config.publicUrl}/api/v2, Swagger UI ${config.publicUrl}/api/docs)`,
    );
  } catch (err) {
    fail(logger, err);
    await app?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    process.exit(1);
  }
}

function fail(logger: Logger, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  logger.fatal({ err }, `failed to start: ${message}`);
}

void main();
