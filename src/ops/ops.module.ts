import { Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';
import { HttpMetricsService } from './http-metrics.service.js';
import { MetricsController } from './metrics.controller.js';

/** Operations endpoints: GET /health (readiness), GET /health/live (liveness), GET /metrics (Prometheus). */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [HealthService, HttpMetricsService],
  exports: [HttpMetricsService],
})
export class OpsModule {}

/**
 * Installs the HTTP metrics middleware on the app. Call it before any other middleware that can
 * answer a request (body parsing, Swagger UI), so that every request is counted, errors included.
 */
export function useHttpMetrics(app: INestApplication): void {
  app.use(app.get(HttpMetricsService).middleware);
}
