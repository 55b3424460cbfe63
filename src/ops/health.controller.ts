import { Controller, Get, Header } from '@nestjs/common';
import type { HealthCheckResult } from '@nestjs/terminus';
import { ApiExcludeController, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { GeneralErrorDto } from '../common/dto/general-error.dto.js';
import { Access, Policy } from '../iam/policy.js';
import { HealthService } from './health.service.js';

/** Probes for load balancers and orchestrators; outside /api/v2 and not part of the API document. */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @Access(Policy.Public)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Readiness: 200 when the control-plane database answers, else 503' })
  @ApiOkResponse({ description: 'Ready' })
  @ApiServiceUnavailableResponse({ type: GeneralErrorDto })
  getReadiness(): Promise<HealthCheckResult> {
    return this.health.readiness();
  }

  @Get('live')
  @Access(Policy.Public)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Liveness: 200 while the process serves HTTP (no database check)' })
  @ApiOkResponse({ description: 'Alive' })
  getLiveness(): Promise<HealthCheckResult> {
    return this.health.liveness();
  }
}
