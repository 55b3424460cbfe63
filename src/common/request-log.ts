import type { NextFunction, Request, Response } from 'express';
import type { Level, Logger } from 'pino';

/** Query parameters whose values never reach the logs (`code`: the provider's single-use transfer links). */
const SECRET_QUERY_PARAMS = /([?&](?:access_token|api_key|apikey|key|token|password|secret|code)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[redacted]');
}

function levelOf(status: number): Level {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/**
 * One log line per answered request (what pino-http wrote, in its shape: `req` {id, method, url, remoteAddress},
 * `res` {statusCode}, `responseTime` in ms; 'request completed', or 'request errored' with an `err` for a 5xx): info
 * for 2xx/3xx, warn for 4xx, error for 5xx; 'request aborted' at info when the client left before the answer ended. Built only when its level is enabled, and without a child logger per
 * request: at LOG_LEVEL=warn a successful request costs a timestamp and one listener (pino-http serialized every
 * request into a child logger, about a tenth of a request's CPU, whether or not a line was written). Query
 * parameters that carry secrets are redacted.
 */
export function requestLogMiddleware(logger: Logger): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const started = performance.now();
    const done = (): void => {
      res.removeListener('finish', done);
      res.removeListener('close', done);
      // A client that went away before the answer was complete: pino-http's 'request aborted', at info.
      const aborted = !res.writableEnded;
      const status = res.statusCode;
      const level = aborted ? 'info' : levelOf(status);
      if (!logger.isLevelEnabled(level)) return;
      const entry: Record<string, unknown> = {
        req: { id: req.requestId ?? '', method: req.method, url: redactUrl(req.originalUrl ?? req.url), remoteAddress: req.socket?.remoteAddress },
        res: { statusCode: status },
        responseTime: Math.round(performance.now() - started),
      };
      if (aborted) {
        logger[level](entry, 'request aborted');
      } else if (status >= 500) {
        entry.err = new Error(`failed with status code ${status}`);
        logger[level](entry, 'request errored');
      } else {
        logger[level](entry, 'request completed');
      }
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
