import { Audited } from '../common/audited.js';
import { Body, Controller, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EXTENSIONS_TAG } from '../openapi/swagger.js';
import { AdminService } from './admin.service.js';
import { AdminAccountCreateRequestDto, AdminAccountCreateResponseDto } from './dto/user.dto.js';
import { Access, Policy } from './policy.js';
import { ApiErrors } from '../common/api-errors.js';

@ApiTags(EXTENSIONS_TAG)
@Controller('api/v2/admin')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Post('accounts')
  @Audited({ action: 'account.create', target: 'account', details: ['email', 'name'] })
  @Access(Policy.PlatformAdmin)
  @ApiOperation({ summary: 'Create an account and its first personal API key (platform admins only; Extension)' })
  @ApiCreatedResponse({ type: AdminAccountCreateResponseDto })
  @ApiErrors(400, 401, 403, 409)
  createAccount(@Body() body: AdminAccountCreateRequestDto): Promise<AdminAccountCreateResponseDto> {
    return this.admin.createAccount(body);
  }
}
