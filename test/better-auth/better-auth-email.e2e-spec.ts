// The e-mail provider of the hosted Better Auth servers, against real SMTP servers (smtp-server on 127.0.0.1): a
// branch's `standard` provider sends through its SMTP server (From, AUTH, STARTTLS as offered, the outbound rule), the
// `shared` one writes to the local mailbox, and BetterAuthEmail.test() holds a real SMTP conversation whose failures
// are answers in plain words. The password is checked to appear in no log line and no answer.
import net from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { OutboundHttp } from '../../src/common/outbound-http.js';
import { OutboundUrlPolicy } from '../../src/common/outbound-url-policy.js';
import { SecretsService } from '../../src/common/secrets.js';
import { BetterAuthServers, type BranchAuthTenant } from '../../src/better-auth/better-auth-servers.js';
import { BetterAuthEmail } from '../../src/better-auth/email/better-auth-email.js';
import { SmtpSender, type SmtpServer } from '../../src/better-auth/email/smtp-sender.js';
import { sealedFieldContext, type EmailProviderConfig, type ProjectConfig, type ProjectSettings } from '../../src/better-auth/project-config.js';
import { createApiClient } from '@neondatabase/api-client';
import { api } from '../helpers/fixtures.js';
import { neonctl } from '../helpers/neonctl.js';
import { freePort } from '../helpers/server-process.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { betterAuthClient, betterAuthProject, CookieJar } from './better-auth-helpers.js';
import { TEST_TLS_CERT, TEST_TLS_KEY } from './smtp-tls-fixture.js';

const USERNAME = 'mailer';
const PASSWORD = 'smtp-Pa55word-only-the-server-knows';
const WRONG_PASSWORD = 'not-the-Pa55word-at-all';
const SENDER = 'auth@acme.test';
const SENDER_NAME = 'Acme Auth';

interface Received {
  user: unknown;
  secure: boolean;
  servername: string | false | null | undefined;
  mailFrom: string;
  rcptTo: string[];
  headers: Map<string, string>;
  body: string;
}

/** An SMTP server on 127.0.0.1 keeping what it receives. */
class TestSmtp {
  readonly received: Received[] = [];
  readonly sni: string[] = [];
  readonly logins: { username?: string; password?: string | null }[] = [];
  private server!: SMTPServer;
  port = 0;

  constructor(private readonly options: SMTPServerOptions = {}) {}

