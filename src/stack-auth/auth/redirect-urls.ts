import type { StackProjectConfig } from '../entities/stack-project.entity.js';

/** Parses `value` as an absolute URL, or null. */
export function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** localhost, *.localhost, 127.x.x.x and ::1 (Stack Auth's `isLocalhost`). */
export function isLocalhost(url: URL): boolean {
  const host = url.hostname;
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1';
}

function hostWithPort(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  return port ? `${url.hostname}:${port}` : url.hostname;
}

function isDefaultPort(url: URL): boolean {
  return !url.port || (url.protocol === 'https:' && url.port === '443') || (url.protocol === 'http:' && url.port === '80');
}

/** `*` matches within one DNS label, `**` across labels. */
function matchHostnamePattern(pattern: string, hostname: string): boolean {
  if (!pattern.includes('*')) return pattern === hostname;
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const source = escaped.replace(/\*\*/g, '\u0000').replace(/\*/g, '[^.]*').replace(/\u0000/g, '.*');
  return new RegExp(`^${source}$`).test(hostname);
}

function matchesDomain(url: URL, pattern: string, handlerPath: string): boolean {
  const base = pattern.includes('*') ? null : parseUrl(pattern);
  if (!base) {
    const m = /^([^:]+:\/\/)([^/]*)(.*)$/.exec(pattern);
    if (!m) return false;
    const [, protocol, hostPattern, basePath] = m;
    if (`${url.protocol}//` !== protocol) return false;
    const hostOk = hostPattern.includes(':')
      ? matchHostnamePattern(hostPattern, hostWithPort(url))
      : matchHostnamePattern(hostPattern, url.hostname) && isDefaultPort(url);
    if (!hostOk) return false;
    const fullPath = basePath === '/' ? handlerPath : basePath + handlerPath;
    return url.pathname.startsWith(fullPath || '/');
  }
  return base.protocol === url.protocol && base.hostname === url.hostname && hostWithPort(base) === hostWithPort(url) && url.pathname.startsWith(handlerPath || '/');
}

/**
 * Stack Auth's `validateRedirectUrl`: a URL is trusted when it is on localhost and the project allows
 * localhost, or when it lies under one of the project's trusted domains (wildcards allowed) and handler path.
 */
export function isTrustedRedirectUrl(value: string, config: StackProjectConfig): boolean {
  const url = parseUrl(value);
  if (!url) return false;
  if (config.allow_localhost && isLocalhost(url)) return true;
  return (config.domains ?? []).some((d) => !!d.domain && matchesDomain(url, d.domain, d.handler_path || '/'));
}
