import type http from 'node:http';
import type { Logger } from 'pino';
import { mountAheadOfApplication } from '../common/ahead-of-application.js';
import { errorBody, toApiError } from '../common/error.filter.js';
import { ApiError, ErrorCode, httpStatusOf } from '../common/errors.js';
import { assignRequestId } from '../common/request-id.js';
import { BASELINE_SECURITY_HEADERS } from '../common/security-headers.js';
import type { WebhookIntakeService } from './webhook-intake.service.js';

/** Where the receiver answers: `${PUBLIC_URL}/webhooks/neon-auth/{integration_id}`, registered with the provider on enable. */
export const SYNC_WEBHOOK_PATH = '/webhooks/neon-auth';

const PREFIX = `${SYNC_WEBHOOK_PATH}/`;
const ONE_SEGMENT = /^([^/]+)\/?$/;

/**
 * The sync engine's webhook receiver: the provider's user events for one integration
 * (`POST /webhooks/neon-auth/{integration_id}`). Public: the svix signature with the integration's own
 * secret is the authentication (5-minute timestamp tolerance, as the svix library). Unknown integration ->
 * 404; missing/forged signature, tampered body, timestamp outside the tolerance -> 401; a signed body that
 * is not a `{type, data}` event we can apply -> 400; a body over BODY_LIMIT -> 400 PAYLOAD_TOO_LARGE; a
 * compressed body -> 400. Nothing is stored in those cases; the answer is Neon's error body with the
 * request id (X-Request-ID honoured and echoed, as on every route). Every answer carries the baseline
 * security headers (nosniff, no framing) that the application's other responses get from helmet.
 *
 * 204 only after the event is durable (WebhookIntakeService: `sync_inbox`, unique per integration and svix
 * id, so a redelivery is stored once and answered 204 again); the applier is woken right after.
 *
 * Served on the HTTP server ahead of Express and the API's pipeline (no router, middleware, request log,
 * HTTP metrics, guard or pipes): it is the one route every provider event goes through, and a delivery's
 * cost is what bounds ingestion. The sync metrics count what it takes in; refusals and failures are
 * logged here. Any other request (another method or path) goes to the application as before.
 */
export function mountWebhookReceiver(server: http.Server, intake: WebhookIntakeService, logger: Logger, bodyLimitBytes: number): void {
  mountAheadOfApplication(server, (req, res) => {
    const integrationId = req.method === 'POST' ? integrationIdOf(req.url) : undefined;
    if (integrationId === undefined) return false;
    receive(req, res, integrationId, intake, logger, bodyLimitBytes);
    return true;
  });
}

/** The path's integration id when `url` is `/webhooks/neon-auth/{one segment}` (query ignored). */
function integrationIdOf(url: string | undefined): string | undefined {
  if (!url?.startsWith(PREFIX)) return undefined;
  const end = url.indexOf('?');
  const match = ONE_SEGMENT.exec(url.slice(PREFIX.length, end === -1 ? undefined : end));
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

function receive(req: http.IncomingMessage, res: http.ServerResponse, integrationId: string, intake: WebhookIntakeService, logger: Logger, limit: number): void {
  const requestId = assignRequestId(req.headers['x-request-id'], res);
  const fail = (err: unknown): void => {
    const error = toApiError(err);
    const status = httpStatusOf(error.code);
    const entry = { requestId, integrationId, status, code: error.code };
    if (status >= 500) logger.error({ ...entry, err }, 'sync webhook failed');
    else logger.warn({ ...entry, reason: error.message }, 'sync webhook refused');
    if (res.headersSent) return;
    const body = JSON.stringify(errorBody(requestId, error));
    res.writeHead(status, { ...BASELINE_SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const tooLarge = (): ApiError => new ApiError(ErrorCode.PayloadTooLarge, `request body is too large: the limit is ${limit} bytes`);
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    req.resume();
    fail(ApiError.validation(`content-encoding ${encoding} is not accepted: send the signed JSON as is`));
    return;
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    fail(tooLarge());
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > limit) {
      refused = true;
      chunks.length = 0;
      fail(tooLarge());
      return;
    }
    chunks.push(chunk);
  });
  req.on('error', (err) => {
    if (!refused) logger.debug({ err, requestId }, 'sync webhook: the request broke off');
    refused = true;
  });
  req.on('end', () => {
    if (refused) return;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    intake.ingest(integrationId, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size), headers).then(() => {
      res.writeHead(204, BASELINE_SECURITY_HEADERS);
      res.end();
    }, fail);
  });
}
