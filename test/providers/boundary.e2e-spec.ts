import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The control plane reaches the embedded provider only over HTTP, through the stack adapter. So
 * src/providers may import exactly one thing from src/stack-auth: the pure function that computes the
 * integration client credentials (stack-auth.config.ts).
 */
const ROOT = path.resolve(process.cwd());
const PROVIDERS = path.join(ROOT, 'src', 'providers');
const STACK_AUTH = path.join(ROOT, 'src', 'stack-auth');
const ALLOWED = path.join(STACK_AUTH, 'stack-auth.config.js');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.isFile() && e.name.endsWith('.ts') ? [full] : [];
  });
}

/** `file: specifier` for every import of src/stack-auth other than stack-auth.config.js. */
function violations(files: { file: string; source: string }[]): string[] {
  const out: string[] = [];
  for (const { file, source } of files) {
    for (const { fileName: spec } of ts.preProcessFile(source, true, true).importedFiles) {
      const target = spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : /^(\.\/)?src\//.test(spec) ? path.resolve(ROOT, spec) : undefined;
      if (target && (target === STACK_AUTH || target.startsWith(STACK_AUTH + path.sep)) && target !== ALLOWED) out.push(`${path.relative(ROOT, file)}: ${spec}`);
    }
  }
  return out;
}

describe('module boundary of src/providers', () => {
  it('imports nothing from src/stack-auth but stack-auth.config.js', () => {
    const files = tsFiles(PROVIDERS).map((file) => ({ file, source: fs.readFileSync(file, 'utf8') }));
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(violations(files)).toEqual([]);
  });

  it('the check catches other imports of the embedded provider (so the test above can fail)', () => {
    const file = path.join(PROVIDERS, 'stack', 'example.ts');
    const source = [
      "import { integrationClientCredentials } from '../../stack-auth/stack-auth.config.js';",
      "import { StackUsersService } from '../../stack-auth/users/stack-users.service.js';",
      "import type { StackProjectEntity } from 'src/stack-auth/entities/stack-project.entity.js';",
      "const m = await import('../../stack-auth/stack-auth.module.js');",
      "import { SecretsService } from '../../common/secrets.js';",
    ].join('\n');
    expect(violations([{ file, source }])).toEqual([
      'src/providers/stack/example.ts: ../../stack-auth/users/stack-users.service.js',
      'src/providers/stack/example.ts: src/stack-auth/entities/stack-project.entity.js',
      'src/providers/stack/example.ts: ../../stack-auth/stack-auth.module.js',
    ]);
  });
});
