// `npm run bench:event-loop`: the event-loop scenario of `npm run bench` alone (see bench/README.md), in well
// under a minute after the build: GET /health/live latency idle and under 50 password sign-ins/s.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBenchConfig } from './config.js';
import { BenchPostgres } from './pg.js';
import { eventLoopVerdict, table } from './report.js';
import { eventLoopScenario } from './scenarios/event-loop.js';

const startedAt = new Date();
const t0 = Date.now();
const log = (s: string): void => {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}\n`);
};

let pgServer: BenchPostgres | undefined;
process.once('SIGINT', () => {
  log('interrupted: stopping PostgreSQL');
  void (pgServer?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
});

async function main(): Promise<number> {
  const config = loadBenchConfig();
  const outputFile = process.env.BENCH_OUTPUT ?? 'bench/results/event-loop.json';
  const loadBefore = os.loadavg();
  log(`rate ${config.eventLoopRate}/s, ${config.eventLoopSeconds} s per phase, probe every ${config.eventLoopProbeMs} ms, ${config.eventLoopAccounts} accounts`);
  log('starting embedded PostgreSQL');
  pgServer = await BenchPostgres.start();
  try {
    const result = await eventLoopScenario(pgServer, config, log);
    const loadAfter = os.loadavg();
    const rounded = (l: number[]): number[] => l.map((x) => Math.round(x * 100) / 100);
    process.stdout.write(`\nEvent-loop benchmark (${((Date.now() - t0) / 1000).toFixed(0)} s)\n\n${table([eventLoopVerdict(result)])}\n`);
    process.stdout.write(`\nLoad average (1/5/15 min) before ${rounded(loadBefore).join(' ')}, after ${rounded(loadAfter).join(' ')} on ${os.cpus().length} CPUs\n`);
    const doc = {
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? null, node: process.version, platform: `${os.platform()} ${os.release()}` },
      config: { eventLoopRate: config.eventLoopRate, eventLoopSeconds: config.eventLoopSeconds, eventLoopProbeMs: config.eventLoopProbeMs, eventLoopAccounts: config.eventLoopAccounts },
      load_average: { before: rounded(loadBefore), after: rounded(loadAfter) },
      results: { eventLoop: result },
    };
    fs.mkdirSync(path.dirname(path.resolve(outputFile)), { recursive: true });
    fs.writeFileSync(path.resolve(outputFile), `${JSON.stringify(doc, null, 2)}\n`);
    process.stdout.write(`\nJSON: ${outputFile}\n`);
    return 0;
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    return 1;
  } finally {
    await pgServer.stop();
  }
}

process.exitCode = await main();
