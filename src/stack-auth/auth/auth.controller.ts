import { Body, Delete, Headers, HttpCode, Ip, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiError } from '../../common/errors.js';
import { KnownErrors } from '../http/known-errors.js';
import { StackAccess, StackCaller, type StackAuth } from '../http/stack-auth.guard.js';
import { StackController } from '../http/stack-controller.decorator.js';
import { PasswordSignInDto, PasswordSignUpDto } from './dto/password-auth.dto.js';
import { OAuthTokenService } from './oauth-token.service.js';
import { PasswordAuthService } from './password-auth.service.js';
import { SessionsService } from './sessions.service.js';

/** The client authentication flows of Stack Auth's SDK: password sign-up/in, token refresh, sign-out. */
@StackController('auth')
export class StackAuthController {
  constructor(
    private readonly passwords: PasswordAuthService,
    private readonly sessions: SessionsService,
    private readonly oauthTokens: OAuthTokenService,
  ) {}

  @Post('password/sign-up')
  @HttpCode(200)
  @StackAccess('client', 'server', 'admin')
  signUp(@StackCaller() auth: StackAuth, @Body() body: PasswordSignUpDto, @Ip() ip: string | undefined) {
    return this.passwords.signUp(auth.project, body, { ip, accessType: auth.type });
  }

  @Post('password/sign-in')
  @HttpCode(200)
  @StackAccess('client', 'server', 'admin')
  signIn(@StackCaller() auth: StackAuth, @Body() body: PasswordSignInDto, @Ip() ip: string | undefined) {
    return this.passwords.signIn(auth.project, body, { ip, accessType: auth.type });
  }

  /** The OAuth refresh grant (form-encoded, no x-stack headers): the client authenticates in the body. */
  @Post('oauth/token')
  @HttpCode(200)
  async token(@Body() body: Record<string, unknown>, @Res({ passthrough: true }) res: Response) {
    const result = await this.oauthTokens.grant(body ?? {});
    if (result.ok) return result.body;
    res.status(result.error.status);
    return result.error.body;
  }

  @Post('sessions/current/refresh')
  @HttpCode(200)
  @StackAccess('client', 'server', 'admin')
  async refresh(@StackCaller() auth: StackAuth, @Headers('x-stack-refresh-token') refreshToken: string | undefined) {
    if (!refreshToken) {
      throw ApiError.validation('invalid request: [headers.x-stack-refresh-token] must be defined'); // SCHEMA_ERROR
    }
    return { access_token: await this.sessions.refreshAccessToken(auth.project.id, refreshToken) };
  }

  /** Sign-out: ends the session named by the access token's `refresh_token_id`. */
  @Delete('sessions/current')
  @StackAccess('client', 'server', 'admin')
  async signOut(@StackCaller() auth: StackAuth) {
    if (!auth.token?.refresh_token_id) throw KnownErrors.accessTokenExpired();
    await this.sessions.revoke(auth.project.id, auth.token.refresh_token_id);
    return { success: true };
  }
}
