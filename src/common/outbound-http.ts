import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { Agent, buildConnector, fetch as UndiciFetch, RequestInit, Response } from 'undici';
import type { AppConfig } from '../config/config.js';
import { OutboundDestinationRefused, OutboundUrlPolicy } from './outbound-url-policy.js';

/** Answers every address of a host name (the test seam: a fake resolver stands in for DNS). */
export type OutboundResolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

/** The system resolver (getaddrinfo, as Node's own connections use), every address. */
export const systemResolver: OutboundResolver = (hostname) => dns.promises.lookup(hostname, { all: true });

export interface OutboundHttpOptions {
  /** Resolves host names at connect time (default: the system resolver). */
  resolver?: OutboundResolver;
  /** Longest TCP/TLS connect, in ms (default 10 s; the caller's own timeout still bounds the whole request). */
  connectTimeoutMs?: number;
}

type NetLookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * HTTP to URLs that came from a person, under OutboundUrlPolicy: the one place the rule is enforced, for the stack
 * adapter's client today and for any later sender (webhook targets) tomorrow.
 *
 * Why an undici dispatcher with its own connector: the decision has to be taken on the address the socket is
 * actually opened to, or a name that answers a public address when checked and a private one when connected
 * (DNS rebinding) slips through. Node's http.Agent `lookup` hook would do for names, but net.connect skips
 * `lookup` for IP literals and the client here is fetch, not node:http; `request-filtering-agent` is built for
 * http.Agent too, and checks the address only after the TCP connection exists. An undici connector sees every
 * connection before it is opened: it refuses IP literals and metadata names outright, and resolves names
 * through a `lookup` that checks EVERY address and hands net.connect only checked ones, so the address
 * connected to is always one that was checked (in the same call; there is no second resolution to race).
 * Trusted origins (operator configuration) connect as usual. Redirects are the caller's to refuse (the stack
 * client uses `redirect: 'error'`); a followed redirect would pass through this connector all the same.
 * Proxies from the environment are not used (a proxy would make the connected address the proxy's).
 */
export class OutboundHttp {
  private readonly resolver: OutboundResolver;
  private readonly connectTimeoutMs: number;
  /** undici and the guarded dispatcher, loaded on the first request (most processes start without making one). */
  private client?: Promise<{ fetch: typeof UndiciFetch; dispatcher: Agent }>;

  constructor(
    readonly policy: OutboundUrlPolicy,
    options: OutboundHttpOptions = {},
  ) {
    this.resolver = options.resolver ?? systemResolver;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  private connection(): Promise<{ fetch: typeof UndiciFetch; dispatcher: Agent }> {
    this.client ??= import('undici').then(({ Agent: AgentClass, buildConnector: connector, fetch }) => {
      const timeout = this.connectTimeoutMs;
      const plain = connector({ timeout });
      const checked = connector({ timeout, lookup: (hostname: string, opts: LookupOptions, callback: NetLookupCallback) => this.lookup(hostname, opts, callback) });
      const connect: buildConnector.connector = (target, callback) => {
        const decision = this.policy.checkTarget(target.protocol, target.hostname, target.port);
        if (decision.verdict === 'refuse') return callback(decision.error, null);
        // An IP literal that passed (net.connect would not call `lookup` for it), or a trusted origin.
        if (decision.verdict === 'allow') return plain(target, callback);
        return checked(target, callback);
      };
      return { fetch, dispatcher: new AgentClass({ connect }) };
    });
    return this.client;
  }

  /** From the configuration: OUTBOUND_ALLOWED_HOSTS, and the embedded provider's and STACK_AUTH_URL's origins as trusted. */
  static forConfig(config: Pick<AppConfig, 'publicUrl' | 'stackAuthUrl' | 'outboundAllowedHosts'>, options: OutboundHttpOptions = {}): OutboundHttp {
    return new OutboundHttp(outboundPolicyForConfig(config), options);
  }

  /** fetch through the guarded dispatcher. A refused destination rejects with an OutboundDestinationRefused in the cause chain. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const decision = this.policy.checkUrl(url);
    if (decision.verdict === 'refuse') throw decision.error; // also keeps data:, blob: and file: URLs out of fetch
    const { fetch, dispatcher } = await this.connection();
    return fetch(url, { ...init, dispatcher });
  }

  /**
   * Validation ahead of use (e.g. when a URL is registered): the same rules, resolving the name now. Throws
   * OutboundDestinationRefused (a name that does not resolve is refused too). Passing says nothing about later
   * connections: those are checked again when they are made.
   */
  async assertAllowed(url: string): Promise<void> {
    const decision = this.policy.checkUrl(url);
    if (decision.verdict === 'refuse') throw decision.error;
    if (decision.verdict === 'allow') return;
    try {
      await this.resolveChecked(decision.host);
    } catch (err) {
      if (err instanceof OutboundDestinationRefused) throw err;
      throw new OutboundDestinationRefused(decision.host, 'the name does not resolve');
    }
  }

  /**
   * A host name resolved now with EVERY address checked (one refused address refuses the name: it throws the
   * OutboundDestinationRefused; a failed lookup rejects with the resolver's error). Connect only to an address it
   * answers, never to the name again (DNS rebinding): the connector's lookup does, and so does the SMTP sender.
   */
  async resolveChecked(hostname: string): Promise<readonly { address: string; family: number }[]> {
    const found = await this.resolver(hostname);
    const refusal = this.policy.checkResolved(hostname, found.map((a) => a.address));
    if (refusal) throw refusal;
    return found;
  }

  /** Closes the pooled connections (Nest calls it at shutdown when this is a provider). */
  async onApplicationShutdown(): Promise<void> {
    if (this.client) await (await this.client).dispatcher.close();
  }

  /** net.connect's `lookup` for names: every address checked; only checked addresses are connected to. */
  private lookup(hostname: string, opts: LookupOptions, callback: NetLookupCallback): void {
    this.resolveChecked(hostname).then(
      (found) => {
        const family = opts.family === 4 || opts.family === 6 ? opts.family : undefined;
        const usable = found.filter((a) => family === undefined || a.family === family).map((a) => ({ address: a.address, family: a.family }));
        if (usable.length === 0) {
          return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '');
        }
        if (opts.all) return callback(null, usable);
        return callback(null, usable[0].address, usable[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  }
}

/** The policy of the configuration (see OutboundHttp.forConfig). */
export function outboundPolicyForConfig(config: Pick<AppConfig, 'publicUrl' | 'stackAuthUrl' | 'outboundAllowedHosts'>): OutboundUrlPolicy {
  return new OutboundUrlPolicy({
    allow: config.outboundAllowedHosts,
    trustedOrigins: [config.publicUrl, ...(config.stackAuthUrl ? [config.stackAuthUrl] : [])],
  });
}
