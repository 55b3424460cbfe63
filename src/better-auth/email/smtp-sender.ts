import type { OutboundHttp } from '../../common/outbound-http.js';
import { isPublicAddress, normalizeHost, OutboundDestinationRefused, type TargetDecision } from '../../common/outbound-url-policy.js';
import { withTimeout } from '../../common/with-timeout.js';

/** A branch's SMTP server with its password in plain text (opened from the sealed row, or given to a test). */
export interface SmtpServer {
  host: string;
  port: number;
  username: string;
  password: string;
  senderEmail: string;
  senderName: string;
}

export interface SmtpMessage {
  to: string;
  subject: string;
  text: string;
}

/** Neon's SendNeonAuthTestEmailResponse. */
export interface SmtpTestResult {
  success: boolean;
  error_message?: string;
}

/**
 * How long each step may take. connect: the TCP (or implicit TLS) connection, and the DNS lookup; greeting: the
 * server's 220 and a STARTTLS handshake; socket: any silence after that; total: the whole conversation (a server
 * that drips one byte every few seconds still ends here).
 */
export interface SmtpTimeouts {
  connectMs: number;
  greetingMs: number;
  socketMs: number;
  totalMs: number;
}

export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = { connectMs: 10_000, greetingMs: 10_000, socketMs: 10_000, totalMs: 30_000 };

/** What went wrong, in categories a caller can act on. */
export type SmtpFailureKind =
  | 'configuration'
  | 'destination_refused'
  | 'dns'
  | 'connection_refused'
  | 'unreachable'
  | 'timeout'
  | 'tls_certificate'
  | 'tls'
  | 'authentication'
  | 'sender_refused'
  | 'recipient_refused'
  | 'message_refused'
  | 'connection_closed'
  | 'failed';

/**
 * A delivery that did not happen. `reason` is plain words meant for whoever configured the server (and, in Better
 * Auth's answers, for end users): it never names a resolved address nor the password. `serverReply` is the SMTP
 * server's own answer when there is one, sanitized (printable, at most 200 characters, the password and its base64
 * forms cut out): shown by the test, kept out of end users' answers. `cause` (the library's error) is for no one:
 * it is not logged as is.
 */
export class SmtpDeliveryError extends Error {
  constructor(
    readonly kind: SmtpFailureKind,
    readonly reason: string,
    readonly serverReply?: string,
    /** nodemailer's or the system's error code (ECONNREFUSED, EAUTH, DEPTH_ZERO_SELF_SIGNED_CERT, ...). */
    readonly code?: string,
    /** Only for logs: the outbound rule that refused the destination (it may name a resolved address). */
    readonly policyReason?: string,
  ) {
    super(serverReply ? `${reason} (the server answered: ${serverReply})` : reason);
    this.name = 'SmtpDeliveryError';
  }
}

export interface SmtpSenderOptions {
  timeouts?: Partial<SmtpTimeouts>;
  /** Certificates (PEM) trusted in place of Node's bundled roots (default: the bundled roots). */
  ca?: string[];
}

const TEST_SUBJECT = 'Neon Auth test e-mail';
const TEST_TEXT = 'This is a test e-mail from Neon Auth. Your e-mail provider settings work: verification codes, links and invitations will be sent through this server.';

/**
 * Sends mail through a branch's own SMTP server with nodemailer, under the outbound rule (OutboundHttp's policy and resolve-and-check): the
 * host is a destination a person chose, so it is checked before anything is opened, and a name is resolved here,
 * EVERY address checked, and nodemailer connected to the checked address (never to the name, which it would resolve
 * again: DNS rebinding), with the name as TLS server name so SNI and the certificate check still use the name.
 *
 * TLS: implicit on port 465; elsewhere STARTTLS whenever the server offers it (a failed upgrade fails the send, never
 * falls back to plain text); certificates verified (TLS 1.2 or newer). With a username and a password the client
 * authenticates, even when the server does not advertise AUTH (the credentials are meant to be used: a server that
 * cannot take them fails the send instead of relaying unauthenticated). One connection per message, closed after it.
 */
export class SmtpSender {
  private readonly ca?: string[];
  readonly timeouts: SmtpTimeouts;

  constructor(
    /** The outgoing-request guard (its policy and its resolve-and-check of names). */
    private readonly outbound: OutboundHttp,
    options: SmtpSenderOptions = {},
  ) {
    this.timeouts = { ...DEFAULT_SMTP_TIMEOUTS, ...options.timeouts };
    this.ca = options.ca;
  }

  /** Sends one message; throws SmtpDeliveryError (and nothing else) when it was not accepted. */
  async send(server: SmtpServer, message: SmtpMessage): Promise<void> {
    try {
      await this.attempt(server, message);
    } catch (err) {
      throw err instanceof SmtpDeliveryError ? err : classify(err, server, this.timeouts);
    }
  }

