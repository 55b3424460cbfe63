import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { AuditModule } from './audit/audit.module.js';
import { CrashPoints } from './common/crash-points.js';
import { ErrorFilter } from './common/error.filter.js';
import { LOGGER } from './common/logger.js';
import { OutboundHttp } from './common/outbound-http.js';
import { ClusterLocks } from './common/cluster-locks.js';
import { SecretsService } from './common/secrets.js';
import { APP_CONFIG, type AppConfig } from './config/config.js';
import { controlPlaneDataSourceOptions } from './database/data-source.js';
import { AccessGuard } from './iam/access.guard.js';
import { IamModule } from './iam/iam.module.js';
import { NeonAuthModule } from './neon-auth/neon-auth.module.js';
import { OpsModule } from './ops/ops.module.js';
import { ProjectsModule } from './projects/projects.module.js';
import { ProvidersModule } from './providers/providers.module.js';
import { StackAuthModule } from './stack-auth/stack-auth.module.js';
import { SyncDeadLettersModule } from './sync/dead-letters/dead-letters.module.js';
import { SyncModule } from './sync/sync.module.js';
import { ConsoleModule } from './console/console.module.js';

/** Configuration, logger, secrets encryption, the guarded outbound HTTP client and the test crash points, available to every module. */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        SecretsService,
        CrashPoints,
        { provide: OutboundHttp, useFactory: () => OutboundHttp.forConfig(config) },
        ClusterLocks,
      ],
      exports: [APP_CONFIG, LOGGER, SecretsService, OutboundHttp, CrashPoints, ClusterLocks],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, logger),
        TypeOrmModule.forRootAsync({
          useFactory: () => controlPlaneDataSourceOptions(config.databaseUrl ?? '', config.databasePoolSize),
        }),
        IamModule,
        ProjectsModule,
        NeonAuthModule,
        StackAuthModule,
        ProvidersModule,
        OpsModule,
        SyncModule,
        SyncDeadLettersModule,
        AuditModule,
        ConsoleModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: AccessGuard },
        { provide: APP_FILTER, useClass: ErrorFilter },
      ],
    };
  }
}
