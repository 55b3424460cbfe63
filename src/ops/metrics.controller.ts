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

/** What a scrape with this Authorization header gets: the metrics, a 401, or a 404 (METRICS_TOKEN unset). */
export type MetricsAccess = 'ok' | 'unauthorized' | 'not-served';

/**
 * Who may scrape: only `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise), and nobody when METRICS_TOKEN
 * is unset (404, as for any unknown path). A loopback-only default was not chosen: behind a reverse proxy on
 * the same host every caller is a loopback caller, so it would publish the metrics. API keys play no part.
 * The same rule for the server's GET /metrics and the worker's (src/ops/worker-http.ts).
 */
export class MetricsTokenCheck {
  private readonly tokenHash: Buffer | undefined;

  constructor(token: string | undefined) {
    this.tokenHash = token === undefined ? undefined : sha256(token);
  }

  access(authorization: string | undefined): MetricsAccess {
    if (this.tokenHash === undefined) return 'not-served';
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    // Hashes of equal length, compared in constant time: the comparison tells nothing about the token.
    return match && timingSafeEqual(sha256(match[1]), this.tokenHash) ? 'ok' : 'unauthorized';
  }
}

/** The unauthorized message of a scrape without the right token. */
export const METRICS_UNAUTHORIZED = 'send the metrics token as "Authorization: Bearer <METRICS_TOKEN>"';

/** MetricsTokenCheck as a guard, so that a refusal is answered before the route's Prometheus content type is set. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly check: MetricsTokenCheck;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.check = new MetricsTokenCheck(config.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const access = this.check.access(context.switchToHttp().getRequest<Request>().header('authorization'));
    if (access === 'not-served') throw new NotFoundException('Cannot GET /metrics');
    if (access === 'unauthorized') throw ApiError.unauthorized(METRICS_UNAUTHORIZED);
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