  /**
   * A real SMTP conversation with the given settings (connect, TLS as offered, AUTH, MAIL FROM, RCPT TO, DATA with a
   * short test message). A failure is an answer, not an exception: `{success: false, error_message}`.
   */
  async test(server: SmtpServer, recipient: string): Promise<SmtpTestResult> {
    try {
      await this.send(server, { to: recipient, subject: TEST_SUBJECT, text: TEST_TEXT });
      return { success: true };
    } catch (err) {
      return { success: false, error_message: (err as SmtpDeliveryError).message };
    }
  }

  private async attempt(server: SmtpServer, message: SmtpMessage): Promise<void> {
    checkSettings(server, message);
    const deadline = AbortSignal.timeout(this.timeouts.totalMs);
    const target = await this.destination(server.host, server.port);
    const { createTransport } = await import('nodemailer');
    const auth = server.username !== '' && server.password !== '' ? { user: server.username, pass: server.password } : undefined;
    const transport = createTransport({
      host: target.address,
      port: server.port,
      secure: server.port === 465,
      servername: target.servername,
      tls: { servername: target.servername, minVersion: 'TLSv1.2', rejectUnauthorized: true, ...(this.ca ? { ca: this.ca } : {}) },
      auth,
      forceAuth: auth !== undefined,
      // Credentials never cross the network in clear: without TLS (port 465) the server must offer STARTTLS, or the
      // conversation stops (a STARTTLS stripped on the way cannot downgrade it). A server the operator allows by
      // name or address (OUTBOUND_ALLOWED_HOSTS: a relay on their own network) may still take them in clear.
      requireTLS: auth !== undefined && !target.operatorAllowed,
      connectionTimeout: this.timeouts.connectMs,
      greetingTimeout: this.timeouts.greetingMs,
      socketTimeout: this.timeouts.socketMs,
      dnsTimeout: this.timeouts.connectMs,
      logger: false,
      debug: false,
      transactionLog: false,
    });
    try {
      await transport.sendMail({
        from: server.senderName ? { name: server.senderName, address: server.senderEmail } : server.senderEmail,
        to: message.to,
        subject: message.subject,
        text: message.text,
        signal: deadline,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (err) {
      throw classify(err, server, this.timeouts);
    } finally {
      transport.close();
    }
  }

  /** The address to connect to (checked by the outbound rule) and the TLS server name (the host name, if one). */
  private async destination(host: string, port: number): Promise<{ address: string; servername?: string; operatorAllowed: boolean }> {
    const decision = this.outbound.policy.checkTarget('smtp:', host, port);
    if (decision.verdict === 'refuse') throw refused(host, decision.error);
    // An IP literal the rule lets through (there are no trusted origins for smtp:).
    if (decision.verdict === 'allow') return { address: normalizeHost(host), operatorAllowed: operatorAllowedServer(decision, [normalizeHost(host)]) };
    let found: readonly { address: string }[];
    try {
      found = await withTimeout(this.outbound.resolveChecked(decision.host), this.timeouts.connectMs);
    } catch (err) {
      if (err instanceof OutboundDestinationRefused) throw refused(host, err);
      throw new SmtpDeliveryError('dns', `the host name ${decision.host} does not resolve`, undefined, 'EDNS');
    }
    return { address: found[0].address, servername: decision.host, operatorAllowed: operatorAllowedServer(decision, found.map((a) => a.address)) };
  }
}

/**
 * Whether the operator allowed this SMTP server explicitly (OUTBOUND_ALLOWED_HOSTS names it, or lists the addresses
 * it is at): only such a server may take a login without TLS. A public server never may.
 */
export function operatorAllowedServer(decision: TargetDecision, addresses: readonly string[]): boolean {
  if (decision.verdict === 'refuse') return false;
  if (decision.verdict === 'resolve' && decision.nameAllowed) return true;
  return addresses.length > 0 && addresses.every((a) => !isPublicAddress(a));
}

function checkSettings(server: SmtpServer, message: SmtpMessage): void {
  const bad = (what: string) => new SmtpDeliveryError('configuration', what, undefined, 'ECONFIG');
  if (typeof server.host !== 'string' || server.host.trim() === '') throw bad('the e-mail provider has no host');
  if (!Number.isInteger(server.port) || server.port < 1 || server.port > 65535) throw bad('the e-mail provider\'s port is not between 1 and 65535');
  if (!isAddress(server.senderEmail)) throw bad('the e-mail provider has no valid sender e-mail address');
  if (/[\r\n]/.test(server.senderName)) throw bad('the sender name holds a line break');
  if (!isAddress(message.to)) throw bad('the recipient e-mail address is not valid');
}

function isAddress(value: string): boolean {
  return typeof value === 'string' && /^[^\s@<>]+@[^\s@<>]+$/.test(value);
}

function refused(host: string, error: OutboundDestinationRefused): SmtpDeliveryError {
  return new SmtpDeliveryError(
    'destination_refused',
    `the host ${host} is refused by the server's outbound rule: only public addresses may be reached unless the operator allows the host`,
    undefined,
    'OUTBOUND_DESTINATION_REFUSED',
    error.reason,
  );
}

/** What a certificate error code says, in plain words. */
const CERTIFICATE_PROBLEMS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a self-signed certificate that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its issuer is not trusted',
  UNABLE_TO_GET_ISSUER_CERT: 'its issuer is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its issuer is not trusted',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'it is not issued for this host name',
  CERT_REVOKED: 'it is revoked',
  CERT_UNTRUSTED: 'it is not trusted',
};

interface MailerError {
  name?: string;
  code?: string;
  originalCode?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  timeoutType?: string;
}

/** nodemailer's error (or a socket's) as a SmtpDeliveryError; the password never passes through. */
export function classify(err: unknown, server: Pick<SmtpServer, 'host' | 'port' | 'username' | 'password' | 'senderEmail'>, timeouts: SmtpTimeouts = DEFAULT_SMTP_TIMEOUTS): SmtpDeliveryError {
  if (err instanceof SmtpDeliveryError) return err;
  const e = (err !== null && typeof err === 'object' ? err : {}) as MailerError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const system = typeof e.originalCode === 'string' ? e.originalCode : code;
  const reply = sanitizeReply(e.response, server);
  const where = `${server.host}:${server.port}`;
  const fail = (kind: SmtpFailureKind, reason: string, withReply = false) => new SmtpDeliveryError(kind, reason, withReply ? reply : undefined, system ?? code);
  if (code === 'EABORT' || e.name === 'AbortError' || e.name === 'TimeoutError') {
    return fail('timeout', `the e-mail server at ${where} did not finish within ${seconds(timeouts.totalMs)} s`);
  }
  if (system && CERTIFICATE_PROBLEMS[system]) {
    return fail('tls_certificate', `the TLS certificate of ${server.host} is not accepted: ${CERTIFICATE_PROBLEMS[system]}`);
  }
  if (system && /CERT/.test(system)) return fail('tls_certificate', `the TLS certificate of ${server.host} is not accepted (${system})`);
  switch (system) {
    case 'ECONNREFUSED':
      return fail('connection_refused', `the connection to ${where} was refused (nothing listens there)`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return fail('unreachable', `${where} cannot be reached from this server`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return fail('dns', `the host name ${server.host} does not resolve`);
    case 'ECONNRESET':
    case 'EPIPE':
      return fail('connection_closed', `the e-mail server at ${where} closed the connection unexpectedly`);
  }
  switch (code) {
    case 'ETIMEDOUT':
    case 'ETIMEOUT':
      return fail('timeout', `the e-mail server at ${where} did not answer in time (${timeoutStep(e.timeoutType)})`);
    case 'ETLS':
      return fail('tls', `the TLS handshake with ${server.host} failed`, true);
    case 'EAUTH':
      return fail('authentication', `authentication failed: the e-mail server did not accept the username and password`, true);
    case 'ENOAUTH':
      return fail('authentication', 'authentication failed: no username or password is configured', true);
    case 'EENVELOPE':
      if (e.command === 'MAIL FROM') return fail('sender_refused', `the e-mail server refused the sender ${server.senderEmail}`, true);
      if (e.command === 'RCPT TO') return fail('recipient_refused', 'the e-mail server refused the recipient', true);
      return fail('message_refused', 'the e-mail server refused the message', true);
    case 'EMESSAGE':
      return fail('message_refused', 'the e-mail server refused the message', true);
    case 'EDNS':
      return fail('dns', `the host name ${server.host} does not resolve`);
    case 'ECONNECTION':
    case 'ESOCKET':
      if (system && /SSL|TLS/i.test(system)) return fail('tls', `the TLS handshake with ${server.host} failed`);
      return fail('connection_closed', `the connection to the e-mail server at ${where} failed or was closed unexpectedly`, true);
  }
  return fail('failed', 'the conversation with the e-mail server failed', true);
}

/** Which wait ran out (nodemailer's timeoutType). */
function timeoutStep(type: string | undefined): string {
  switch (type) {
    case 'CONNECT_TIMEOUT':
      return 'while connecting';
    case 'GREETING_TIMEOUT':
      return 'no greeting';
    case 'UPGRADE_TIMEOUT':
      return 'during the TLS handshake';
    default:
      return 'no reply';
  }
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/**
 * The server's reply as it may be shown: printable ASCII, at most 200 characters, without the password in any of
 * the forms it was sent in (plain, base64 as AUTH LOGIN sends it, base64 of AUTH PLAIN's `\0user\0password`), in
 * case a server echoes what it got.
 */
export function sanitizeReply(response: unknown, server: Pick<SmtpServer, 'username' | 'password'>): string | undefined {
  if (typeof response !== 'string' || response.trim() === '') return undefined;
  let text = response.replace(/\s+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
  for (const secret of secretForms(server)) text = text.split(secret).join('[redacted]');
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

function secretForms(server: Pick<SmtpServer, 'username' | 'password'>): string[] {
  const { username, password } = server;
  if (!password) return [];
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return [b64(`\u0000${username}\u0000${password}`), b64(`${username}\u0000${username}\u0000${password}`), b64(password), password].filter((s) => s !== '');
}

