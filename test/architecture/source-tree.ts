import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Reading the source tree for the static checks (no database, no server): files, imports, string literals. */

export const ROOT = path.resolve(process.cwd());
export const SRC = path.join(ROOT, 'src');

/** An absolute path inside src/. */
export function src(...parts: string[]): string {
  return path.join(SRC, ...parts);
}

/** Every .ts file under `dir`, recursively. */
export function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.isFile() && e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Whether `file` is `dir` or inside it. */
export function isWithin(file: string, dir: string): boolean {
  return file === dir || file.startsWith(dir + path.sep);
}

export function relative(file: string): string {
  return path.relative(ROOT, file);
}

/** A source file: its path and text (from disk unless given, so a check can be shown to catch a made-up file). */
export interface Source {
  file: string;
  text: string;
}

export function sourcesUnder(dir: string): Source[] {
  return tsFiles(dir).map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
}

/**
 * Every module specifier a file uses: imports (type-only too), re-exports, dynamic `import()` and `require()`,
 * as TypeScript's own pre-processor finds them.
 */
export function specifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** Where a specifier points inside the repository (without its extension), or undefined for a package. */
export function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  let target: string | undefined;
  if (specifier.startsWith('.')) target = path.resolve(path.dirname(fromFile), specifier);
  else if (path.isAbsolute(specifier)) target = path.resolve(specifier);
  // Bare specifiers that name the source tree (baseUrl-style), e.g. "src/iam/policy.js".
  else if (/^(\.\/)?src\//.test(specifier)) target = path.resolve(ROOT, specifier);
  return target?.replace(/\.(js|ts|mjs|cjs)$/, '');
}

/** One import of one file: where it is and where it points (extension-less absolute path). */
export interface ImportEdge {
  file: string;
  specifier: string;
  target: string;
}

export function importsOf(sources: Source[]): ImportEdge[] {
  return sources.flatMap(({ file, text }) =>
    specifiers(text).flatMap((specifier) => {
      const target = resolveSpecifier(file, specifier);
      return target ? [{ file, specifier, target }] : [];
    }),
  );
}

/** `file: specifier` of each edge, for readable failures. */
export function describeEdges(edges: ImportEdge[]): string[] {
  return edges.map((e) => `${relative(e.file)}: ${e.specifier}`);
}

/**
 * The text of every string and template literal of a file, a template's substitutions written as `${expr}`,
 * so SQL built in code can be searched without matching comments.
 */
export function stringLiterals(text: string): string[] {
  const sf = ts.createSourceFile('x.ts', text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.push(node.text);
    else if (ts.isTemplateExpression(node)) {
      out.push(node.head.text + node.templateSpans.map((s) => `\${${s.expression.getText(sf)}}${s.literal.text}`).join(''));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}
