import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { toApiError, writeError } from '../common/error.filter.js';
import { httpStatusOf } from '../common/errors.js';
import type { WebhookIntakeService } from './webhook-intake.service.js';

/** Where the receiver is mounted: `${PUBLIC_URL}/webhooks/neon-auth/{integration_id}`, registered with the provider on enable. */
export const SYNC_WEBHOOK_PATH = '/webhooks/neon-auth';

const ONE_SEGMENT = /^\/([^/]+)\/?$/;

/**
 * The sync engine's webhook receiver: the provider's user events for one integration
 * (`POST /webhooks/neon-auth/{integration_id}`). Public: the svix signature with the integration's own
 * secret is the authentication (5-minute timestamp tolerance, the svix library's). Unknown integration ->
 * 404; missing/forged signature, tampered body, timestamp outside the tolerance -> 401; a signed body that
 * is not a `{type, data}` event we can apply -> 400; an oversize body -> 400 PAYLOAD_TOO_LARGE. Nothing is
 * stored in those cases, and the answer is Neon's error body with the request id.
 *
 * 204 only after the event is durable (WebhookIntakeService: `sync_inbox`, unique per integration and svix
 * id, so a redelivery is stored once and answered 204 again); the applier is woken right after.
 *
 * It is served by Express ahead of the API's pipeline (request id only: no HTTP metrics, request log,
 * guard or pipes), because it is the one route every provider event goes through and a delivery's cost is
 * what bounds ingestion. The sync metrics count what it takes in; refusals and failures are logged here.
 */
export function webhookReceiver(intake: WebhookIntakeService, logger: Logger, bodyLimitBytes: number): RequestHandler[] {
  const raw = express.raw({ type: () => true, limit: bodyLimitBytes }); // the signature covers the exact bytes
  const receive = (req: Request, res: Response, next: NextFunction): void => {
    const match = ONE_SEGMENT.exec(req.path);
    if (req.method !== 'POST' || !match) return next();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    let integrationId: string;
    try {
      integrationId = decodeURIComponent(match[1]);
    } catch {
      integrationId = match[1];
    }
    intake.ingest(integrationId, req.body as unknown, headers).then(
      () => {
        res.status(204).end();
      },
      (err: unknown) => {
        const error = toApiError(err);
        const status = httpStatusOf(error.code);
        const entry = { requestId: req.requestId, integrationId, status, code: error.code };
        if (status >= 500) logger.error({ ...entry, err }, 'sync webhook failed');
        else logger.warn({ ...entry, reason: error.message }, 'sync webhook refused');
        writeError(req, res, error);
      },
    );
  };
  return [
    (req, res, next) => (req.method === 'POST' && ONE_SEGMENT.test(req.path) ? raw(req, res, next) : next()),
    receive,
  ];
}
