import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/** Where Swagger UI and the OpenAPI document are served (`/api/docs`, its assets, `/api/docs-json`, `/api/docs-yaml`). */
export const DOCS_PATH = '/api/docs';

/** Where the console is served (`/console`, its assets under `/console/assets/`). */
export const CONSOLE_PATH = '/console';

/**
 * Content-Security-Policy of every response but the docs: nothing may load, nothing may frame it. The API
 * answers JSON; should a browser ever render a response, it runs nothing. Pages that render HTML of their
 * own (the provider's transfer page) set their own policy over this one.
 */
const API_CSP: Record<string, string[]> = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/**
 * Swagger UI's policy (@nestjs/swagger serving swagger-ui-dist): its page loads swagger-ui.css, the bundle,
 * the preset and swagger-ui-init.js from this server, and has no inline script, so scripts are 'self' only.
 * The page has inline <style> blocks and the UI sets style attributes, hence 'unsafe-inline' for styles
 * (styles cannot run code). Its icons are data: URIs; "Try it out" calls this origin. No framing.
 */
const DOCS_CSP: Record<string, string[]> = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
};

/**
 * The console's policy: its page, script and stylesheet come from this server only, with no inline script or style and
 * no eval; it calls this origin's API (connect-src 'self'); it may be framed by nothing and submits no form anywhere.
 */
const CONSOLE_CSP: Record<string, string[]> = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'connect-src': ["'self'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
};

function options(directives: Record<string, string[]>): HelmetOptions {
  return {
    contentSecurityPolicy: { useDefaults: false, directives },
    frameguard: { action: 'deny' },
    // HSTS belongs to whoever terminates TLS: the server itself speaks plain HTTP (on localhost by default),
    // and pinning HTTPS for a host and its subdomains for a year is an operator's decision, not a default.
    strictTransportSecurity: false,
  };
}

/** The headers that go on every response, whatever answers it (also the webhook receiver, which runs ahead of Express). */
export const BASELINE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/**
 * helmet's headers on every response of the application: X-Content-Type-Options nosniff, X-Frame-Options
 * DENY, a Content-Security-Policy with frame-ancestors 'none' (Swagger UI's under DOCS_PATH, the console's under
 * CONSOLE_PATH, the strictest elsewhere), Referrer-Policy no-referrer, Cross-Origin-Opener/Resource-Policy same-origin and the rest of
 * helmet's defaults, without HSTS. CORS headers (the embedded provider's) are not touched.
 */
export function securityHeaders(): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  const api = helmet(options(API_CSP));
  const docs = helmet(options(DOCS_CSP));
  const console = helmet(options(CONSOLE_CSP));
  return (req, res, next) => {
    const url = req.url ?? '';
    // The docs also own `/api/docs-json` and `/api/docs-yaml`.
    if (isUnder(url, DOCS_PATH, '/?-')) return docs(req, res, next);
    if (isUnder(url, CONSOLE_PATH, '/?')) return console(req, res, next);
    api(req, res, next);
  };
}

/** Whether `url` is `base` itself or continues it with one of the characters of `separators`. */
function isUnder(url: string, base: string, separators: string): boolean {
  return url.startsWith(base) && (url.length === base.length || separators.includes(url[base.length]));
}
