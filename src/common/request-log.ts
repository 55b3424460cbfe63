import type { NextFunction, Request, Response } from 'express';
import type { Level, Logger } from 'pino';

/**
 * Query parameters whose values never reach the logs: any name that carries a credential or a single-use value
 * (`token`, `refresh_token`, `id_token`, `client_secret`, `code` of an OAuth callback or a transfer link,
 * `code_verifier`, `state`, `otp`, `api_key`, `password`, `signature`, ...), matched on the decoded name.
 */
const SECRET_PARAM_NAME = /token|secret|passw|code|key|signature|otp|state|nonce|session|verifier|credential|ticket|auth/i;
/** Path segments that are themselves a credential: Better Auth's reset link `/reset-password/{token}`. */
const SECRET_AFTER_SEGMENT = new Set(['reset-password']);
const REDACTED = '[redacted]';

function decodedOr(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** The URL as it may be logged: secret-bearing query values and path-borne tokens replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  const hash = url.indexOf('#');
  const withoutHash = hash === -1 ? url : url.slice(0, hash);
  const q = withoutHash.indexOf('?');
  const path = q === -1 ? withoutHash : withoutHash.slice(0, q);
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    if (segments[i] !== '' && SECRET_AFTER_SEGMENT.has(decodedOr(segments[i - 1]).toLowerCase())) segments[i] = REDACTED;
  }
  let out = segments.join('/');
  if (q !== -1) {
    const pairs = withoutHash.slice(q + 1).split('&').map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && SECRET_PARAM_NAME.test(decodedOr(name)) ? `${name}=${REDACTED}` : pair;
    });
    out += `?${pairs.join('&')}`;
  }
  // A fragment never reaches a server in a request line; if one does, it is dropped rather than logged.
  return out;
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
