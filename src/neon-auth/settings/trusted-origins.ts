import { trustedOriginForm } from '../../better-auth/project-config.js';
import { ApiError } from '../../common/errors.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The origin a trusted domain names, `http(s)://host[:port]`, lower-cased (IDNs in punycode), no trailing slash: what
 * it is compared with (the domain itself is kept as given).
 * Refused (400 naming `field`): anything that is not a full http(s) origin (a bare host, a path, a query, a fragment,
 * credentials), and wildcards other than one leading `*.` label over at least two more labels (`https://*.example.app`;
 * `https://*.app` would trust a whole top-level domain).
 */
export function normalizeTrustedOrigin(input: string, field: string): string {
  const refuse = (why: string) => ApiError.validation(`${field} must be a full http(s) origin such as https://app.example.com (${why})`);
  if (/[?#\s\\]/.test(input)) throw refuse('no query, fragment or spaces');
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse(`scheme ${url.protocol} is not http or https`);
  if (url.username || url.password) throw refuse('no credentials');
  if (url.pathname !== '/' || /^https?:\/\/[^/]+\/./i.test(input)) throw refuse('no path');
  const host = url.hostname;
  if (!host.startsWith('[')) {
    const labels = host.split('.');
    labels.forEach((label, i) => {
      if (label === '*' && i === 0) {
        if (labels.length < 3) throw refuse('a wildcard needs a domain under it, as in https://*.example.app');
        return;
      }
      if (!LABEL.test(label)) throw refuse(label.includes('*') ? 'a wildcard may only be a whole leading label' : `invalid host ${host}`);
    });
  }
  return trustedOriginForm(url.href);
}
