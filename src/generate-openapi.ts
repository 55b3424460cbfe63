import fs from 'node:fs';
import path from 'node:path';
import { createApp } from './app.factory.js';
import { loadConfig } from './config/config.js';
import { createLogger } from './common/logger.js';
import { buildOpenApiDocument } from './openapi/swagger.js';

/**
 * `npm run openapi`: writes openapi/openapi.json from the controllers, without a database.
 * Configuration is fixed so that the output does not depend on the environment.
 */
export async function renderOpenApiJson(): Promise<string> {
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const app = await createApp(config, createLogger('silent'), { preview: true });
  try {
    return `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname;
if (isMain) {
  const out = path.resolve('openapi/openapi.json');
  const json = await renderOpenApiJson();
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, json);
  process.stdout.write(`wrote ${out}\n`);
}
