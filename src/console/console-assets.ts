import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import { ApiError, ErrorCode } from '../common/errors.js';

/**
 * Where the build writes the console (scripts/build.mjs bundles console/ into it): dist/console of the checkout this
 * module belongs to, whether it runs compiled (dist/src/console) or from source under Jest (src/console).
 */
export const CONSOLE_DIST = path.join(packageRoot(path.dirname(fileURLToPath(import.meta.url))), 'dist', 'console');

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The files of the built console, by the name they are served under. */
const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.js.map': 'application/json; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  /** A strong validator of the content (the files change only with a new build). */
  etag: string;
}

/**
 * The built console, read once from dist/console and kept in memory (a few tens of KB): nothing is read from disk per
 * request, and only the names in FILES are ever served (no path from the request reaches the file system).
 */
@Injectable()
export class ConsoleAssets {
  private readonly cache = new Map<string, ConsoleAsset>();
  protected readonly dir: string = CONSOLE_DIST;

  /** The asset called `name`, or 404; 503 when the console was not built (a checkout without `npm install`). */
  get(name: string): ConsoleAsset {
    const contentType = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
    if (!contentType) throw new ApiError(ErrorCode.NotFound, 'not found');
    let asset = this.cache.get(name);
    if (!asset) {
      let body: Buffer;
      try {
        body = fs.readFileSync(path.join(this.dir, name));
      } catch {
        throw new ApiError(ErrorCode.ServiceUnavailable, 'the console is not built: run `npm run build` (npm install does it)');
      }
      asset = { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
      this.cache.set(name, asset);
    }
    return asset;
  }
}