  async start(): Promise<this> {
    this.server = new SMTPServer({
      logger: false,
      disableReverseLookup: true,
      ...this.options,
      SNICallback: (name, cb) => {
        this.sni.push(name);
        cb(null, undefined);
      },
      onAuth: (auth, _session, cb) => {
        this.logins.push({ username: auth.username, password: auth.password });
        // A careless server that repeats the password it got in its refusal: the answers must not.
        if (auth.username === USERNAME && auth.password === PASSWORD) cb(null, { user: auth.username });
        else cb(Object.assign(new Error(`Invalid credentials for ${auth.username}: ${auth.password}`), { responseCode: 535 }));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.received.push(parse(Buffer.concat(chunks).toString('latin1'), session));
          cb(null);
        });
      },
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as net.AddressInfo).port;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The messages to `to` received so far (waiting a little for the first one). */
  async to(to: string, timeoutMs = 5000): Promise<Received[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.filter((m) => m.rcptTo.includes(to));
      if (found.length > 0 || Date.now() > until) return found;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Headers (unfolded, names in lower case) and the text body (quoted-printable decoded) of a received message. */
function parse(raw: string, session: SMTPServerSession): Received {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  if (headers.get('content-transfer-encoding')?.toLowerCase() === 'quoted-printable') {
    body = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return {
    user: session.user,
    secure: session.secure,
    servername: session.servername,
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
    headers,
    body: Buffer.from(body, 'latin1').toString('utf8'),
  };
}

function settingsOf(c: ProjectConfig): ProjectSettings {
  return { name: c.name, trustedOrigins: c.trustedOrigins, allowLocalhost: c.allowLocalhost, socialProviders: c.socialProviders, emailProvider: c.emailProvider, emailAndPassword: c.emailAndPassword, plugins: c.plugins, webhook: c.webhook };
}

describe('Better Auth e-mail provider (real SMTP)', () => {
  let t: TestApp;
  const logs: string[] = [];
  /** Every answer a test saw, checked for the password at the end. */
  const answers: string[] = [];
  let smtp: TestSmtp;
  let tlsSmtp: TestSmtp;
  let tenant: BranchAuthTenant;
  let baseUrl: string;
  let projectId: string;
  let branchId: string;
  let servers: BetterAuthServers;
  let email: BetterAuthEmail;
  let secrets: SecretsService;
  let stamp = 0;
  const address = (label: string) => `${label}-${Date.now()}-${++stamp}@example.com`;

  beforeAll(async () => {
    smtp = await new TestSmtp({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true }).start();
    // Demands TLS (no AUTH before STARTTLS) and presents a self-signed certificate.
    tlsSmtp = await new TestSmtp({ key: TEST_TLS_KEY, cert: TEST_TLS_CERT, allowInsecureAuth: false }).start();
    t = await startTestApp({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', LOG_LEVEL: 'debug' }, { logDestination: { write: (line: string) => void logs.push(line) } });
    const p = await betterAuthProject(t, 'email');
    baseUrl = p.auth.base_url;
    projectId = p.projectId;
    branchId = p.defaultBranchId;
    servers = t.app.get(BetterAuthServers);
    email = t.app.get(BetterAuthEmail);
    secrets = t.app.get(SecretsService);
    tenant = (await servers.tenantOf(branchId, 'neondb'))!;
    expect(tenant).toBeDefined();
  });

  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await tlsSmtp?.close();
  });

  /** Sealed for the server it is saved with (sealedFieldContext binds the password to host, port and login). */
  const seal = (plain: string, server: { host: string; port: number; username: string } = { host: '127.0.0.1', port: smtp.port, username: USERNAME }) =>
    secrets.encrypt(plain, sealedFieldContext('email_provider.password', server));
  const standard = (over: Partial<Extract<EmailProviderConfig, { type: 'standard' }>> = {}): EmailProviderConfig => {
    const fields = { host: '127.0.0.1', port: smtp.port, username: USERNAME, senderEmail: SENDER, senderName: SENDER_NAME, ...over };
    return { type: 'standard', ...fields, password: over.password ?? seal(PASSWORD, fields) };
  };
  const configure = (change: (c: ProjectSettings) => Partial<ProjectSettings>) => servers.updateSettings(tenant, (current) => ({ ...settingsOf(current), ...change(settingsOf(current)) }));
  const client = (jar = new CookieJar(t.baseUrl)) => betterAuthClient(baseUrl, jar);
  const mailbox = async (to?: string) => {
    const query = to ? `?to=${encodeURIComponent(to)}` : '';
    return (await api(t, t.adminKey).get(`/projects/${projectId}/branches/${branchId}/auth/mailbox${query}`).expect(200)).body.messages as { kind: string; to: string }[];
  };
  const goodServer = (over: Partial<SmtpServer> = {}): SmtpServer => ({ host: '127.0.0.1', port: smtp.port, username: USERNAME, password: PASSWORD, senderEmail: SENDER, senderName: SENDER_NAME, ...over });

  function expectFromConfigured(m: Received) {
    expect(m.mailFrom).toBe(SENDER);
    expect(m.headers.get('from')).toMatch(/^"?Acme Auth"? <auth@acme\.test>$/);
    expect(m.user).toBe(USERNAME);
  }

  describe('standard: the branch\'s SMTP server', () => {
    beforeAll(async () => {
      await configure((c) => ({
        emailProvider: standard(),
        emailAndPassword: { ...c.emailAndPassword, emailVerificationMethod: 'link' },
        plugins: {
          ...c.plugins,
          magicLink: { ...c.plugins.magicLink, enabled: true },
          organization: { ...c.plugins.organization, enabled: true, config: { ...c.plugins.organization.config, sendInvitationEmail: true } },
        },
      }));
    });

    it('sends an e-mail OTP (POST /email-otp/send-verification-otp) with the configured From, authenticated, and the code signs in', async () => {
      const to = address('otp');
      const res = await fetch(`${baseUrl}/email-otp/send-verification-otp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: t.baseUrl },
        body: JSON.stringify({ email: to, type: 'sign-in' }),
      });
      answers.push(await res.clone().text());
      expect(res.status).toBe(200);
      const [m] = await smtp.to(to);
      expect(m).toBeDefined();
      expectFromConfigured(m);
      expect(m.headers.get('to')).toBe(to);
      const otp = /one-time code is (\d+)/.exec(m.body)?.[1];
      expect(otp).toMatch(/^\d{6}$/);
      expect(m.headers.get('subject')).toBe(`Your email code: ${otp}`);
      const jar = new CookieJar(t.baseUrl);
      const signIn = await client(jar).signIn.emailOtp({ email: to, otp: otp! });
      expect(signIn.error).toBeNull();
      expect(jar.has('__Secure-neon-auth.session_token')).toBe(true);
    });

    it('sends a verification link, a magic link and an organization invitation the same way', async () => {
      const jar = new CookieJar(t.baseUrl);
      const c = client(jar);
      const owner = address('owner');
      expect((await c.signUp.email({ email: owner, password: 'correct horse battery', name: 'Owner' })).error).toBeNull();

      expect((await c.sendVerificationEmail({ email: owner, callbackURL: '/' })).error).toBeNull();
      const [verification] = await smtp.to(owner);
      expectFromConfigured(verification);
      expect(verification.headers.get('subject')).toBe('Verify your email e-mail');
      const link = /with this link: (\S+)/.exec(verification.body)?.[1];
      expect(link).toContain(`${baseUrl}/verify-email?token=`);
      // The link is the real one: following it verifies the address.
      const followed = await jar.fetch(link!);
      expect([200, 302]).toContain(followed.status);
      expect((await c.getSession({ query: { disableCookieCache: true } })).data?.user.emailVerified).toBe(true);

      const magicTo = address('magic');
      expect((await client().signIn.magicLink({ email: magicTo, callbackURL: '/' })).error).toBeNull();
      const [magic] = await smtp.to(magicTo);
      expectFromConfigured(magic);
      expect(magic.headers.get('subject')).toBe('Sign in to email');
      expect(magic.body).toContain(`${baseUrl}/magic-link/verify?token=`);

      const org = await c.organization.create({ name: 'Mail Org', slug: `mail-org-${stamp}-${Date.now()}` });
      expect(org.error).toBeNull();
      const invitee = address('invitee');
      const invited = await c.organization.inviteMember({ email: invitee, role: 'member', organizationId: org.data!.id });
      expect(invited.error).toBeNull();
      const [invitation] = await smtp.to(invitee);
      expectFromConfigured(invitation);
      expect(invitation.headers.get('subject')).toBe('You are invited to Mail Org');
      expect(invitation.body).toContain(`Invitation id: ${invited.data!.id}`);

      // Nothing of this went to the local mailbox.
      expect(await mailbox()).toEqual([]);
    });

    it('a message the SMTP server refuses: Better Auth answers 502 EMAIL_DELIVERY_FAILED where it awaits its sender, 200 where it hides delivery (OTP); nothing is received', async () => {
      await configure(() => ({ emailProvider: standard({ password: seal(WRONG_PASSWORD) }) }));
      const to = address('refused');
      const res = await fetch(`${baseUrl}/sign-in/magic-link`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: t.baseUrl },
        body: JSON.stringify({ email: to, callbackURL: '/' }),
      });
      const text = await res.text();
      answers.push(text);
      expect(res.status).toBe(502);
      expect(JSON.parse(text)).toMatchObject({ code: 'EMAIL_DELIVERY_FAILED', message: expect.stringMatching(/^The e-mail could not be sent: authentication failed/) });
      // The refusal (which repeated the password) is not in the answer.
      expect(text).not.toContain('Invalid credentials');

      const otp = await fetch(`${baseUrl}/email-otp/send-verification-otp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: t.baseUrl },
        body: JSON.stringify({ email: to, type: 'sign-in' }),
      });
      answers.push(await otp.clone().text());
      expect(otp.status).toBe(200);
      expect(await smtp.to(to, 300)).toEqual([]);
      expect(smtp.logins.at(-1)).toEqual({ username: USERNAME, password: WRONG_PASSWORD });
      expect(logs.join('\n')).toMatch(/the e-mail was not sent: authentication failed/);
    });

    it('a sealed password that does not open is logged and treated as none: the server, which wants AUTH, refuses the sender', async () => {
      await configure(() => ({ emailProvider: standard({ password: secrets.encrypt(PASSWORD, sealedFieldContext('social_providers.clientSecret')) }) }));
      const logins = smtp.logins.length;
      const res = await fetch(`${baseUrl}/sign-in/magic-link`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: t.baseUrl },
        body: JSON.stringify({ email: address('unsealed'), callbackURL: '/' }),
      });
      const text = await res.text();
      answers.push(text);
      expect(res.status).toBe(502);
      expect(JSON.parse(text).message).toMatch(/refused the sender auth@acme\.test/);
      expect(smtp.logins.length).toBe(logins); // no AUTH was tried
      expect(logs.join('\n')).toMatch(/email_provider\.password in neon_auth\.project_config does not decrypt/);
    });
  });

