import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module.js';
import { BETTER_AUTH_PATH } from './better-auth/better-auth-options.js';
import { BetterAuthHost } from './better-auth/better-auth-host.js';
import { toApiError, writeError } from './common/error.filter.js';
import { PinoNestLogger } from './common/logger.js';
import { requestIdMiddleware } from './common/request-id.js';
import { requestLogMiddleware } from './common/request-log.js';
import { securityHeaders } from './common/security-headers.js';
import { createValidationPipe } from './common/validation.js';
import { computeSharesControlPlaneCluster, type AppConfig } from './config/config.js';
import { migrateUnderLock } from './database/migrator.js';
import { BootstrapService } from './iam/bootstrap.service.js';
import { setupSwagger } from './openapi/swagger.js';
import { toStackError } from './stack-auth/http/stack-error.filter.js';
import { STACK_AUTH_PATH, stackHttpMiddleware, stackUnparsedBodyMiddleware, writeStackError } from './stack-auth/http/stack-http.js';
import { HttpMetricsService } from './ops/http-metrics.service.js';
import { OperationsReconciler } from './projects/operations/operations.reconciler.js';
import { NeonAuthIntegrationsService } from './neon-auth/integrations/integrations.service.js';
import { WebhookIntakeService } from './sync/webhook-intake.service.js';
import { mountWebhookReceiver } from './sync/webhook-receiver.js';
import { StackAuthGuard } from './stack-auth/http/stack-auth.guard.js';
import { mountStackUserRoutes, type Middleware } from './stack-auth/http/user-routes-fast-lane.js';
import { StackUsersService } from './stack-auth/users/stack-users.service.js';

export interface CreateAppOptions {
  /** Build the app without connecting anywhere (used to generate the OpenAPI document). */
  preview?: boolean;
}

/**
 * Builds the HTTP application: the same pipeline serves `npm start`, the tests and the OpenAPI
 * generator. Migrations and the first-start bootstrap run here, under an advisory lock.
 */
export async function createApp(config: AppConfig, logger: Logger, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger), {
    bodyParser: false,
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    preview: options.preview,
    abortOnError: false,
  });
  // X-Forwarded-For only from the proxies the operator names (TRUST_PROXY); by default the TCP peer is the client.
  app.set('trust proxy', config.trustProxy.length > 0 ? config.trustProxy : false);
  app.disable('x-powered-by');
  // No ETag: API answers are not cached (the provider's say no-store), and a weak ETag is a SHA-1 of every body.
  app.set('etag', false);
  // First, so that every answer carries them, errors and Swagger UI's assets included.
  // The pipeline ahead of routing, kept as values: the provider's user routes served ahead of Express run the same ones.
  const head: Middleware[] = [
    securityHeaders(),
    requestIdMiddleware as Middleware,
    // First of the API's pipeline, so every request is counted, errors included.
    ...(options.preview ? [] : [app.get(HttpMetricsService).middleware as Middleware]),
    requestLogMiddleware(logger.child({ component: 'http' })) as Middleware,
  ];
  for (const middleware of head) app.use(middleware);
  // Better Auth hosted per branch: before the API's body parsers (it reads and caps its own bodies, and answers CORS).
  if (!options.preview) app.use(BETTER_AUTH_PATH, app.get(BetterAuthHost).middleware());
  app.use(STACK_AUTH_PATH, stackHttpMiddleware);
  const json = express.json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'] });
  app.use(json);
  // The provider's OAuth token endpoint takes form-encoded bodies, as OAuth clients send them.
  app.use(STACK_AUTH_PATH, express.urlencoded({ extended: false, limit: config.bodyLimitBytes }));
  // A body in any other content type is refused on the provider's API, not silently dropped.
  app.use(`${STACK_AUTH_PATH}/api`, stackUnparsedBodyMiddleware);
  // Body-parser failures (malformed JSON, oversize bodies) get the error body of the API they were sent to.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    if (req.originalUrl.startsWith(`${STACK_AUTH_PATH}/`)) return writeStackError(req, res, toStackError(req, err));
    writeError(req, res, toApiError(err));
  });
  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app, config);

  if (!options.preview) {
    if (computeSharesControlPlaneCluster(config)) {
      logger.warn(
        'branch databases share the control-plane database\'s PostgreSQL cluster: set COMPUTE_DATABASE_URL to another cluster in ' +
          'production (README: Security model), so no tenant role can ever log in where accounts, key hashes and secrets are kept',
      );
    }
    await app.init();
    // The sync webhook receiver, on the HTTP server ahead of Express (see src/sync/webhook-receiver.ts).
    mountWebhookReceiver(app.getHttpServer(), app.get(WebhookIntakeService), logger.child({ component: 'sync' }), config.bodyLimitBytes);
    // The provider's hot user routes, ahead of Express too (see src/stack-auth/http/user-routes-fast-lane.ts).
    mountStackUserRoutes(app.getHttpServer(), {
      head: [...head, stackHttpMiddleware as Middleware],
      json: json as Middleware,
      unparsedBody: stackUnparsedBodyMiddleware as Middleware,
      guard: app.get(StackAuthGuard),
      users: app.get(StackUsersService),
      logger,
    });
    const dataSource = app.get(DataSource);
    const bootstrap = app.get(BootstrapService);
    await migrateUnderLock(dataSource, logger, () => bootstrap.ensureBootstrapped());
    // Databases provisioned before the tenant-data role existed get its grants (in the background; logged).
    app.get(NeonAuthIntegrationsService).restoreTenantDataGrantsInBackground();
    // Operations whose process died (or whose work failed) are finished or rolled back, now and on a schedule.
    app.get(OperationsReconciler).start();
  }
  return app;
}
