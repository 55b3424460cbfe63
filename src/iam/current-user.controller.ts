import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OrganizationsResponseDto } from './dto/organization.dto.js';
import { AuthDetailsResponseDto, CurrentUserInfoResponseDto } from './dto/user.dto.js';
import { Caller } from './caller.decorator.js';
import { OrganizationsService } from './organizations.service.js';
import { Access, Policy } from './policy.js';
import type { AccessContext } from './principal.js';
import { CurrentUserService } from './current-user.service.js';
import { ApiErrors } from '../common/api-errors.js';

@ApiTags('Users')
@Controller('api/v2')
export class CurrentUserController {
  constructor(
    private readonly users: CurrentUserService,
    private readonly organizations: OrganizationsService,
  ) {}

  @Get('auth')
  @Access(Policy.Authenticated)
  @ApiOperation({ summary: 'Return auth details of the caller' })
  @ApiOkResponse({ type: AuthDetailsResponseDto })
  @ApiErrors(401)
  getAuthDetails(@Caller() caller: AccessContext): AuthDetailsResponseDto {
    return this.users.authDetails(caller.principal);
  }

  @Get('users/me')
  @Access(Policy.Authenticated)
  @ApiOperation({ summary: 'Return the current user (personal API keys only)' })
  @ApiOkResponse({ type: CurrentUserInfoResponseDto })
  @ApiErrors(401, 404)
  getCurrentUserInfo(@Caller() caller: AccessContext): Promise<CurrentUserInfoResponseDto> {
    return this.users.me(caller.principal);
  }

  @Get('users/me/organizations')
  @Access(Policy.Authenticated)
  @ApiOperation({ summary: "Return the caller's organizations (for organization and project keys: the key's organization)" })
  @ApiOkResponse({ type: OrganizationsResponseDto })
  @ApiErrors(401)
  getCurrentUserOrganizations(@Caller() caller: AccessContext): Promise<OrganizationsResponseDto> {
    return this.organizations.listForPrincipal(caller.principal);
  }
}
