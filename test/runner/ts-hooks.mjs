// Node module hooks for the test processes: TypeScript files are compiled by swc with the build's own options
// (scripts/swc-options.mjs) as they are imported, and a relative `./x.js` written in a .ts file finds `./x.ts`,
// as TypeScript's NodeNext resolution means it to. Registered by ./register-ts.mjs.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import swc from '@swc/core';
import { swcOptions } from '../../scripts/swc-options.mjs';

const options = swcOptions('inline');

const isTypeScript = (url) => url.startsWith('file:') && new URL(url).pathname.endsWith('.ts');

export async function resolve(specifier, context, nextResolve) {
  if (context.parentURL && isTypeScript(context.parentURL) && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
    try {
      return await nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    } catch {
      // not a TypeScript file: resolved as written below
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!isTypeScript(url)) return nextLoad(url, context);
  const filename = fileURLToPath(url);
  const { code } = await swc.transform(await readFile(filename, 'utf8'), { ...options, filename });
  return { format: 'module', source: code, shortCircuit: true };
}