  it('shared: messages land in the local mailbox, none at the SMTP server', async () => {
    await configure(() => ({ emailProvider: { type: 'shared' } }));
    const to = address('shared');
    expect((await client().emailOtp.sendVerificationOtp({ email: to, type: 'sign-in' })).error).toBeNull();
    expect(await mailbox(to)).toEqual([expect.objectContaining({ kind: 'email_otp', to })]);
    expect(await smtp.to(to, 300)).toEqual([]);
  });

  describe('test(): a real SMTP conversation', () => {
    it('succeeds against a good server: AUTH with the credentials, MAIL FROM the sender, RCPT TO the recipient, a test message', async () => {
      const to = address('test-ok');
      expect(await email.test(goodServer(), to)).toEqual({ success: true });
      const [m] = await smtp.to(to);
      expectFromConfigured(m);
      expect(m.headers.get('subject')).toBe('Neon Auth test e-mail');
      expect(m.body).toContain('Your e-mail provider settings work');
    });

    it('testSaved() opens the sealed password of the stored provider', async () => {
      const to = address('test-saved');
      const provider = standard() as Extract<EmailProviderConfig, { type: 'standard' }>;
      expect(await email.testSaved(provider, to)).toEqual({ success: true });
      expect(await smtp.to(to)).toHaveLength(1);
    });

    it('answers the reason, in plain words, for wrong credentials, a refused recipient, a refused connection and a silent server', async () => {
      const wrong = await email.test(goodServer({ password: WRONG_PASSWORD }), address('test-wrong'));
      answers.push(JSON.stringify(wrong));
      expect(wrong).toEqual({ success: false, error_message: expect.stringMatching(/^authentication failed: the e-mail server did not accept the username and password \(the server answered: 535 .*\[redacted\]\)$/) });

      const recipient = await email.test(goodServer(), 'no spaces allowed@example.com');
      expect(recipient).toEqual({ success: false, error_message: 'the recipient e-mail address is not valid' });

      const port = await freePort();
      expect(await email.test(goodServer({ port }), address('test-refused'))).toEqual({
        success: false,
        error_message: `the connection to 127.0.0.1:${port} was refused (nothing listens there)`,
      });

      const silent = net.createServer(() => {});
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      try {
        const quick = new SmtpSender(new OutboundHttp(new OutboundUrlPolicy({ allow: [{ kind: 'ip', address: '127.0.0.1' }] })), { timeouts: { connectMs: 300, greetingMs: 300, socketMs: 5000, totalMs: 5000 } });
        const started = Date.now();
        const answer = await quick.test(goodServer({ port: (silent.address() as net.AddressInfo).port }), address('test-silent'));
        expect(answer).toEqual({ success: false, error_message: expect.stringMatching(/did not answer in time \(no greeting\)$/) });
        expect(Date.now() - started).toBeLessThan(1500);
      } finally {
        silent.close();
      }
    });

    it('a server that keeps talking without ever answering is cut off at the total deadline (no hang)', async () => {
      const sockets = new Set<net.Socket>();
      const drip = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.write('220 drip.test ESMTP\r\n');
        // EHLO is answered one continuation line at a time, never ending: no silence for the socket timeout to see.
        let timer: NodeJS.Timeout | undefined;
        socket.on('data', () => void (timer ??= setInterval(() => socket.write('250-still thinking\r\n'), 50)));
        socket.on('close', () => clearInterval(timer));
      });
      await new Promise<void>((r) => drip.listen(0, '127.0.0.1', () => r()));
      try {
        const quick = new SmtpSender(new OutboundHttp(new OutboundUrlPolicy({ allow: [{ kind: 'ip', address: '127.0.0.1' }] })), { timeouts: { connectMs: 300, greetingMs: 300, socketMs: 400, totalMs: 800 } });
        const started = Date.now();
        const answer = await quick.test(goodServer({ port: (drip.address() as net.AddressInfo).port }), address('test-drip'));
        expect(answer).toEqual({ success: false, error_message: `the e-mail server at 127.0.0.1:${(drip.address() as net.AddressInfo).port} did not finish within 0.8 s` });
        expect(Date.now() - started).toBeLessThan(2000);
      } finally {
        for (const s of sockets) s.destroy();
        drip.close();
      }
    });

