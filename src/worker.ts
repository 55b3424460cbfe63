import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module.js';
import { createLogger, PinoNestLogger } from './common/logger.js';
import type { AppConfig } from './config/config.js';
import { EXIT_CONFIG, loadConfigOrExit, logStartFailure, stopOnSignals } from './common/process-lifecycle.js';
import { migrateUnderLock } from './database/migrator.js';
import { BootstrapService } from './iam/bootstrap.service.js';
import { serveWorkerOps, type WorkerOpsServer } from './ops/worker-http.js';


/**
 * `npm run worker`: the users_sync sync engine without HTTP, for deployments that run the API
 * (SYNC_ENGINE=receive: it stores webhook events and wakes the workers with pg_notify) and the workers
 * (this process) apart, on one control-plane database. The same application (AppModule) and configuration as
 * `npm start`, started as a Nest application context: the applier (always `on` here, whatever SYNC_ENGINE
 * says for the API processes; SYNC_ENGINE=off is refused), its pg-boss retries and sweep, the LISTEN for
 * wake-ups, the reconciler's schedule. Migrations and the first-start bootstrap run under the same advisory
 * lock as the API's (migrateUnderLock). The worker never starts an embedded PostgreSQL: it needs DATABASE_URL.
 * Its only HTTP is GET /metrics and /health on WORKER_PORT (src/ops/worker-http.ts), for scrapers and orchestrators.
 */
async function main(): Promise<void> {
  let config = loadConfigOrExit();
  const refused = workerConfigProblem(config);
  if (refused) {
    process.stderr.write(`${refused}\n`);
    process.exit(EXIT_CONFIG);
  }
  config = { ...config, syncEngine: 'on' };
  const logger = createLogger(config.logLevel);

  let app: INestApplicationContext | undefined;
  let ops: WorkerOpsServer | undefined;
  const stopping = stopOnSignals(logger, 'sync worker shutting down: finishing running applies', async () => {
    await ops?.close();
    await app?.close();
  });

  try {
    app = await createWorker(config, logger);
    if (stopping()) return;
    ops = await serveWorkerOps(app, config, logger);
    if (stopping()) return;
    logger.info(
      { syncEngine: config.syncEngine, port: ops.port, host: config.host },
      `sync worker started (no HTTP API): applying users_sync events; /metrics and /health on http://${config.host}:${ops.port}`,
    );
  } catch (err) {
    logStartFailure(logger, err);
    await ops?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    process.exit(1);
  }
}

/** Why this configuration cannot run a worker, or undefined. */
function workerConfigProblem(config: AppConfig): string | undefined {
  if (!config.databaseUrl) {
    return (
      'npm run worker needs DATABASE_URL: the control-plane database the API processes use ' +
      '(the worker does not start an embedded PostgreSQL; `npm start` does when DATABASE_URL is unset)'
    );
  }
  if (config.syncEngine === 'off') {
    return 'SYNC_ENGINE=off: this worker would have nothing to do (set SYNC_ENGINE=receive on the API processes, and leave it unset or on/receive for workers)';
  }
  return undefined;
}

/** The application context of a worker: initialized (the engine running), the schema migrated. */
async function createWorker(config: AppConfig, logger: Logger): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
  });
  try {
    await migrateUnderLock(app.get(DataSource), logger, () => app.get(BootstrapService).ensureBootstrapped());
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}

void main();
