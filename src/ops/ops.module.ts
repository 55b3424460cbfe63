import { Module } from '@nestjs/common';
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

