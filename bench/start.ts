// `npm run bench:start`: how fast the server is ready to serve, medians of 5, beside the floor (a bare Node HTTP
// server). Each figure is spawn -> first `GET /health` 200 (readiness: the control-plane database answers):
// - first start after `npm install` (a new data directory: both embedded clusters initialised), through `npm start`;
// - warm `npm start` on an existing data directory (npm, the build check, PostgreSQL, migrations check, Nest);
// - the same without npm: `node dist/src/main.js`;
// - restart after SIGKILL on the same data directory (orphaned PostgreSQL stopped, crash recovery included).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './pg.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_START_RUNS ?? 5);
const TIMEOUT_MS = 60_000;

function health(port: number, route: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: route, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

interface Started {
  child: ChildProcess;
  ms: number;
}

/** Spawns `command` and answers once `route` on `port` answers 200, with the milliseconds it took. */
async function spawnUntilReady(command: string, args: string[], env: Record<string, string>, port: number, route: string): Promise<Started> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { cwd: ROOT, env, stdio: 'ignore', detached: true });
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await health(port, route))) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited with ${child.exitCode} before it was ready`);
    if (Date.now() > deadline) throw new Error(`${command} ${args.join(' ')} was not ready within ${TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { child, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

/**
 * Stops a start: SIGTERM to the whole process group (npm, the server under it and its PostgreSQL), or SIGKILL to
 * the server process alone (its PostgreSQL is orphaned, as after a crash); then waits until the port is closed.
 */
async function stop(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL', port: number): Promise<void> {
  const exited = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
  try {
    if (signal === 'SIGKILL') process.kill(child.pid!, 'SIGKILL');
    else process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
  await exited;
  const deadline = Date.now() + TIMEOUT_MS;
  while ((await health(port, '/health/live')) || (await health(port, '/'))) {
    if (Date.now() > deadline) throw new Error(`port ${port} still answers after ${signal}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function serverEnv(dataDir: string, port: number, pgPorts: [number, number]): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ']) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return {
    ...env,
    DATA_DIR: dataDir,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    EMBEDDED_PG_PORT: String(pgPorts[0]),
    EMBEDDED_COMPUTE_PG_PORT: String(pgPorts[1]),
    BOOTSTRAP_API_KEY: 'napi_bench_start_0123456789abcdef',
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const figures: Record<string, number[]> = { floor: [], first: [], warmNpm: [], warmNode: [], afterKill: [] };
  const node = process.execPath;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  for (let run = 0; run < RUNS; run++) {
    // The floor: a bare Node HTTP server, spawn -> answering.
    const floorPort = await freePort();
    const floor = await spawnUntilReady(
      node,
      ['-e', `require('http').createServer((q, s) => s.end('ok')).listen(${floorPort}, '127.0.0.1')`],
      { PATH: process.env.PATH ?? '' },
      floorPort,
      '/',
    );
    figures.floor.push(floor.ms);
    await stop(floor.child, 'SIGTERM', floorPort);

    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-start-'));
    const pgPorts: [number, number] = [await freePort(), await freePort()];
    const port = await freePort();
    const env = await serverEnv(dataDir, port, pgPorts);
    try {
      const first = await spawnUntilReady(npm, ['start', '--silent'], env, port, '/health');
      figures.first.push(first.ms);
      await stop(first.child, 'SIGTERM', port);

      const warm = await spawnUntilReady(npm, ['start', '--silent'], env, port, '/health');
      figures.warmNpm.push(warm.ms);
      await stop(warm.child, 'SIGTERM', port);

      const bare = await spawnUntilReady(node, ['dist/src/main.js'], env, port, '/health');
      figures.warmNode.push(bare.ms);
      // Killed hard: PostgreSQL is orphaned and the next start must stop it and recover.
      await stop(bare.child, 'SIGKILL', port);
      const again = await spawnUntilReady(node, ['dist/src/main.js'], env, port, '/health');
      figures.afterKill.push(again.ms);
      await stop(again.child, 'SIGTERM', port);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    process.stderr.write(`[bench:start] run ${run + 1}/${RUNS} done\n`);
  }
  const row = (label: string, key: string, target: string) => {
    const m = median(figures[key]);
    const f = median(figures.floor);
    return `| ${label} | ${Math.round(m)} ms (${(m / f).toFixed(1)}x floor; ${figures[key].map(Math.round).join(', ')}) | ${target} |`;
  };
  process.stdout.write(
    [
      `Start-up, spawn -> GET /health 200, medians of ${RUNS} (${os.cpus().length} CPUs)`,
      '',
      '| Start | Median (runs) | Target |',
      '| --- | --- | --- |',
      row('floor: `node -e "http.createServer().listen()"`', 'floor', ''),
      row('first `npm start` after `npm install` (new data directory, two clusters initialised)', 'first', '<= 5 s'),
      row('warm `npm start`', 'warmNpm', '<= 1.5 s'),
      row('warm `node dist/src/main.js`', 'warmNode', ''),
      row('after SIGKILL, same data directory (`node dist/src/main.js`)', 'afterKill', '<= 3 s'),
      '',
    ].join('\n'),
  );
}

await main();