    it('a server that demands TLS with a self-signed certificate: STARTTLS is tried and the certificate refused', async () => {
      const answer = await email.test(goodServer({ port: tlsSmtp.port }), address('test-tls'));
      expect(answer).toEqual({ success: false, error_message: 'the TLS certificate of 127.0.0.1 is not accepted: it is self-signed' });
      expect(tlsSmtp.received).toEqual([]);
      expect(tlsSmtp.logins).toEqual([]);
    });

    it('a name is resolved here and connected to by address, with the name as TLS server name: the certificate is checked against the name', async () => {
      const policy = new OutboundUrlPolicy({ allow: [{ kind: 'ip', address: '127.0.0.1' }] });
      const resolver = async () => [{ address: '127.0.0.1', family: 4 }];
      // The certificate trusted: STARTTLS, then AUTH over TLS, and the message delivered.
      const trusting = new SmtpSender(new OutboundHttp(policy, { resolver }), { ca: [TEST_TLS_CERT] });
      const to = address('test-starttls');
      expect(await trusting.test(goodServer({ host: 'localhost', port: tlsSmtp.port }), to)).toEqual({ success: true });
      const [m] = await tlsSmtp.to(to);
      expect(m).toMatchObject({ secure: true, servername: 'localhost', user: USERNAME, mailFrom: SENDER });
      // Another name for the same address: the certificate (issued for localhost) does not match it.
      const before = tlsSmtp.sni.length;
      expect(await trusting.test(goodServer({ host: 'mail.acme.test', port: tlsSmtp.port }), address('test-altname'))).toEqual({
        success: false,
        error_message: 'the TLS certificate of mail.acme.test is not accepted: it is not issued for this host name',
      });
      expect(tlsSmtp.sni.slice(before)).toEqual(['mail.acme.test']);
    });

