import { CanActivate, ExecutionContext, Inject, Injectable, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { SecretsService } from '../../common/secrets.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { StackStatusError } from '../http/known-errors.js';
import { integrationClientCredentials } from '../stack-auth.config.js';

/**
 * Stack Auth answers a bad integration client with a schema error; the embedded provider answers 401
 * (plain text, as Stack's StatusError) with this message, which is Stack's, and a Basic challenge.
 */
export const INVALID_INTEGRATION_CLIENT_MESSAGE = 'Invalid client_id:client_secret values; did you use the correct values for the integration?';

/** `Basic base64(id:secret)` -> [id, secret], or null when the header is not a well-formed Basic credential. */
export function decodeBasicAuthorization(header: string | undefined): [string, string] | null {
  if (!header) return null;
  const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(header.trim());
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/** Equality of two strings in time independent of where they differ (digests have equal lengths). */
function constantTimeEquals(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/**
 * Authenticates Neon's integration calls by HTTP Basic client credentials (the configured integration
 * client, see integrationClientCredentials). Runs after StackAuthGuard when a route needs both.
 */
@Injectable()
export class IntegrationClientGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly secrets: SecretsService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (this.isValid(req.header('authorization'))) return true;
    context.switchToHttp().getResponse<Response>().setHeader('www-authenticate', 'Basic realm="stack-auth integrations", charset="UTF-8"');
    throw new StackStatusError(401, INVALID_INTEGRATION_CLIENT_MESSAGE);
  }

  isValid(header: string | undefined): boolean {
    const decoded = decodeBasicAuthorization(header);
    if (!decoded) return false;
    const expected = integrationClientCredentials(this.config, this.secrets);
    // Both compared, always: no early exit on the id.
    const idOk = constantTimeEquals(decoded[0], expected.clientId);
    const secretOk = constantTimeEquals(decoded[1], expected.clientSecret);
    return idOk && secretOk;
  }
}

/** The route needs Neon's integration client credentials (HTTP Basic). */
export const IntegrationClientAuth = () => UseGuards(IntegrationClientGuard);
