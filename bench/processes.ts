import fs from 'node:fs';
// Servers under test as child processes: the product (node dist/src/main.js) and the baselines.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './pg.js';
import { sleep } from './stats.js';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PRODUCT_ENTRY = path.join(DIST, 'src', 'main.js');
export const WORKER_ENTRY = path.join(DIST, 'src', 'worker.js');
export const NAIVE_ENTRY = path.join(DIST, 'bench', 'baselines', 'naive-server.js');
export const BARE_ENTRY = path.join(DIST, 'bench', 'baselines', 'bare-server.js');
export const BARE_HTTP_ENTRY = path.join(DIST, 'bench', 'baselines', 'bare-http-server.js');

const START_TIMEOUT_MS = 90_000;

export class ServerProcess {
  private output = '';
  private exited = false;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => this.keep(s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => this.keep(s));
    child.once('exit', () => (this.exited = true));
  }

  /**
   * Starts `entry` with exactly `env` (plus PATH/HOME/locale, nothing else of ours, so no stray
   * DATABASE_URL leaks in) and PORT set to a free port, and waits until it answers HTTP.
   */
  static async start(name: string, entry: string, env: (port: number) => Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
    const port = await freePort();
    const base: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ']) if (process.env[k] !== undefined) base[k] = process.env[k]!;
    const child = spawn(process.execPath, [...nodeArgs, entry], {
      env: { ...base, NODE_ENV: 'production', ...env(port), PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(name, child, port);
    await server.waitUntilAnswering();
    return server;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  tail(chars = 3000): string {
    return this.output.slice(-chars);
  }

  /** SIGTERM, then SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  }

  private keep(chunk: string): void {
    this.output = (this.output + chunk).slice(-20_000);
    // BENCH_SERVER_LOG_DIR: every server's stdout and stderr also go to <dir>/<name>.log (for diagnosis).
    const dir = process.env.BENCH_SERVER_LOG_DIR;
    if (dir) fs.appendFileSync(path.join(dir, `${this.name}.log`), chunk);
  }

  private async waitUntilAnswering(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (this.exited) throw new Error(`${this.name} exited during start:\n${this.tail()}`);
      if (await answers(this.port)) return;
      if (Date.now() > deadline) throw new Error(`${this.name} did not answer within ${START_TIMEOUT_MS} ms:\n${this.tail()}`);
      await sleep(100);
    }
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(1000, () => req.destroy());
  });
}
