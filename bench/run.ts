// `npm run bench`: issue 5's benchmarks in one run (see bench/README.md).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { loadBenchConfig, type ScenarioName } from './config.js';
import { BARE_PATH, newNonce, type BenchContext } from './context.js';
import { HttpTarget } from './load.js';
import { BenchPostgres, UsersSyncProbe } from './pg.js';
import { BARE_ENTRY, BARE_HTTP_ENTRY, NAIVE_ENTRY, ServerProcess } from './processes.js';
import { Deliveries, Product } from './product.js';
import { cpuTable, soakLines, table, verdicts, writeJson, type Results } from './report.js';
import { applierScenario } from './scenarios/applier.js';
import { betterAuthScenario } from './scenarios/better-auth.js';
import { burstScenario } from './scenarios/burst.js';
import { eventLoopScenario } from './scenarios/event-loop.js';
import { lagScenarios, seedLagUsers } from './scenarios/lag.js';
import { providerCapacityScenario } from './scenarios/provider-capacity.js';
import { resyncScenario } from './scenarios/resync.js';
import { soakScenario } from './scenarios/soak.js';

const startedAt = new Date();
const t0 = Date.now();
const log = (s: string): void => {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}\n`);
};

/** Undo steps of the setup, run in reverse at the end or on Ctrl-C (no orphaned PostgreSQL or servers). */
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!().catch((err: Error) => log(`cleanup: ${err.message}`));
}
process.once('SIGINT', () => {
  log('interrupted: stopping the servers and PostgreSQL');
  void cleanUp().then(() => process.exit(130));
});

async function main(): Promise<number> {
  const config = loadBenchConfig();
  const loadBefore = os.loadavg();
  log(`config: ${JSON.stringify(config)}`);
  const results: Results = { errors: [] };
  const scenario = async <K extends ScenarioName>(name: K, fn: () => Promise<Results[K]>): Promise<void> => {
    if (!config.scenarios.includes(name)) return;
    try {
      results[name] = await fn();
    } catch (err) {
      log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
      results.errors.push({ scenario: name, error: (err as Error).message });
    }
  };
  try {
    log('starting embedded PostgreSQL');
    const pgServer = await BenchPostgres.start();
    cleanups.push(() => pgServer.stop());

    // First, with its own product process and nothing else running yet (it stops its product when done).
    await scenario('eventLoop', () => eventLoopScenario(pgServer, config, log));

    log('starting the product');
    // METRICS_TOKEN only opens /metrics (the product collects its metrics either way): the soak reads the V8 heap there.
    const metricsToken = randomBytes(24).toString('hex');
    const product = await Product.start(pgServer, { env: { METRICS_TOKEN: metricsToken }, syncWorker: config.syncWorker });
    cleanups.push(() => product.stop());
    const branch = await product.enableAuthBranch(pgServer);
    const templateUser = await product.api.json<Record<string, unknown> & { id: string }>(
      product.provider(branch, 'POST', '/users', { primary_email: `template-${newNonce()}@bench.example`, display_name: 'template' }),
    );
    const deliveries = new Deliveries(branch.webhookSecret, product.receiverPath(branch), templateUser);
    const productUsers = await UsersSyncProbe.connect(branch.branchDbUrl);
    cleanups.push(() => productUsers.close());

    log('starting the baselines');
    const naiveUrl = await pgServer.createUsersSyncDatabase('bench_naive');
    const naiveServer = await ServerProcess.start('naive baseline', NAIVE_ENTRY, () => ({ DATABASE_URL: naiveUrl, WEBHOOK_SECRET: branch.webhookSecret, POOL_SIZE: '10' }));
    cleanups.push(() => naiveServer.stop());
    const naiveProbe = await UsersSyncProbe.connect(naiveUrl);
    cleanups.push(() => naiveProbe.close());
    const bareServer = await ServerProcess.start('bare baseline', BARE_ENTRY, () => ({}));
    cleanups.push(() => bareServer.stop());
    const bareHttpServer = await ServerProcess.start('bare node:http baseline', BARE_HTTP_ENTRY, () => ({}));
    cleanups.push(() => bareHttpServer.stop());

    const http = (s: ServerProcess): HttpTarget => new HttpTarget(s.baseUrl, Math.max(256, config.burstConcurrency));
    const ctx: BenchContext = {
      config,
      pg: pgServer,
      product,
      branch,
      deliveries,
      productUsers,
      naive: { server: naiveServer, http: http(naiveServer), url: naiveUrl, probe: naiveProbe },
      bare: { server: bareServer, http: http(bareServer) },
      bareHttp: { server: bareHttpServer, http: http(bareHttpServer) },
      nonce: newNonce(),
      providerUsers: 1,
      templateUserId: templateUser.id,
      lagUsers: new Map(),
      postmasterPid: await pgServer.postmasterPid(),
      metricsToken,
    };
    cleanups.push(async () => {
      ctx.naive.http.close();
      ctx.bare.http.close();
      ctx.bareHttp.http.close();
    });
    // The bare server answers 404 elsewhere; check its route once.
    const probe = await ctx.bare.http.send({ method: 'POST', path: BARE_PATH, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') });
    if (probe.status !== 200) throw new Error(`bare route answered ${probe.status}`);
    const probeHttp = await ctx.bareHttp.http.send({ method: 'POST', path: BARE_PATH, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') });
    if (probeHttp.status !== 204) throw new Error(`bare node:http route answered ${probeHttp.status}`);

    // Lag, then the soak, last on the shared product: a rate the product cannot keep up with leaves a backlog behind
    // (each lag rate waits for the product to drain, within BENCH_DRAIN_TIMEOUT_MS).
    await scenario('burst', () => burstScenario(ctx, log));
    await scenario('applier', () => applierScenario(ctx, log));
    if (config.scenarios.includes('lag')) {
      log(`seeding the users the lag scenario updates (${config.seed})`);
      await seedLagUsers(ctx);
    }
    await scenario('resync', () => resyncScenario(ctx, log));
    await scenario('providerCapacity', () => providerCapacityScenario(ctx, log));
    await scenario('lag', () => lagScenarios(ctx, log));
    await scenario('soak', () => soakScenario(ctx, log));
    // Last: it starts a product of its own (the others are idle by then).
    await scenario('betterAuth', () => betterAuthScenario(ctx, log));
  } catch (err) {
    log(`setup failed: ${(err as Error).stack ?? String(err)}`);
    results.errors.push({ scenario: 'setup', error: (err as Error).message });
  } finally {
    await cleanUp();
  }

  const rows = verdicts(results);
  process.stdout.write(`\nneon_auth.users_sync sync engine benchmark (${config.quick ? 'BENCH_QUICK, counts / 10' : 'full'}; ${((Date.now() - t0) / 1000).toFixed(0)} s)\n\n`);
  process.stdout.write(`${table(rows)}\n`);
  const cpu = cpuTable(results);
  if (cpu) process.stdout.write(`\nCores used during each run (CPU seconds / wall seconds; bench = this process, the load generator; other = the rest of the machine):\n\n${cpu}\n`);
  if (results.soak) process.stdout.write(`\nSoak by window (changes by scheduled send; the backlog at the sample nearest the window's end):\n${soakLines(results.soak).map((l) => `  ${l}\n`).join('')}`);
  const loadAfter = os.loadavg();
  results.load_average = { before: loadBefore.map((l) => Math.round(l * 100) / 100), after: loadAfter.map((l) => Math.round(l * 100) / 100) };
  process.stdout.write(`\nLoad average (1/5/15 min) before ${results.load_average.before.join(' ')}, after ${results.load_average.after.join(' ')} on ${os.cpus().length} CPUs\n`);
  for (const [name, queries] of [['burst (product)', results.burst?.product.queries], ['applier', results.applier?.queries]] as const) {
    if (!queries) continue;
    process.stdout.write(`\nBusiest statements during ${name} (share of active-backend samples):\n`);
    for (const q of queries) process.stdout.write(`  ${(q.share * 100).toFixed(1).padStart(5)}%  ${q.query}\n`);
  }
  for (const e of results.errors) process.stdout.write(`ERROR in ${e.scenario}: ${e.error}\n`);
  writeJson(path.resolve(config.outputFile), config, results, startedAt);
  process.stdout.write(`\nJSON: ${config.outputFile}\n`);
  return results.errors.length > 0 ? 1 : 0;
}

process.exitCode = await main();
