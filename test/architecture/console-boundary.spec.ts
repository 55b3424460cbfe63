import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ROOT, isWithin, relative, resolveSpecifier, specifiers, type Source } from './source-tree.js';

/**
 * The console can do nothing the API would refuse because it can reach the server only through the client generated
 * from the committed OpenAPI spec: its files import only each other, that client and the front-end packages, and
 * none opens a connection or a store of its own (fetch, XMLHttpRequest, WebSocket, EventSource, sendBeacon), keeps
 * anything in localStorage or a cookie, or writes HTML as text. A made-up breach of each rule must be caught too.
 */
const CONSOLE = path.join(ROOT, 'console');
const CLIENT = path.join(ROOT, 'openapi', 'client', 'neon-api');
const PACKAGES = new Set(['preact', 'preact/hooks', 'preact/jsx-runtime']);
const FORBIDDEN_NAMES: Record<string, string> = {
  fetch: 'a request outside the generated client',
  XMLHttpRequest: 'a request outside the generated client',
  WebSocket: 'a connection outside the API',
  EventSource: 'a connection outside the API',
  sendBeacon: 'a request outside the generated client',
  localStorage: 'the API key is kept in sessionStorage only',
  cookie: 'the console keeps nothing in cookies',
  innerHTML: 'HTML written as text',
  outerHTML: 'HTML written as text',
  insertAdjacentHTML: 'HTML written as text',
  dangerouslySetInnerHTML: 'HTML written as text',
  eval: 'code built at run time (and the page CSP forbids it)',
  Function: 'code built at run time (and the page CSP forbids it)',
};

function consoleSources(dir = CONSOLE): Source[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return consoleSources(full);
    return /\.tsx?$/.test(e.name) ? [{ file: full, text: fs.readFileSync(full, 'utf8') }] : [];
  });
}

/** Imports that leave the console for anything but the generated client and the allowed packages. */
function strayImports(sources: Source[]): string[] {
  return sources.flatMap(({ file, text }) =>
    specifiers(text).flatMap((specifier) => {
      if (PACKAGES.has(specifier)) return [];
      const target = resolveSpecifier(file, specifier);
      if (target && (isWithin(target, CONSOLE) || target === CLIENT)) return [];
      return [`${relative(file)}: ${specifier}`];
    }),
  );
}

/** Uses of a forbidden global or property (identifiers, not words in comments or strings). */
function forbiddenUses(sources: Source[]): string[] {
  const found: string[] = [];
  for (const { file, text } of sources) {
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
    const visit = (node: ts.Node): void => {
      // Identifiers include property names (`x.localStorage`) and JSX attribute names.
      if (ts.isIdentifier(node) && Object.hasOwn(FORBIDDEN_NAMES, node.text)) found.push(`${relative(file)}: ${node.text} (${FORBIDDEN_NAMES[node.text]})`);
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

describe('the console reaches the server only through the generated API client', () => {
  const sources = consoleSources();

  it('has sources to check', () => {
    expect(sources.map((s) => relative(s.file))).toContain(path.join('console', 'api.ts'));
  });

  it('imports only its own files, the generated client and the front-end packages', () => {
    expect(strayImports(sources)).toEqual([]);
  });

  it('opens no connection, store or HTML sink of its own', () => {
    expect(forbiddenUses(sources)).toEqual([]);
  });

  it('catches a made-up breach of each rule', () => {
    const at = (text: string): Source[] => [{ file: path.join(CONSOLE, 'x.tsx'), text }];
    expect(strayImports(at("import { ApiError } from '../src/common/errors.js';"))).toEqual([`${path.join('console', 'x.tsx')}: ../src/common/errors.js`]);
    expect(strayImports(at("import axios from 'axios';"))).toHaveLength(1);
    expect(forbiddenUses(at("await fetch('/api/v2/projects');"))).toHaveLength(1);
    expect(forbiddenUses(at("window.localStorage.setItem('k', key);"))).toHaveLength(1);
    expect(forbiddenUses(at('document.cookie = key;'))).toHaveLength(1);
    expect(forbiddenUses(at('const x = <div dangerouslySetInnerHTML={{ __html: s }} />;'))).toHaveLength(1);
    expect(forbiddenUses(at('// fetch is mentioned in a comment only\nconst s = "fetch";'))).toEqual([]);
  });
});
