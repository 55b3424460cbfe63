// Cores used per process during a measured run: CPU seconds (utime + stime from /proc/<pid>/stat, all threads)
// over wall seconds, for the product, PostgreSQL (the postmaster and every backend, including those that exited
// during the run), the bench process itself (the load generator), the baselines, and the whole machine
// (/proc/stat), so a figure can say which of them saturates. Linux only; elsewhere every share is null.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { round } from './stats.js';

/** USER_HZ: the unit of /proc's CPU times, 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

export interface CpuShares {
  /** Wall seconds of the measured run. */
  wall_s: number;
  /** Cores used (CPU seconds / wall seconds) by each process group, and by the machine as a whole. */
  cores: Record<string, number | null>;
}

interface Stat {
  ppid: number;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it reaped. */
  ticks: number;
  /** utime + stime: its own CPU (all threads). */
  ownTicks: number;
}

function readStat(pid: number | string): Stat | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields that follow start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    const own = Number(f[11]) + Number(f[12]);
    return { ppid: Number(f[1]), ticks: own + Number(f[13]) + Number(f[14]), ownTicks: own };
  } catch {
    return null;
  }
}

/** Every live process's parent and CPU ticks, read once. */
function allStats(): Map<number, Stat> {
  const out = new Map<number, Stat>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const s = readStat(e);
    if (s) out.set(Number(e), s);
  }
  return out;
}

/**
 * CPU ticks of `root` and all its live descendants, each with the children it reaped: a process that exits
 * between two readings moves into its parent's cutime/cstime, so the difference of two readings is the tree's
 * CPU in between (a PostgreSQL backend that connected and quit in the run is counted).
 */
function treeTicks(root: number, stats: Map<number, Stat>): number | null {
  if (!stats.has(root)) return null;
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(pid);
    else children.set(s.ppid, [pid]);
  }
  let ticks = 0;
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    ticks += stats.get(pid)!.ticks;
    todo.push(...(children.get(pid) ?? []));
  }
  return ticks;
}

/** Busy ticks of the whole machine (all CPUs): user, nice, system, irq, softirq, steal. */
function machineTicks(): number | null {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
  } catch {
    return null;
  }
}

/** What to measure: a name and the root pid of a process tree (the bench's own process counts alone, see `self`). */
export type CpuGroups = Record<string, number | undefined>;

/** The bench process's group: itself only (its child servers are groups of their own). */
export const SELF = -1;

interface Reading {
  at: number;
  groups: Record<string, number | null>;
  machine: number | null;
}

function read(groups: CpuGroups): Reading {
  const stats = allStats();
  const out: Record<string, number | null> = {};
  for (const [name, pid] of Object.entries(groups)) {
    if (pid === undefined) continue;
    // The bench's own time only: the servers it spawned are measured as groups of their own.
    out[name] = pid === SELF ? (readStat('self')?.ownTicks ?? null) : treeTicks(pid, stats);
  }
  return { at: performance.now(), groups: out, machine: machineTicks() };
}

/** Started at the beginning of a run, read at its end (or at several points: `lap`). */
export class CpuMeter {
  private last: Reading;
  private readonly first: Reading;

  private constructor(private readonly groups: CpuGroups) {
    this.first = read(groups);
    this.last = this.first;
  }

  static start(groups: CpuGroups): CpuMeter {
    return new CpuMeter(groups);
  }

  /** Cores used since the start. */
  stop(): CpuShares {
    return shares(this.first, read(this.groups));
  }

  /** Cores used since the previous lap (or the start). */
  lap(): CpuShares {
    const now = read(this.groups);
    const s = shares(this.last, now);
    this.last = now;
    return s;
  }
}

function shares(a: Reading, b: Reading): CpuShares {
  const wall = (b.at - a.at) / 1000;
  const cores: Record<string, number | null> = {};
  let ours = 0;
  for (const name of Object.keys(b.groups)) {
    const x = a.groups[name];
    const y = b.groups[name];
    // A process that went away between the readings (or was never there) has no figure.
    cores[name] = x === null || x === undefined || y === null || wall <= 0 ? null : round(Math.max(0, y - x) / CLOCK_TICKS / wall, 2);
    ours += cores[name] ?? 0;
  }
  const machine = a.machine === null || b.machine === null || wall <= 0 ? null : round((b.machine - a.machine) / CLOCK_TICKS / wall, 2);
  cores.machine = machine;
  // Everything else on the machine (other work sharing it, the kernel's own threads): a noise indicator.
  cores.other = machine === null ? null : round(Math.max(0, machine - ours), 2);
  return { wall_s: round(wall, 2) ?? 0, cores };
}
