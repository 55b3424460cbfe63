import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { PROJECT_ID_PARAM } from '../../common/request-params.js';
import { NeonIdPipe, UuidPipe } from '../../common/validation.js';
import { Caller } from '../../iam/caller.decorator.js';
import { Access, Policy } from '../../iam/policy.js';
import type { AccessContext } from '../../iam/principal.js';
import { ListOperationsQueryDto, OperationResponseDto, OperationsResponseDto } from '../dto/operation.dto.js';
import { toOperationDto } from '../projects.mappers.js';
import { OperationsService } from './operations.service.js';

@ApiTags('Operation')
@Controller('api/v2/projects/:project_id/operations')
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  @Get()
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: "List the project's operations, newest first" })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: OperationsResponseDto })
  @ApiErrors(400, 401, 404)
  async listProjectOperations(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Query() query: ListOperationsQueryDto,
  ): Promise<OperationsResponseDto> {
    const page = await this.operations.list(caller.project!.id, query);
    return { operations: page.operations.map((op) => toOperationDto(op)), ...(page.cursor ? { pagination: { cursor: page.cursor } } : {}) };
  }

  @Get(':operation_id')
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: 'Get an operation' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam({ name: 'operation_id', format: 'uuid' })
  @ApiOkResponse({ type: OperationResponseDto })
  @ApiErrors(400, 401, 404)
  async getProjectOperation(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('operation_id', UuidPipe) operationId: string,
  ): Promise<OperationResponseDto> {
    return { operation: toOperationDto(await this.operations.get(caller.project!.id, operationId)) };
  }
}
