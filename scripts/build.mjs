// `npm run build`: compiles src/ and migrations/ to dist/ with swc (a transpiler: about a second for the whole
// tree). Types are checked separately by `npm run typecheck` (tsc --noEmit), which `npm test` and CI run first.
// Writes dist/.build-stamp with the sources' fingerprint, so `npm start` can tell whether dist is current.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFile } from '@swc/core';
import { DIST, ROOT, SOURCE_DIRS, fingerprint, sourceFiles } from './sources.mjs';
import { swcOptions } from './swc-options.mjs';

/** The same transform as Jest's (scripts/swc-options.mjs), with source maps beside the files. */
const SWC = swcOptions(true);

export async function build() {
  const started = Date.now();
  const files = sourceFiles().filter((f) => f.endsWith('.ts') && SOURCE_DIRS.some((d) => f.startsWith(`${d}/`)));
  for (const dir of SOURCE_DIRS) fs.rmSync(path.join(DIST, dir), { recursive: true, force: true });
  await Promise.all(
    files.map(async (file) => {
      const out = path.join(DIST, file.replace(/\.ts$/, '.js'));
      const { code, map } = await transformFile(path.join(ROOT, file), { ...SWC, filename: file, sourceFileName: path.relative(path.dirname(out), path.join(ROOT, file)) });
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, `${code}\n//# sourceMappingURL=${path.basename(out)}.map\n`);
      if (map) fs.writeFileSync(`${out}.map`, map);
    }),
  );
  fs.writeFileSync(path.join(DIST, '.build-stamp'), `${fingerprint()}\n`);
  return { files: files.length, ms: Date.now() - started };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files, ms } = await build();
  process.stdout.write(`built ${files} files into dist/ in ${ms} ms\n`);
}