    it('the outbound rule: loopback refused unless the operator allows it, and a name is judged on every address it resolves to (never named in the answer)', async () => {
      const received = smtp.received.length;
      const strict = new SmtpSender(new OutboundHttp(new OutboundUrlPolicy()));
      const loopback = await strict.test(goodServer(), address('test-loopback'));
      expect(loopback).toEqual({ success: false, error_message: expect.stringMatching(/^the host 127\.0\.0\.1 is refused by the server's outbound rule/) });
      const metadata = await strict.test(goodServer({ host: '169.254.169.254' }), address('test-metadata'));
      expect(metadata.success).toBe(false);
      expect(metadata.error_message).toMatch(/outbound rule/);

      // A public address and a private one: refused, and the private address is not told.
      const rebinding = new SmtpSender(
        new OutboundHttp(new OutboundUrlPolicy(), {
          resolver: async () => [
            { address: '93.184.215.14', family: 4 },
            { address: '10.1.2.3', family: 4 },
          ],
        }),
      );
      const mixed = await rebinding.test(goodServer({ host: 'smtp.acme.test' }), address('test-mixed'));
      expect(mixed).toEqual({ success: false, error_message: expect.stringMatching(/^the host smtp\.acme\.test is refused by the server's outbound rule/) });
      expect(mixed.error_message).not.toContain('10.1.2.3');
      const hidden = new SmtpSender(new OutboundHttp(new OutboundUrlPolicy(), { resolver: async () => [{ address: '127.0.0.1', family: 4 }] }));
      const named = await hidden.test(goodServer({ host: 'smtp.acme.test' }), address('test-named'));
      expect(named.success).toBe(false);
      expect(named.error_message).not.toContain('127.0.0.1');
      expect(smtp.received.length).toBe(received);

      // The app's own rule (OUTBOUND_ALLOWED_HOSTS=127.0.0.1) lets the same server through, but not the metadata address.
      expect((await email.test(goodServer({ host: '169.254.169.254' }), address('test-app-metadata'))).error_message).toMatch(/outbound rule/);
    });
  });

  describe('through the API: send_test_email, email_provider/test (api-client, neonctl)', () => {
    it('send_test_email (api-client) holds the conversation with the settings in the body: success, or the reason', async () => {
      const neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
      const to = address('api-test');
      const body = { host: '127.0.0.1', port: smtp.port, username: USERNAME, password: PASSWORD, sender_email: SENDER, sender_name: SENDER_NAME, recipient_email: to };
      const ok = await neon.sendNeonAuthTestEmail(projectId, branchId, body);
      expect([ok.status, ok.data]).toEqual([200, { success: true }]);
      expect(await smtp.to(to)).toHaveLength(1);
      const wrong = await neon.sendNeonAuthTestEmail(projectId, branchId, { ...body, password: WRONG_PASSWORD });
      answers.push(JSON.stringify(wrong.data));
      expect(wrong.status).toBe(200);
      expect(wrong.data.success).toBe(false);
      expect(wrong.data.error_message).toMatch(/authentication/i);
      expect(JSON.stringify(wrong.data)).not.toContain(WRONG_PASSWORD);
      const bad = await api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth/send_test_email`, { ...body, port: 0 });
      expect(bad.status).toBe(400);
    });

    it('neonctl config email-provider update --type standard, then test: the saved provider sends; shared: the API refuses, neonctl says so', async () => {
      const cli = (...args: string[]) => neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'config', 'email-provider', ...args, '--project-id', projectId]);
      const saved = await cli('update', '--type', 'standard', '--host', '127.0.0.1', '--port', String(smtp.port), '--username', USERNAME, '--password', PASSWORD, '--sender-email', SENDER, '--sender-name', SENDER_NAME);
      expect([saved.code, saved.stderr]).toEqual([0, '']);
      expect(saved.stdout).not.toContain(PASSWORD);
      const to = address('cli-test');
      const tested = await cli('test', '--recipient-email', to);
      expect([tested.code, tested.stderr]).toEqual([0, '']);
      expect(tested.stdout).toContain(`Test email dispatched to ${to} using the custom SMTP provider saved on this branch.`);
      expectFromConfigured((await smtp.to(to))[0]);

      await api(t, t.adminKey).patch(`/projects/${projectId}/branches/${branchId}/auth/email_provider`, { type: 'standard', port: tlsSmtp.port, password: PASSWORD }).expect(200);
      const failed = await cli('test', '--recipient-email', address('cli-tls'));
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('Test email could NOT be sent');
      expect(failed.stderr).toMatch(/Upstream error: .*certificate/i);

      await api(t, t.adminKey).patch(`/projects/${projectId}/branches/${branchId}/auth/email_provider`, { type: 'shared' }).expect(200);
      const shared = await cli('test', '--recipient-email', address('cli-shared'));
      expect(shared.code).toBe(1);
      expect(shared.stderr).toContain('the saved e-mail provider is the shared one');
    });
  });

  it('the password is in no log line and no answer', () => {
    const everything = [...logs, ...answers].join('\n');
    expect(logs.length).toBeGreaterThan(10);
    expect(answers.length).toBeGreaterThan(3);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    for (const secret of [PASSWORD, WRONG_PASSWORD, b64(PASSWORD), b64(WRONG_PASSWORD), b64(`\u0000${USERNAME}\u0000${PASSWORD}`), b64(`\u0000${USERNAME}\u0000${WRONG_PASSWORD}`)]) {
      expect(everything).not.toContain(secret);
    }
  });
});
