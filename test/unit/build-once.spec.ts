import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm start` runs scripts/ensure-build.mjs first: it rebuilds dist/ only when dist/ was not built from exactly the
 * sources of the checkout (a fingerprint of their content), so a `git pull` is never run stale and an unchanged tree
 * costs no build. Exercised on a scratch tree (BUILD_ROOT), never on this checkout's dist/.
 */
const SCRIPTS = path.resolve('scripts');

function ensureBuild(root: string): string {
  return execFileSync(process.execPath, [path.join(SCRIPTS, 'ensure-build.mjs')], {
    env: { ...process.env, BUILD_ROOT: root },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

describe('build once: npm start rebuilds only when the sources changed', () => {
  let root: string;
  const built = (file: string) => fs.readFileSync(path.join(root, 'dist', file), 'utf8');
  const stampTime = () => fs.statSync(path.join(root, 'dist', '.build-stamp')).mtimeMs;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'build-once-'));
    fs.mkdirSync(path.join(root, 'src'), { recursive: true });
    fs.mkdirSync(path.join(root, 'migrations'));
    fs.writeFileSync(path.join(root, 'src', 'main.ts'), "export const greeting: string = 'one';\n");
    fs.writeFileSync(path.join(root, 'package-lock.json'), '{}\n');
    // A console of one line (the real one is bundled the same way, with Preact from node_modules).
    fs.mkdirSync(path.join(root, 'console'));
    fs.writeFileSync(path.join(root, 'console', 'main.tsx'), "document.title = 'console one';\n");
    fs.writeFileSync(path.join(root, 'console', 'index.html'), '<!doctype html>\n');
    fs.writeFileSync(path.join(root, 'console', 'console.css'), 'body {}\n');
    fs.writeFileSync(path.join(root, 'tsconfig.console.json'), '{}\n');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('builds a tree that was never built, then leaves it alone while nothing changes', () => {
    ensureBuild(root);
    expect(built('src/main.js')).toContain("greeting = 'one'");
    const first = stampTime();
    ensureBuild(root);
    expect(stampTime()).toBe(first);
  });

  it('rebuilds after a source changed (as after a git pull), also to an older content', () => {
    const before = stampTime();
    fs.writeFileSync(path.join(root, 'src', 'main.ts'), "export const greeting: string = 'two';\n");
    ensureBuild(root);
    expect(built('src/main.js')).toContain("greeting = 'two'");
    expect(stampTime()).toBeGreaterThan(before);
    // Back to the earlier content (a checkout of an older commit): rebuilt again, never the newer output.
    fs.writeFileSync(path.join(root, 'src', 'main.ts'), "export const greeting: string = 'one';\n");
    ensureBuild(root);
    expect(built('src/main.js')).toContain("greeting = 'one'");
  });

  it('rebuilds after a file is added or the lockfile changes, and drops output of removed files', () => {
    fs.writeFileSync(path.join(root, 'migrations', 'm.ts'), 'export const m = 1;\n');
    ensureBuild(root);
    expect(built('migrations/m.js')).toContain('m = 1');
    fs.rmSync(path.join(root, 'migrations', 'm.ts'));
    fs.writeFileSync(path.join(root, 'package-lock.json'), '{"changed": true}\n');
    ensureBuild(root);
    expect(fs.existsSync(path.join(root, 'dist', 'migrations', 'm.js'))).toBe(false);
  });

  it('bundles the console, and bundles it again when it changed', () => {
    ensureBuild(root);
    expect(built('console/console.js')).toContain('console one');
    expect(built('console/index.html')).toContain('<!doctype html>');
    fs.writeFileSync(path.join(root, 'console', 'main.tsx'), "document.title = 'console two';\n");
    ensureBuild(root);
    expect(built('console/console.js')).toContain('console two');
  });
});
