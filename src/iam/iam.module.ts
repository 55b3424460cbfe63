import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { RateLimitModule } from '../common/rate-limit.js';
import { AccessService } from './access.service.js';
import { AccountsService } from './accounts.service.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';
import { AuthenticationService } from './authentication.service.js';
import { BearerStrategy } from './bearer.strategy.js';
import { BootstrapService } from './bootstrap.service.js';
import { InvitationsController } from './invitations.controller.js';
import { InvitationsService } from './invitations.service.js';
import { MembersService } from './members.service.js';
import { OrganizationsController } from './organizations.controller.js';
import { OrganizationsService } from './organizations.service.js';
import { CurrentUserController } from './current-user.controller.js';
import { CurrentUserService } from './current-user.service.js';

@Module({
  imports: [PassportModule.register({ session: false }), RateLimitModule],
  controllers: [CurrentUserController, ApiKeysController, OrganizationsController, InvitationsController, AdminController],
  providers: [
    AccessService,
    AccountsService,
    AdminService,
    ApiKeysService,
    AuthenticationService,
    BearerStrategy,
    BootstrapService,
    InvitationsService,
    MembersService,
    OrganizationsService,
    CurrentUserService,
  ],
  exports: [AccessService, AccountsService, ApiKeysService, BootstrapService, OrganizationsService],
})
export class IamModule {}
