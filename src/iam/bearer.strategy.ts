import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-http-bearer';
import { AuthenticationService } from './authentication.service.js';
import type { Principal } from './principal.js';

/**
 * Reads `Authorization: Bearer <key>`. neonctl also sends the key as `zenith` and `keycloak_token`
 * cookies; those are tolerated and ignored, the header is authoritative.
 */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly authentication: AuthenticationService) {
    super({ passReqToCallback: true });
  }

  async validate(req: Request, token: string): Promise<Principal | false> {
    const principal = await this.authentication.authenticate(token, req.ip ?? '');
    return principal ?? false;
  }
}
