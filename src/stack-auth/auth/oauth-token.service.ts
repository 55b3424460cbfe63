import { Injectable } from '@nestjs/common';
import { KnownErrors } from '../http/known-errors.js';
import { StackProjectsService } from '../projects/stack-projects.service.js';
import { SessionsService } from './sessions.service.js';
import { TokensService } from './tokens.service.js';

/** The SDK's `client_secret` when it was given no publishable client key. */
export const PUBLIC_CLIENT_SENTINEL = '__stack_public_client__';

/** The bearer response of the token endpoint (RFC 6749 §5.1), as Stack Auth's oauth2-server sends it. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: 'legacy';
}

/** An RFC 6749 §5.2 error response (status + `{error, error_description}`). */
export interface OAuthErrorResponse {
  status: 400;
  body: { error: 'invalid_request' | 'unsupported_grant_type'; error_description: string };
}

export type TokenGrantResult = { ok: true; body: TokenResponse } | { ok: false; error: OAuthErrorResponse };

const oauthError = (error: OAuthErrorResponse['body']['error'], description: string): TokenGrantResult => ({
  ok: false,
  error: { status: 400, body: { error, error_description: description } },
});

/** A form field: one string, or nothing (a repeated field is not a value). */
function field(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * `POST /auth/oauth/token`, the refresh grant the SDK uses (through oauth4webapi) to get new access tokens.
 * The client is the project (`client_id` = project id or `<projectId>#<branchId>`), its secret a
 * publishable client key. Refresh tokens are not rotated.
 */
@Injectable()
export class OAuthTokenService {
  constructor(
    private readonly projects: StackProjectsService,
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
  ) {}

  async grant(body: Record<string, unknown>): Promise<TokenGrantResult> {
    const grantType = field(body, 'grant_type');
    if (grantType === undefined) return oauthError('invalid_request', 'Missing parameter: `grant_type`');
    if (grantType !== 'refresh_token') return oauthError('unsupported_grant_type', 'Unsupported grant type: `grant_type` is invalid');

    const clientId = field(body, 'client_id');
    const clientSecret = field(body, 'client_secret');
    const [projectId, branchId = 'main', ...rest] = (clientId ?? '').split('#');
    const project = clientId !== undefined && rest.length === 0 && branchId === 'main' ? await this.projects.find(projectId) : null;
    if (!project) throw KnownErrors.invalidOAuthClientIdOrSecret(clientId);
    // Projects require publishable client keys, so the SDK's "no key" sentinel is no key at all.
    if (clientSecret === undefined || clientSecret === PUBLIC_CLIENT_SENTINEL) throw KnownErrors.publishableClientKeyRequired(project.id);
    if (!(await this.projects.isValidKey(project.id, 'publishable_client_key', clientSecret))) throw KnownErrors.invalidOAuthClientIdOrSecret(clientId);

    const refreshToken = field(body, 'refresh_token');
    if (refreshToken === undefined) return oauthError('invalid_request', 'Missing parameter: `refresh_token`');
    const accessToken = await this.sessions.refreshAccessToken(project.id, refreshToken);
    return { ok: true, body: { access_token: accessToken, token_type: 'Bearer', expires_in: this.tokens.accessTokenTtlSeconds, scope: 'legacy' } };
  }
}
