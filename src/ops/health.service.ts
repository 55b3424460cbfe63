import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import type { Logger } from 'pino';
import { ApiError, ErrorCode } from '../common/errors.js';
import { LOGGER } from '../common/logger.js';

/** How long the database may take to answer `SELECT 1` before the instance is reported not ready. */
export const DATABASE_PING_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly typeorm: TypeOrmHealthIndicator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Liveness: the process is up and serving HTTP. Touches nothing else. */
  liveness(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** Readiness: the control-plane database answers. Failing checks become a 503 naming them. */
  async readiness(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.typeorm.pingCheck('database').withTimeout(DATABASE_PING_TIMEOUT_MS)]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as HealthCheckResult;
      const failing = Object.keys(result.error ?? {});
      // The reasons go to the log only: this route is public, and driver errors name hosts and databases.
      this.logger.warn({ checks: result.error }, 'readiness check failed');
      throw new ApiError(ErrorCode.ServiceUnavailable, `not ready: ${failing.join(', ') || 'a check'} is down`);
    }
  }
}
