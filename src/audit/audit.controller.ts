import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { NEON_ID_PARAM_SCHEMA, NeonIdPipe } from '../common/validation.js';
import { Access, Policy } from '../iam/policy.js';
import { EXTENSIONS_TAG } from '../openapi/swagger.js';
import { AuditService } from './audit.service.js';
import { AuditLogResponseDto, ListAuditLogQueryDto } from './dto/audit.dto.js';

@ApiTags(EXTENSIONS_TAG)
@Controller('api/v2/organizations')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get(':org_id/audit_log')
  @Access(Policy.OrgAdmin)
  @ApiOperation({
    summary: "List the organization's audit log (extension)",
    description:
      'Administrative actions in the organization, newest first, in cursor pages (pass `pagination.next` as `cursor`): ' +
      'enabling and disabling Neon Auth, SDK keys, ownership transfers, project settings, members, invitations, API keys, ' +
      'project permissions, and refused project or branch creations (quotas). Each record says who acted (key kind, key ' +
      'id, the account of a personal key), what, on what, when and from where. Append-only; no secret is ever recorded. ' +
      'Organization admins only. Not in Neon\'s API.',
  })
  @ApiParam({ name: 'org_id', description: 'The organization ID', schema: NEON_ID_PARAM_SCHEMA })
  @ApiOkResponse({ type: AuditLogResponseDto })
  @ApiErrors(400, 401, 403, 404)
  listOrganizationAuditLog(@Param('org_id', NeonIdPipe) orgId: string, @Query() query: ListAuditLogQueryDto): Promise<AuditLogResponseDto> {
    return this.audit.list(orgId, query);
  }
}
