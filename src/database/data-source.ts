import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { CONTROL_PLANE_ENTITIES } from './entities.js';

export function controlPlaneDataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: CONTROL_PLANE_ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsRun: false,
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    poolSize,
    extra: { connectionTimeoutMillis: 10000, application_name: 'neon-auth-control-plane' },
    logging: false,
  };
}

export function createControlPlaneDataSource(url: string, poolSize?: number): DataSource {
  return new DataSource(controlPlaneDataSourceOptions(url, poolSize));
}
