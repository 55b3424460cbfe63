// Runs the BUILT server (`node dist/src/main.js`, built by `npm test`'s pretest) as a child process,
// for tests that need a real process: signals, crashes, restarts, replicas, stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVIRONMENT_VARIABLES } from '../../src/config/config.js';

export const SERVER_ENTRY = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));
/** The sync worker (`npm run worker`): the engine without HTTP. */
export const WORKER_ENTRY = fileURLToPath(new URL('../../dist/src/worker.js', import.meta.url));

/** Upper bound for one start, including a first-boot initdb on a busy 2-core machine. */
export const START_TIMEOUT_MS = 30_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type LogLine = Record<string, unknown> & { level?: string; msg?: string };

const children = new Set<ServerProcess>();
const tempDirs = new Set<string>();

export class ServerProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  /** HTTP port the server reported in its "listening" log line (a worker: its WORKER_PORT, see startWorker). */
  port = 0;
  readonly exited: Promise<ExitStatus>;
  private exitStatus?: ExitStatus;
  private readonly waiters = new Set<() => void>();

  constructor(env: Record<string, string | undefined>, cwd?: string, entry: string = SERVER_ENTRY) {
    if (!fs.existsSync(entry)) {
      throw new Error(`${entry} does not exist: build first (npm test does it; or npx tsc -p tsconfig.build.json)`);
    }
    this.child = spawn(process.execPath, [entry], { env: serverEnv(env), cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exitStatus = { code, signal };
        children.delete(this);
        this.notify();
        resolve(this.exitStatus);
      });
    });
    children.add(this);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** stdout then stderr, for assertions and failure messages. */
  get output(): string {
    return `${this.stdout}${this.stderr}`;
  }

  /** The JSON log lines on stdout (other lines, such as the printed bootstrap key, are skipped). */
  logLines(): LogLine[] {
    const complete = this.stdout.slice(0, this.stdout.lastIndexOf('\n') + 1);
    const lines: LogLine[] = [];
    for (const line of complete.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
    return lines;
  }

  /** Resolves with the first log line whose msg matches, failing on timeout or if the process exits first. */
  async waitForLog(pattern: RegExp, timeoutMs = START_TIMEOUT_MS): Promise<LogLine> {
    return this.waitFor(`a log line matching ${pattern}`, timeoutMs, () =>
      this.logLines().find((line) => typeof line.msg === 'string' && pattern.test(line.msg)),
    );
  }

  /** Waits for the "listening on ..." line and records the HTTP port it names. */
  async waitForListening(timeoutMs = START_TIMEOUT_MS): Promise<this> {
    const line = await this.waitForLog(/^listening on /, timeoutMs);
    this.port = Number(line.port);
    return this;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  async waitForExit(timeoutMs = 15_000): Promise<ExitStatus> {
    const timer = new Promise<never>((_, reject) => {
      const t = setTimeout(() => reject(new Error(`process ${this.pid} did not exit within ${timeoutMs} ms\n${this.tail()}`)), timeoutMs);
      void this.exited.then(() => clearTimeout(t));
    });
    return Promise.race([this.exited, timer]);
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<ExitStatus> {
    this.signal(signal);
    return this.waitForExit(timeoutMs);
  }

  tail(chars = 4000): string {
    return `--- output of server ${this.pid} ---\n${this.output.slice(-chars)}`;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        let found: T | undefined;
        try {
          found = probe();
        } catch (err) {
          return finish(() => reject(err));
        }
        if (found !== undefined) return finish(() => resolve(found));
        if (!this.running) {
          finish(() => reject(new Error(`server exited (${JSON.stringify(this.exitStatus)}) before ${what}\n${this.tail()}`)));
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`))),
        timeoutMs,
      );
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }
}

/**
 * The child's environment: this process's, minus every variable the server reads (so a developer's
 * DATABASE_URL or PORT cannot leak in), plus `env`. Keys set to undefined are left out.
 */
function serverEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !(ENVIRONMENT_VARIABLES as readonly string[]).includes(k)) out[k] = v;
  }
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Starts the server and waits until it listens. PORT defaults to 0 (the OS picks; see `port`). */
export async function startServer(env: Record<string, string | undefined>, options: { cwd?: string; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const server = new ServerProcess({ PORT: '0', ...env }, options.cwd);
  return server.waitForListening(options.timeoutMs);
}

/**
 * Starts a sync worker (dist/src/worker.js) and waits until its engine runs; `port` is then its WORKER_PORT (/metrics,
 * /health). WORKER_PORT defaults to 0 (the OS picks), so workers of parallel test files never collide.
 */
export async function startWorker(env: Record<string, string | undefined>, options: { cwd?: string; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const worker = new ServerProcess({ WORKER_PORT: '0', ...env }, options.cwd, WORKER_ENTRY);
  const line = await worker.waitForLog(/^sync worker started/, options.timeoutMs);
  worker.port = Number(line.port);
  return worker;
}

/** Starts a sync worker without waiting for anything (for processes expected to fail). */
export function spawnWorker(env: Record<string, string | undefined>, options: { cwd?: string } = {}): ServerProcess {
  return new ServerProcess({ WORKER_PORT: '0', ...env }, options.cwd, WORKER_ENTRY);
}

/** Starts the server without waiting for anything (for processes expected to fail). */
export function spawnServer(env: Record<string, string | undefined>, options: { cwd?: string } = {}): ServerProcess {
  return new ServerProcess({ PORT: '0', ...env }, options.cwd);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A fresh directory under the OS temp dir, mode 0755: the embedded PostgreSQL runs as the
 * "postgres" user when the tests run as root, and must be able to traverse it.
 */
export function makeTempDir(prefix = 'cp-rel-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  tempDirs.add(dir);
  return dir;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in `<dataDir>/pg/postmaster.pid`, if the file exists. */
export function postmasterPid(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!fs.existsSync(file)) return undefined;
  const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export async function waitUntil(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A pid that belonged to a process which has exited (for stale pid files). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((r) => child.once('close', r));
  return pid;
}

/**
 * For afterAll: SIGKILLs every server this file started that still runs, stops any embedded
 * PostgreSQL left in the temp dirs (orphaned by a crash test), and removes the temp dirs.
 */
export async function cleanupServers(): Promise<void> {
  await Promise.all(
    [...children].map(async (server) => {
      server.signal('SIGKILL');
      await server.exited;
    }),
  );
  for (const dir of tempDirs) {
    const pid = postmasterPid(dir);
    if (pid && isProcessAlive(pid)) {
      process.kill(pid, 'SIGQUIT'); // immediate shutdown of the postmaster and its backends
      await waitUntil(`orphaned postgres ${pid} exits`, () => !isProcessAlive(pid), 5000).catch(() => process.kill(pid, 'SIGKILL'));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  tempDirs.clear();
}
