import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The `route` label of a request that no route handled (404s, static Swagger UI assets, body-parser rejections). */
export const UNMATCHED_ROUTE = 'unmatched';

const LABELS = ['method', 'route', 'status'] as const;
type Label = (typeof LABELS)[number];

/**
 * Prometheus metrics of one application instance. The registry belongs to the instance (not
 * prom-client's global one), so several apps can live in one process (tests) without clashing
 * metric names, and closing an app drops its metrics.
 */
@Injectable()
export class HttpMetricsService implements OnModuleDestroy {
  readonly registry = new Registry();
  private readonly requests: Counter<Label>;
  private readonly duration: Histogram<Label>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'http_requests_total',
      help: `HTTP requests by method, route template ("${UNMATCHED_ROUTE}" when no route matched) and status code`,
      labelNames: LABELS,
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, from the first middleware to the end of the response',
      labelNames: LABELS,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  /**
   * Express middleware that records every request once it ends, errors included. It must be
   * installed before anything that can answer a request (see app.factory.ts).
   */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const end = this.duration.startTimer();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      // A response that never finished (the client went away) is labelled "aborted".
      const labels = { method: req.method, route: routeTemplateOf(req), status: res.writableFinished ? String(res.statusCode) : 'aborted' };
      this.requests.inc(labels);
      end(labels);
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  onModuleDestroy(): void {
    this.registry.clear();
  }
}

/**
 * The route template that handled the request ("/api/v2/projects/:project_id"), never the raw URL,
 * so the label's cardinality is bounded by the number of routes.
 */
function routeTemplateOf(req: Request): string {
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : UNMATCHED_ROUTE;
}
