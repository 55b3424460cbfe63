import fs from 'node:fs';
import path from 'node:path';

/** DATA_DIR cannot be created or written: the message names the directory, the reason and the variable. */
export class DataDirError extends Error {
  constructor(dir: string, reason: string) {
    super(`DATA_DIR ${dir} cannot be used: ${reason}; choose a writable directory with DATA_DIR`);
    this.name = 'DataDirError';
  }
}

/**
 * Creates `dir` (and its missing parents) one level at a time. Node's `mkdirSync(…, { recursive: true })` spins
 * forever on some special file systems (a DATA_DIR under /proc was seen to hang the start at full CPU); this fails
 * at once with a DataDirError instead, as it does on a read-only or foreign directory.
 */
export function ensureDirectory(dir: string, mode = 0o755): void {
  const missing: string[] = [];
  let current = path.resolve(dir);
  while (!fs.existsSync(current)) {
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  if (fs.existsSync(current) && !fs.statSync(current).isDirectory()) throw new DataDirError(dir, `${current} is not a directory`);
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && fs.statSync(d).isDirectory()) continue;
      throw new DataDirError(dir, `${code ?? 'error'} creating ${d}`);
    }
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new DataDirError(dir, `${(err as NodeJS.ErrnoException).code ?? 'error'}: it is not writable`);
  }
}
