import type { OutboundUrlPolicy } from '../../common/outbound-url-policy.js';

/** What a refused webhook URL is answered with (never the resolved address: that is for the logs). */
export const WEBHOOK_URL_NOT_ALLOWED =
  'webhook_url must be an https URL of a server on a public address: loopback, private, link-local and cloud metadata ' +
  'addresses (and names resolving to them) are refused unless the operator allows them (OUTBOUND_ALLOWED_HOSTS)';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * Why a webhook URL may not be delivered to, judged without a lookup (undefined when it may, as far as can be told
 * before connecting): an absolute URL, no credentials in it, https unless the operator allows the host
 * (OUTBOUND_ALLOWED_HOSTS, e.g. a receiver on a private network), and not an address or name the outbound policy
 * refuses outright. Used at save time (the settings API) and before every delivery (the row may have been
 * edited in SQL); the connection itself is checked again, after DNS, by OutboundHttp.
 */
export function webhookTargetProblem(policy: OutboundUrlPolicy, url: string): string | undefined {
  if (url.length > MAX_WEBHOOK_URL_LENGTH) return `webhook_url is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'webhook_url is not an absolute URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'webhook_url must be an https URL';
  if (u.username !== '' || u.password !== '') return 'webhook_url must not carry credentials';
  const decision = policy.checkUrl(u);
  if (decision.verdict === 'refuse') return WEBHOOK_URL_NOT_ALLOWED;
  // The product itself (PUBLIC_URL) and STACK_AUTH_URL are trusted destinations of the operator's own calls, not of a
  // tenant's: a webhook aimed at them would make this server POST to its own (or its provider's) internal routes.
  if (decision.verdict === 'allow' && decision.via === 'trusted-origin') return WEBHOOK_URL_NOT_ALLOWED;
  const operatorAllowed = decision.verdict === 'allow' ? decision.via !== 'public' : decision.nameAllowed;
  if (u.protocol === 'http:' && !operatorAllowed) return 'webhook_url must be an https URL (http only for hosts the operator allows in OUTBOUND_ALLOWED_HOSTS)';
  return undefined;
}
