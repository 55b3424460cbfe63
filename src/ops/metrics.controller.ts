import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Header, Inject, Injectable, NotFoundException, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ApiExcludeController, ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import type { Request } from 'express';
import { Registry } from 'prom-client';
import { ApiError } from '../common/errors.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { Access, Policy } from '../iam/policy.js';
import { HttpMetricsService } from './http-metrics.service.js';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Who may scrape: only `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise), and nobody when METRICS_TOKEN
 * is unset (404, as for any unknown path). A loopback-only default was not chosen: behind a reverse proxy on
 * the same host every caller is a loopback caller, so it would publish the metrics. API keys play no part.
 * A guard, so that a refusal is answered before the route's Prometheus content type is set.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly tokenHash: Buffer | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.tokenHash = config.metricsToken === undefined ? undefined : sha256(config.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.tokenHash === undefined) throw new NotFoundException('Cannot GET /metrics');
    const authorization = context.switchToHttp().getRequest<Request>().header('authorization');
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    // Hashes of equal length, compared in constant time: the comparison tells nothing about the token.
    if (!match || !timingSafeEqual(sha256(match[1]), this.tokenHash)) {
      throw ApiError.unauthorized('send the metrics token as "Authorization: Bearer <METRICS_TOKEN>"');
    }
    return true;
  }
}

/** Prometheus scrape endpoint; outside /api/v2 and not part of the API document. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: HttpMetricsService) {}

  @Get()
  @Access(Policy.Public)
  @UseGuards(MetricsTokenGuard)
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics: process defaults and HTTP requests by method, route template and status' })
  @ApiProduces(Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'Prometheus text exposition format' })
  getMetrics(): Promise<string> {
    return this.metrics.metrics();
  }
}
