// `npm run build`: compiles src/ and migrations/ to dist/ with swc (a transpiler: about a second for the whole
// tree), and bundles the console (console/, with the generated API client) into dist/console with esbuild. Types are
// checked separately by `npm run typecheck` (tsc --noEmit), which `npm test` and CI run first.
// Writes dist/.build-stamp with the sources' fingerprint, so `npm start` can tell whether dist is current.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFile } from '@swc/core';
import * as esbuild from 'esbuild';
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
  await buildConsole();
  fs.writeFileSync(path.join(DIST, '.build-stamp'), `${fingerprint()}\n`);
  return { files: files.length, ms: Date.now() - started };
}

/**
 * The console: console/main.tsx and what it imports (Preact, the generated client) as one minified ES module, its
 * stylesheet and its page, into dist/console (served by src/console). Built for the browsers of the last few years; no
 * code is loaded from anywhere else at run time.
 */
export async function buildConsole() {
  const out = path.join(DIST, 'console');
  fs.rmSync(out, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['console/main.tsx'],
    outfile: path.join(out, 'console.js'),
    bundle: true,
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: 'tsconfig.console.json',
    legalComments: 'eof',
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(ROOT, 'console', 'console.css'), path.join(out, 'console.css'));
  fs.copyFileSync(path.join(ROOT, 'console', 'index.html'), path.join(out, 'index.html'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files, ms } = await build();
  process.stdout.write(`built ${files} files into dist/ in ${ms} ms\n`);
}
