// What every scenario gets: the run's configuration, servers and probes.
import { randomBytes } from 'node:crypto';
import type { BenchConfig } from './config.js';
import { CpuMeter, SELF, type CpuGroups } from './cpu.js';
import type { HttpTarget } from './load.js';
import type { BenchPostgres, UsersSyncProbe } from './pg.js';
import type { AuthBranch, Deliveries, Product } from './product.js';
import type { ServerProcess } from './processes.js';

export interface BaselineServer {
  server: ServerProcess;
  http: HttpTarget;
  /** Superuser URL of its database (baseline a only). */
  url?: string;
  probe?: UsersSyncProbe;
}

export interface BenchContext {
  config: BenchConfig;
  pg: BenchPostgres;
  product: Product;
  branch: AuthBranch;
  /** Signed with the integration's secret; the naive baseline is given the same secret, so both accept them. */
  deliveries: Deliveries;
  /** users_sync of the product's branch database. */
  productUsers: UsersSyncProbe;
  naive: BaselineServer & { url: string; probe: UsersSyncProbe };
  bare: BaselineServer;
  /** Baseline (d): the bare route on node:http alone (the receiver's server, without Express). */
  bareHttp: BaselineServer;
  /** Unique per run, part of every name and email the bench makes. */
  nonce: string;
  /** Users the bench created in the embedded provider so far (what a full resync must bring back). */
  providerUsers: number;
  /** A user the provider's API created: the template of every event body and of SQL-seeded users. */
  templateUserId: string;
  /** Provider users the lag scenario updates, by rate (seeded before the resync, so it brings them in). */
  lagUsers: Map<number, string[]>;
  /** The bench PostgreSQL's postmaster (root of the process tree counted as PostgreSQL in CPU figures). */
  postmasterPid: number | undefined;
  /** The product's METRICS_TOKEN (its /metrics gives the V8 heap). */
  metricsToken: string;
}

/** The process groups of the CPU figures: the product, PostgreSQL, the bench process (load generator), the baselines. */
export function cpuGroups(ctx: BenchContext): CpuGroups {
  return {
    product: ctx.product.server.pid,
    worker: ctx.product.worker?.pid,
    postgres: ctx.postmasterPid,
    bench: SELF,
    naive: ctx.naive.server.pid,
    bare: ctx.bare.server.pid,
  };
}

/** A CPU meter over the bench's process groups, started now. */
export function cpuMeter(ctx: BenchContext): CpuMeter {
  return CpuMeter.start(cpuGroups(ctx));
}

export function newNonce(): string {
  return randomBytes(4).toString('hex');
}

export const NAIVE_PATH = '/webhook';
export const BARE_PATH = '/bare';
