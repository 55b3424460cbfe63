import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController, ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { Access, Policy } from '../iam/policy.js';
import { HttpMetricsService } from './http-metrics.service.js';

/** Prometheus scrape endpoint; outside /api/v2 and not part of the API document. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: HttpMetricsService) {}

  @Get()
  @Access(Policy.Public)
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics: process defaults and HTTP requests by method, route template and status' })
  @ApiProduces(Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'Prometheus text exposition format' })
  getMetrics(): Promise<string> {
    return this.metrics.metrics();
  }
}
