import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createLogger } from './common/logger.js';
import { loadConfigOrExit, logStartFailure, stopOnSignals } from './common/process-lifecycle.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './database/embedded-postgres.js';

async function main(): Promise<void> {
  let config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);

  let embedded: EmbeddedPostgresHandle | undefined;
  let app: NestExpressApplication | undefined;
  const stopping = stopOnSignals(logger, 'shutting down: closing HTTP, then workers, then the database', async () => {
    await app?.close();
    await embedded?.stop();
  });

  // The application's module graph (Nest, TypeORM, Swagger, ...: most of a warm start) loads while the embedded
  // PostgreSQL starts or recovers, not after it.
  const factory = import('./app.factory.js');
  factory.catch(() => undefined); // awaited below; a failure is reported there
  try {
    if (!config.databaseUrl) {
      embedded = await startEmbeddedPostgres(
        config.dataDir,
        { port: config.embeddedPgPort, computePort: config.computeDatabaseUrl ? undefined : config.embeddedComputePgPort },
        logger,
      );
      config = { ...config, databaseUrl: embedded.databaseUrl, computeDatabaseUrl: config.computeDatabaseUrl ?? embedded.computeUrl };
    }
    if (stopping()) return;
    const { createApp } = await factory;
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
    logStartFailure(logger, err);
    await app?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
