import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The embedded provider is a separate system that happens to share the process: it must import nothing
 * from the control plane's feature modules (it is reached only over HTTP and answers only with webhooks).
 * src/common and src/config are shared infrastructure and allowed.
 */
const ROOT = path.resolve(process.cwd());
const PROVIDER = path.join(ROOT, 'src', 'stack-auth');
const FORBIDDEN = ['iam', 'projects', 'neon-auth', 'sync', 'providers'].map((d) => path.join(ROOT, 'src', d));

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.isFile() && e.name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * Every module specifier a file uses: imports (type-only too), re-exports, dynamic `import()` and
 * `require()`, as TypeScript's own pre-processor finds them.
 */
function specifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** Where a specifier points inside the repository, or undefined for a package. */
function resolve(fromFile: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) return path.resolve(path.dirname(fromFile), specifier);
  if (path.isAbsolute(specifier)) return path.resolve(specifier);
  // Bare specifiers that name the source tree (baseUrl-style), e.g. "src/iam/policy.js".
  if (/^(\.\/)?src\//.test(specifier)) return path.resolve(ROOT, specifier);
  return undefined;
}

/** `file: specifier` for every forbidden import in the given files (contents from disk unless given). */
function violations(files: { file: string; source?: string }[]): string[] {
  const out: string[] = [];
  for (const { file, source } of files) {
    for (const spec of specifiers(source ?? fs.readFileSync(file, 'utf8'))) {
      const target = resolve(file, spec);
      if (target && FORBIDDEN.some((dir) => target === dir || target.startsWith(dir + path.sep))) {
        out.push(`${path.relative(ROOT, file)}: ${spec}`);
      }
    }
  }
  return out;
}

describe('module boundary of the embedded provider (src/stack-auth)', () => {
  it('imports nothing from src/iam, src/projects, src/neon-auth, src/sync or src/providers', () => {
    const files = tsFiles(PROVIDER);
    expect(files.length).toBeGreaterThan(20);
    expect(violations(files.map((file) => ({ file })))).toEqual([]);
  });

  it('the check catches every import form (so the test above can fail)', () => {
    const file = path.join(PROVIDER, 'users', 'example.ts');
    const source = [
      "import { Policy } from '../../iam/policy.js';",
      "import type { ProjectEntity } from '../../projects/entities/project.entity.js';",
      "export * from '../../neon-auth/x.js';",
      "const m = await import('../../sync/applier.js');",
      "const r = require('../../providers/stack/adapter.js');",
      "import { ok } from '../../common/errors.js';",
      "import { loadConfig } from '../../config/config.js';",
      "import { StackProjectsService } from '../projects/stack-projects.service.js';",
      "import 'src/iam/access.guard.js';",
      "import express from 'express';",
    ].join('\n');
    expect(violations([{ file, source }])).toEqual([
      'src/stack-auth/users/example.ts: ../../iam/policy.js',
      'src/stack-auth/users/example.ts: ../../projects/entities/project.entity.js',
      'src/stack-auth/users/example.ts: ../../neon-auth/x.js',
      'src/stack-auth/users/example.ts: ../../sync/applier.js',
      'src/stack-auth/users/example.ts: ../../providers/stack/adapter.js',
      'src/stack-auth/users/example.ts: src/iam/access.guard.js',
    ]);
  });
});
