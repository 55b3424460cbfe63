import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { errors as joseErrors, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, decodeProtectedHeader, type JWK, type JWTPayload } from 'jose';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { SecretsService } from '../../common/secrets.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { StackSigningKeyEntity } from '../entities/stack-signing-key.entity.js';
import type { StackUserEntity } from '../entities/stack-user.entity.js';
import { KnownErrors } from '../http/known-errors.js';
import { ACCESS_TOKEN_KINDS, stackAuthSettings, stackTokenAudience, stackTokenIssuer, type AccessTokenKind, type StackAuthSettings } from '../stack-auth.config.js';
import { restrictedReason } from '../users/user-shapes.js';

/** The claims of a Stack Auth access token (ES256 JWT). */
export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  project_id: string;
  branch_id: 'main';
  refresh_token_id: string;
  role: 'authenticated';
  name: string | null;
  email: string | null;
  email_verified: boolean;
  selected_team_id: string | null;
  signed_up_at: number;
  is_anonymous: boolean;
  is_restricted: boolean;
  restricted_reason: { type: string } | null;
  requires_totp_mfa: boolean;
}

/**
 * Access tokens: ES256 JWTs with a `kid`, signed by a per-project P-256 key whose private half is
 * stored encrypted (bound to its kid). Claims, issuer and audience follow Stack Auth, so its SDK
 * accepts the tokens and `jose` verifies them against the project's JWKS.
 */
@Injectable()
export class TokensService {
  private readonly settings: StackAuthSettings;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly secrets: SecretsService,
  ) {
    this.settings = stackAuthSettings(config);
  }

  get accessTokenTtlSeconds(): number {
    return this.settings.accessTokenTtlSeconds;
  }

  /** Creates a project's first signing key (inside the project's creation transaction). */
  async createSigningKey(tx: EntityManager, projectId: string): Promise<StackSigningKeyEntity> {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomBytes(9).toString('base64url'); // 12 characters, as Stack Auth's
    const publicJwk = await exportJWK(publicKey);
    const privateJwk = await exportJWK(privateKey);
    const repo = tx.getRepository(StackSigningKeyEntity);
    return repo.save(
      repo.create({
        kid,
        projectId,
        publicJwk: { kty: publicJwk.kty!, crv: publicJwk.crv!, x: publicJwk.x!, y: publicJwk.y! },
        privateJwkEncrypted: this.secrets.encrypt(JSON.stringify(privateJwk), `stack-auth signing key ${kid}`),
        retiredAt: null,
      }),
    );
  }

  /** The project's JWKS: every key that may have signed a live token. */
  async jwks(projectId: string): Promise<{ keys: JWK[] }> {
    const keys = await this.db.getRepository(StackSigningKeyEntity).find({ where: { projectId }, order: { createdAt: 'ASC' } });
    return { keys: keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: 'ES256', use: 'sig' })) };
  }

  async issueAccessToken(user: StackUserEntity, sessionId: string): Promise<string> {
    const key = await this.db.getRepository(StackSigningKeyEntity).findOne({
      where: { projectId: user.projectId, retiredAt: IsNull() },
      order: { createdAt: 'DESC' },
    });
    if (!key) throw new Error(`project ${user.projectId} has no signing key`);
    const privateJwk = JSON.parse(this.secrets.decrypt(key.privateJwkEncrypted, `stack-auth signing key ${key.kid}`)) as JWK;
    const privateKey = await importJWK(privateJwk, 'ES256');
    const reason = restrictedReason(user);
    // Anonymous and restricted users get Stack Auth's separate issuer/audience (see AccessTokenKind).
    const kind: AccessTokenKind = user.isAnonymous ? 'anonymous' : reason !== null ? 'restricted' : 'regular';
    const claims: Omit<AccessTokenClaims, 'sub'> = {
      project_id: user.projectId,
      branch_id: 'main',
      refresh_token_id: sessionId,
      role: 'authenticated',
      name: user.displayName,
      email: user.primaryEmail,
      email_verified: user.primaryEmailVerified,
      selected_team_id: null,
      signed_up_at: Math.floor(user.signedUpAt.getTime() / 1000),
      is_anonymous: user.isAnonymous,
      is_restricted: reason !== null,
      restricted_reason: reason,
      requires_totp_mfa: user.totpSecretEncrypted !== null,
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setSubject(user.id)
      .setIssuer(stackTokenIssuer(this.settings, user.projectId, kind))
      .setAudience(stackTokenAudience(user.projectId, kind))
      .setIssuedAt()
      .setExpirationTime(`${this.settings.accessTokenTtlSeconds}s`)
      .sign(privateKey);
  }

  /**
   * Verifies an access token for `projectId`: signature (by kid), issuer, audience and expiry.
   * Failures are Stack Auth's UNPARSABLE_ACCESS_TOKEN / ACCESS_TOKEN_EXPIRED / INVALID_PROJECT_FOR_ACCESS_TOKEN.
   */
  async verifyAccessToken(projectId: string, token: string): Promise<AccessTokenClaims> {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw KnownErrors.unparsableAccessToken();
    }
    const key = typeof kid === 'string' && kid.length <= 64 ? await this.db.getRepository(StackSigningKeyEntity).findOneBy({ kid }) : null;
    if (!key) throw KnownErrors.unparsableAccessToken();
    // Verified as a token of the key's own project first, so only a genuine token of another project is
    // INVALID_PROJECT_FOR_ACCESS_TOKEN (a forged one stays UNPARSABLE_ACCESS_TOKEN), as Stack Auth decides.
    let payload: JWTPayload;
    try {
      const publicKey = await importJWK({ ...key.publicJwk, alg: 'ES256' }, 'ES256');
      ({ payload } = await jwtVerify(token, publicKey, {
        algorithms: ['ES256'],
        issuer: ACCESS_TOKEN_KINDS.map((k) => stackTokenIssuer(this.settings, key.projectId, k)),
        audience: ACCESS_TOKEN_KINDS.map((k) => stackTokenAudience(key.projectId, k)),
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
      // Issuer, audience and the anonymous/restricted claims must all name the same kind of token.
      const kind = ACCESS_TOKEN_KINDS.find((k) => payload.aud === stackTokenAudience(key.projectId, k));
      const consistent =
        kind !== undefined &&
        payload.iss === stackTokenIssuer(this.settings, key.projectId, kind) &&
        payload.is_anonymous === (kind === 'anonymous') &&
        payload.is_restricted === (kind !== 'regular');
      if (!consistent) throw new Error('inconsistent access token kind');
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        const exp = (err.payload as JWTPayload).exp;
        throw KnownErrors.accessTokenExpired(exp ? new Date(exp * 1000) : undefined);
      }
      throw KnownErrors.unparsableAccessToken();
    }
    if (key.projectId !== projectId) throw KnownErrors.invalidProjectForAccessToken(projectId, key.projectId);
    if (typeof payload.sub !== 'string' || payload.project_id !== projectId) {
      throw KnownErrors.unparsableAccessToken();
    }
    return payload as AccessTokenClaims;
  }
}
