import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { inTransaction } from './pg-transaction.js';
import { KeyedSerializer } from './keyed-serializer.js';
import { LOGGER } from './logger.js';

/** Connections of the lock pool: locks of different keys held at once by one process (more wait in line). */
const LOCK_POOL_SIZE = 4;

/**
 * Mutual exclusion across the replicas for read-modify-writes a store cannot make atomic itself (the settings of a
 * Stack project: a GET, then a PATCH): a transaction-level PostgreSQL advisory lock on (namespace, hash of the key)
 * in the control-plane database, held while `fn` runs.
 *
 * The lock is taken on a pool of its own, and tasks of one key queue in this process before they ask for it: a
 * task waiting for the lock then holds no connection the holder may need (the embedded provider answers the holder's
 * HTTP calls from the API's pool, in the same process), and one hot key takes one connection, not one per request.
 */
@Injectable()
export class ClusterLocks implements OnApplicationShutdown {
  private pool?: pg.Pool;
  private readonly local = new KeyedSerializer();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async withLock<T>(namespace: number, key: string, fn: () => Promise<T>): Promise<T> {
    return this.local.run(`${namespace}\u0000${key}`, () =>
      inTransaction(this.connection(), async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [namespace, key]);
        return fn();
      }),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  private connection(): pg.Pool {
    if (!this.pool) {
      this.pool = new pg.Pool({ connectionString: this.config.databaseUrl, max: LOCK_POOL_SIZE, connectionTimeoutMillis: 10_000, application_name: 'neon-auth-control-plane-locks' });
      this.pool.on('error', (err) => this.logger.warn({ err }, 'cluster locks: idle database connection failed'));
    }
    return this.pool;
  }
}
