import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DestinationStream } from 'pino';
import { createApp } from '../../src/app.factory.js';
import { createLogger } from '../../src/common/logger.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { freePort } from './server-process.js';
import { createTestDatabase, dropTestDatabase, testAdminUrl } from './test-db.js';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  /** e.g. http://127.0.0.1:41234/api/v2 */
  apiUrl: string;
  /** Personal key of the bootstrap platform admin. */
  adminKey: string;
  /** Name of this file's control-plane database. */
  database: string;
  close(): Promise<void>;
}

/**
 * Note: passport keeps strategies in a process-wide registry, so when one test file boots two apps, the
 * second app's bearer strategy serves both. Boot one app per file (reliability tests use child processes).
 *
 * The real application on real HTTP (127.0.0.1, random port) over its own control-plane database,
 * cloned from the migrated template. Branch databases live on the same test server. `logDestination` receives the
 * log lines (with LOG_LEVEL in `env`) for specs that check what is logged.
 */
export async function startTestApp(env: Record<string, string> = {}, options: { logDestination?: DestinationStream } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-test-data-'));
  const adminKey = generateApiKeySecret();
  // The port is chosen before the app is built so that PUBLIC_URL (issuer and links) names it.
  const port = await freePort();
  const config = loadConfig({
    DATABASE_URL: db.url,
    COMPUTE_DATABASE_URL: testAdminUrl(),
    DATA_DIR: dataDir,
    BOOTSTRAP_API_KEY: adminKey,
    BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_POOL_SIZE: '5',
    ...env,
  });
  const logger = createLogger(config.logLevel, options.logDestination);
  const app = await createApp(config, logger);
  await app.listen(port, '127.0.0.1');
  const baseUrl = config.publicUrl;
  return {
    app,
    config,
    baseUrl,
    apiUrl: `${baseUrl}/api/v2`,
    adminKey,
    database: db.name,
    async close() {
      await app.close();
      await dropTestDatabase(db.name);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
