// What dist/ is built from, and its fingerprint (shared by scripts/build.mjs and scripts/ensure-build.mjs).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout (BUILD_ROOT overrides it, for the test of this build check on a scratch tree). */
export const ROOT = process.env.BUILD_ROOT ? path.resolve(process.env.BUILD_ROOT) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(ROOT, 'dist');
/** Folders compiled into dist/. */
export const SOURCE_DIRS = ['src', 'migrations'];
/** Folders bundled into dist/console (the console and the API client it is built on). */
export const CONSOLE_DIRS = ['console', 'openapi/client'];
/** Files whose change also means a rebuild (the transform, the dependencies). */
const ALSO = ['scripts/build.mjs', 'scripts/sources.mjs', 'scripts/swc-options.mjs', 'tsconfig.console.json', 'package-lock.json'];

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return walk(full);
    return e.isFile() ? [full] : [];
  });
}

/** Every input of the build, as sorted paths relative to the repository. */
export function sourceFiles() {
  return [...SOURCE_DIRS.flatMap((d) => walk(path.join(ROOT, d))), ...CONSOLE_DIRS.flatMap((d) => walk(path.join(ROOT, d))), ...ALSO.map((f) => path.join(ROOT, f)).filter((f) => fs.existsSync(f))]
    .map((f) => path.relative(ROOT, f).split(path.sep).join('/'))
    .sort();
}

/** sha256 over every input's path and content: equal exactly when dist/ was built from these sources. */
export function fingerprint() {
  const hash = createHash('sha256');
  for (const file of sourceFiles()) {
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(path.join(ROOT, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}
