import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, Raw, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { StackSessionEntity } from '../entities/stack-session.entity.js';
import { StackUserEntity } from '../entities/stack-user.entity.js';
import { KnownErrors } from '../http/known-errors.js';
import { hashSecret, secureRandomString } from '../projects/stack-keys.js';
import { stackAuthSettings, type StackAuthSettings } from '../stack-auth.config.js';
import { TokensService } from './tokens.service.js';
import { UserActivityService } from './user-activity.service.js';
import { isUuid } from '../../common/validation.js';

/** What sign-up and sign-in answer: Stack Auth's `{access_token, refresh_token, user_id}`. */
export interface AuthTokens {
  access_token: string;
  refresh_token: string;
  user_id: string;
}


/**
 * Sign-in sessions. A session is a refresh token (45 Crockford characters, shown once, stored only as its
 * SHA-256) with a fixed lifetime of 365 days; the access tokens minted from it carry the session id as
 * `refresh_token_id`. Refresh tokens are not rotated, as in Stack Auth.
 */
@Injectable()
export class SessionsService {
  private readonly settings: StackAuthSettings;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly tokens: TokensService,
    private readonly activity: UserActivityService,
  ) {
    this.settings = stackAuthSettings(config);
  }

  /** Opens a session for `user` (in the caller's transaction); returns the row and the plaintext refresh token. */
  async createInTx(tx: EntityManager, user: StackUserEntity): Promise<{ session: StackSessionEntity; refreshToken: string }> {
    const refreshToken = secureRandomString();
    const repo = tx.getRepository(StackSessionEntity);
    const session = await repo.save(
      repo.create({
        projectId: user.projectId,
        userId: user.id,
        refreshTokenHash: hashSecret(refreshToken),
        expiresAt: new Date(Date.now() + this.settings.refreshTokenTtlSeconds * 1000),
        revokedAt: null,
      }),
    );
    return { session, refreshToken };
  }

  /** A new session for `user` and the first access token of it; the user's activity is recorded. */
  async signIn(user: StackUserEntity): Promise<AuthTokens> {
    const { session, refreshToken } = await this.db.transaction((tx) => this.createInTx(tx, user));
    await this.activity.touch(user);
    return this.tokensOf(user, session, refreshToken);
  }

  /** Tokens of a session just opened (sign-up opens it in the user's creation transaction). */
  async tokensOf(user: StackUserEntity, session: StackSessionEntity, refreshToken: string): Promise<AuthTokens> {
    return { access_token: await this.tokens.issueAccessToken(user, session.id), refresh_token: refreshToken, user_id: user.id };
  }

  /**
   * A fresh access token for the live session of `refreshToken` in the project. Unknown, expired and revoked
   * tokens, and tokens of deleted users (their sessions go with them), are REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED.
   * Expiry is judged on the database's clock, as the pruner judges it. The user's activity is recorded.
   */
  async refreshAccessToken(projectId: string, refreshToken: string): Promise<string> {
    const session = await this.db.getRepository(StackSessionEntity).findOne({
      where: { projectId, refreshTokenHash: hashSecret(refreshToken), revokedAt: IsNull(), expiresAt: Raw((at) => `${at} > clock_timestamp()`) },
    });
    const user = session ? await this.db.getRepository(StackUserEntity).findOneBy({ id: session.userId, projectId }) : null;
    if (!session || !user) throw KnownErrors.refreshTokenNotFoundOrExpired();
    await this.activity.touch(user);
    return this.tokens.issueAccessToken(user, session.id);
  }

  /** Ends the session `sessionId` of the project (sign-out): its refresh token stops working at once. */
  async revoke(projectId: string, sessionId: string): Promise<void> {
    if (!isUuid(sessionId)) throw KnownErrors.refreshTokenNotFoundOrExpired();
    const result = await this.db.getRepository(StackSessionEntity).delete({ id: sessionId.toLowerCase(), projectId, revokedAt: IsNull() });
    if (!result.affected) throw KnownErrors.refreshTokenNotFoundOrExpired();
  }
}
