import { Audited } from '../common/audited.js';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Int64IdPipe } from '../common/validation.js';
import { ApiKeysService } from './api-keys.service.js';
import { Caller } from './caller.decorator.js';
import { ApiKeyCreateRequestDto, ApiKeyCreateResponseDto, ApiKeyRevokeResponseDto, ApiKeysListResponseItemDto } from './dto/api-key.dto.js';
import { Access, Policy } from './policy.js';
import type { AccessContext, Principal } from './principal.js';
import { ApiErrors } from '../common/api-errors.js';

type Personal = Extract<Principal, { kind: 'personal' }>;

@ApiTags('API Key')
@Controller('api/v2/api_keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Get()
  @Access(Policy.PersonalKey)
  @ApiOperation({ summary: "List the caller's personal API keys" })
  @ApiOkResponse({ type: [ApiKeysListResponseItemDto] })
  @ApiErrors(401, 403)
  listApiKeys(@Caller() caller: AccessContext): Promise<ApiKeysListResponseItemDto[]> {
    return this.apiKeys.listPersonal(caller.principal as Personal);
  }

  @Post()
  @HttpCode(200)
  @Audited({ action: 'api_key.create', target: 'api_key', targetId: { response: 'id' }, details: ['key_name'] })
  @Access(Policy.PersonalKey)
  @ApiOperation({ summary: 'Create a personal API key (the secret is returned only here)' })
  @ApiOkResponse({ type: ApiKeyCreateResponseDto })
  @ApiErrors(400, 401, 403)
  createApiKey(@Caller() caller: AccessContext, @Body() body: ApiKeyCreateRequestDto): Promise<ApiKeyCreateResponseDto> {
    return this.apiKeys.createPersonal(caller.principal as Personal, body.key_name);
  }

  @Delete(':key_id')
  @Audited({ action: 'api_key.revoke', target: 'api_key', targetId: { param: 'key_id' } })
  @Access(Policy.PersonalKey)
  @ApiOperation({ summary: 'Revoke a personal API key; it stops working at once' })
  @ApiParam({ name: 'key_id', type: 'integer', format: 'int64' })
  @ApiOkResponse({ type: ApiKeyRevokeResponseDto })
  @ApiErrors(400, 401, 403, 404)
  revokeApiKey(@Caller() caller: AccessContext, @Param('key_id', Int64IdPipe) keyId: number): Promise<ApiKeyRevokeResponseDto> {
    return this.apiKeys.revokePersonal(caller.principal as Personal, keyId);
  }
}
