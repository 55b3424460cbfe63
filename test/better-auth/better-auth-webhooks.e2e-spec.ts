// Neon Auth's outgoing webhooks from the hosted Better Auth servers, against a real HTTP receiver on 127.0.0.1 (the
// app started with OUTBOUND_ALLOWED_HOSTS=127.0.0.1): Neon's envelope and headers, the detached JWS verified with jose
// against the branch's jwks_url, user.before_create (allow, refuse, fail-closed on a timeout and on 5xx), the retry
// rule, send.otp / send.magic_link in place of the mailbox, the non-blocking events after commit, the delivery log
// (secrets redacted) and its replay, and the outbound guard of webhook targets.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, createRemoteJWKSet, flattenedVerify, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose';
import { OutboundHttp } from '../../src/common/outbound-http.js';
import { OutboundUrlPolicy, parseOutboundAllowList } from '../../src/common/outbound-url-policy.js';
import { BetterAuthServers } from '../../src/better-auth/better-auth-servers.js';
import type { WebhookConfig } from '../../src/better-auth/project-config.js';
import { webhookTargetProblem } from '../../src/better-auth/webhooks/webhook-target.js';
import { sendWebhook } from '../../src/better-auth/webhooks/webhook-attempts.js';
import { api, newAccount, withClient } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';
import { betterAuthClient, betterAuthProject, CookieJar, type BetterAuthEnabled } from './better-auth-helpers.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, any>;
  at: number;
}

type Answer = { status?: number; body?: unknown; delayMs?: number };

/** A webhook receiver: records every POST, answers what `answer` says (200 `{}` by default). */
class Receiver {
  readonly requests: Received[] = [];
  answer: (r: Received) => Answer | Promise<Answer> = () => ({});
  private server!: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, any> = {};
        try {
          json = JSON.parse(body);
        } catch {
          // recorded as sent
        }
        const received: Received = { headers: req.headers, body, json, at: Date.now() };
        this.requests.push(received);
        const a = await this.answer(received);
        if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
        if (res.destroyed) return;
        res.writeHead(a.status ?? 200, { 'content-type': 'application/json' });
        res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? {}));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  of(type: string): Received[] {
    return this.requests.filter((r) => r.headers['x-neon-event-type'] === type);
  }

  /** The first request matching `match`, waiting for it up to `timeoutMs`. */
  async waitFor(match: (r: Received) => boolean, timeoutMs = 10_000): Promise<Received> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.requests.find(match);
      if (found) return found;
      if (Date.now() > until) throw new Error('the receiver got no such request');
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describe('Better Auth per branch: Neon Auth webhooks', () => {
  let t: TestApp;
  let auth: BetterAuthEnabled;
  let uri: string;
  let projectId: string;
  let branchId: string;
  let keys: ReturnType<typeof createRemoteJWKSet>;
  const receiver = new Receiver();
  let seq = 0;

  beforeAll(async () => {
    await receiver.start();
    t = await startTestApp({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
    const p = await betterAuthProject(t, 'webhooks');
    auth = p.auth;
    uri = p.uri;
    projectId = p.projectId;
    branchId = p.defaultBranchId;
    keys = createRemoteJWKSet(new URL(auth.jwks_url));
  });

  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  beforeEach(() => {
    receiver.requests.length = 0;
    receiver.answer = () => ({});
  });

  const uniqueEmail = (label: string) => `${label}-${Date.now()}-${++seq}@example.com`;
  const client = (jar = new CookieJar(t.baseUrl)) => betterAuthClient(auth.base_url, jar);

  /** Sets the branch's webhook_config (and optionally its plugins) through the settings method the API uses. */
  async function setWebhook(webhook: Partial<WebhookConfig>, plugins?: { phoneNumber?: boolean }): Promise<void> {
    const servers = t.app.get(BetterAuthServers);
    const tenant = await servers.tenantOf(branchId, 'neondb');
    await servers.updateSettings(tenant!, ({ id: _id, endpointId: _e, updatedAt: _u, ...settings }) => ({
      ...settings,
      plugins: plugins?.phoneNumber === undefined ? settings.plugins : { ...settings.plugins, phoneNumber: { ...settings.plugins.phoneNumber, enabled: plugins.phoneNumber } },
      webhook: { enabled: true, webhookUrl: receiver.url, enabledEvents: [], timeoutSeconds: 5, ...webhook },
    }));
  }

  /** Verifies X-Neon-Signature (detached JWS over `timestamp + "." + b64url(body)`) against the branch's jwks_url. */
  async function verifySignature(r: Received, body = r.body): Promise<JWSHeaderParameters> {
    const signature = String(r.headers['x-neon-signature']);
    const [protectedHeader, detached, sig] = signature.split('.');
    expect(detached).toBe('');
    const jws: FlattenedJWSInput = { protected: protectedHeader, payload: base64url.encode(`${r.headers['x-neon-timestamp']}.${base64url.encode(body)}`), signature: sig };
    return (await flattenedVerify(jws, keys)).protectedHeader!;
  }

  async function deliveries(eventType?: string): Promise<Record<string, any>[]> {
    const res = await api(t, t.adminKey)
      .get(`/projects/${projectId}/branches/${branchId}/auth/webhooks/deliveries${eventType ? `?event_type=${eventType}` : ''}`)
      .expect(200);
    return res.body.deliveries;
  }

  /** The log's delivery of an event, once it is no longer pending. */
  async function deliveryOf(eventId: string): Promise<Record<string, any>> {
    const until = Date.now() + 10_000;
    for (;;) {
      const d = (await deliveries()).find((x) => x.event_id === eventId && x.replay_of === null);
      if (d && d.status !== 'pending') return d;
      if (Date.now() > until) throw new Error(`no finished delivery of ${eventId}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const userRow = (email: string) => withClient(uri, async (db) => (await db.query(`SELECT id FROM neon_auth."user" WHERE email = $1`, [email])).rows);

  it('user.created arrives after the sign-up committed, in Neon\'s envelope, signed with the branch\'s JWKS key, without slowing the sign-up', async () => {
    await setWebhook({ enabledEvents: ['user.created'] });
    const email = uniqueEmail('created');
    let committed: unknown[] | undefined;
    receiver.answer = async (r) => {
      // The receiver looks the user up while answering: the row is there (the event is sent after commit).
      committed = await userRow(r.json.user?.email);
      return { delayMs: 1500 };
    };
    const started = Date.now();
    const signUp = await client().signUp.email({ email, password: 'correct horse battery', name: 'Ada Hook' });
    const took = Date.now() - started;
    expect(signUp.error).toBeNull();
    expect(took).toBeLessThan(1500); // the receiver's slow answer is not waited for
    const userId = signUp.data!.user.id;

    const r = await receiver.waitFor((x) => x.json.user?.id === userId);
    expect(r.headers).toMatchObject({
      'content-type': 'application/json',
      'x-neon-event-type': 'user.created',
      'x-neon-event-id': r.json.event_id,
      'x-neon-delivery-attempt': '1',
      'x-neon-timestamp': expect.stringMatching(/^\d{13}$/),
    });
    expect(Math.abs(Number(r.headers['x-neon-timestamp']) - r.at)).toBeLessThan(5000);
    expect(r.json).toEqual({
      event_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      event_type: 'user.created',
      timestamp: expect.any(String),
      context: { endpoint_id: branchId, project_name: expect.any(String) },
      user: { id: userId, email, name: 'Ada Hook', email_verified: false, created_at: expect.any(String) },
      event_data: { auth_provider: 'email', ip_address: '127.0.0.1', user_agent: r.json.event_data.user_agent },
    });
    expect(['string', 'object']).toContain(typeof r.json.event_data.user_agent);
    // The receiver's lookup runs while it answers: it may end after the request was seen.
    for (const until = Date.now() + 5000; committed === undefined && Date.now() < until; ) await new Promise((res) => setTimeout(res, 20));
    expect(committed).toEqual([{ id: userId }]);

    // The signature: Neon's header, the kid of a key jwks_url publishes, and it verifies only over the body as sent.
    const header = await verifySignature(r);
    expect(header).toEqual({ alg: 'EdDSA', typ: 'JWS', kid: r.headers['x-neon-signature-kid'] });
    const jwks = (await (await fetch(auth.jwks_url)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    await expect(verifySignature(r, r.body.replace('Ada Hook', 'Eve Hook'))).rejects.toThrow(/signature verification failed/);
  });

  it('user.before_create allows: the user is created with the id the event announced', async () => {
    await setWebhook({ enabledEvents: ['user.before_create', 'user.created'] });
    receiver.answer = (r) => (r.json.event_type === 'user.before_create' ? { body: { allowed: true } } : {});
    const email = uniqueEmail('allowed');
    const signUp = await client().signUp.email({ email, password: 'correct horse battery', name: 'Allowed' });
    expect(signUp.error).toBeNull();
    const before = receiver.of('user.before_create').find((r) => r.json.user.email === email)!;
    expect(before.json).toMatchObject({ user: { id: signUp.data!.user.id, email, name: 'Allowed' }, event_data: { auth_provider: 'email', ip_address: '127.0.0.1' } });
    await verifySignature(before);
    const created = await receiver.waitFor((r) => r.json.event_type === 'user.created' && r.json.user.email === email);
    expect(created.json.user.id).toBe(signUp.data!.user.id);
    expect(created.json.event_id).not.toBe(before.json.event_id);
    expect((await deliveryOf(before.json.event_id)).outcome).toBe('allowed');
  });

  it('user.before_create refuses: the receiver\'s error_message and error_code reach the client, and no user is created', async () => {
    await setWebhook({ enabledEvents: ['user.before_create', 'user.created'] });
    receiver.answer = () => ({ body: { allowed: false, error_message: 'Only corp.example addresses may sign up', error_code: 'DOMAIN_NOT_ALLOWED' } });
    const email = uniqueEmail('refused');
    const signUp = await client().signUp.email({ email, password: 'correct horse battery', name: 'Refused' });
    expect(signUp.data).toBeNull();
    expect(signUp.error).toMatchObject({ status: 400, code: 'DOMAIN_NOT_ALLOWED', message: 'Only corp.example addresses may sign up' });
    expect(await userRow(email)).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.of('user.created')).toEqual([]);
    const before = receiver.of('user.before_create')[0];
    expect((await deliveryOf(before.json.event_id)).outcome).toBe('refused (DOMAIN_NOT_ALLOWED)');
  });

  it('user.before_create also guards the management API: a refusal is its 400 with the receiver\'s message, a failed check its 503', async () => {
    await setWebhook({ enabledEvents: ['user.before_create'] });
    const create = (email: string) => api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth/users`, { email, name: 'Via API' });
    receiver.answer = () => ({ body: { allowed: false, error_message: 'No sign-ups from the API', error_code: 'API_BLOCKED' } });
    const refused = await create(uniqueEmail('api-refused'));
    expect([refused.status, refused.body.code]).toEqual([400, 'AUTH_PROVIDER_REQUEST_REJECTED']);
    expect(refused.body.message).toContain('No sign-ups from the API');
    receiver.answer = () => ({ status: 502, body: 'bad gateway' });
    const failed = await create(uniqueEmail('api-failed'));
    expect([failed.status, failed.body.code]).toEqual([503, 'AUTH_PROVIDER_UNAVAILABLE']);
    receiver.answer = () => ({ body: { allowed: true } });
    const email = uniqueEmail('api-allowed');
    expect((await create(email)).status).toBe(201);
    expect(await userRow(email)).toHaveLength(1);
  });

  it('user.before_create fails closed: no answer within timeout_seconds refuses the sign-up after about that long (no retry)', async () => {
    await setWebhook({ enabledEvents: ['user.before_create'], timeoutSeconds: 1 });
    receiver.answer = () => ({ delayMs: 4000, body: { allowed: true } });
    const email = uniqueEmail('timeout');
    const started = Date.now();
    const signUp = await client().signUp.email({ email, password: 'correct horse battery', name: 'Timeout' });
    const took = Date.now() - started;
    expect(signUp.error).toMatchObject({ status: 503, code: 'SIGN_UP_CHECK_FAILED' });
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(2500);
    expect(receiver.of('user.before_create')).toHaveLength(1);
    expect(await userRow(email)).toEqual([]);
    const d = await deliveryOf(receiver.requests[0].json.event_id);
    expect(d).toMatchObject({ status: 'failed', attempts: [{ attempt: 1, status_code: null, error: 'no answer within 1000 ms' }] });
  });

  it('user.before_create fails closed on 5xx (retried, attempts 1-3) and on a malformed answer', async () => {
    await setWebhook({ enabledEvents: ['user.before_create'] });
    receiver.answer = () => ({ status: 502, body: 'bad gateway' });
    const email = uniqueEmail('5xx');
    const signUp = await client().signUp.email({ email, password: 'correct horse battery', name: 'Five' });
    expect(signUp.error).toMatchObject({ status: 503, code: 'SIGN_UP_CHECK_FAILED' });
    expect(receiver.requests.map((r) => r.headers['x-neon-delivery-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(receiver.requests.map((r) => r.json.event_id)).size).toBe(1);
    expect(await userRow(email)).toEqual([]);

    receiver.requests.length = 0;
    receiver.answer = () => ({ body: { allowed: 'yes' } });
    const malformed = await client().signUp.email({ email, password: 'correct horse battery', name: 'Five' });
    expect(malformed.error).toMatchObject({ status: 503, code: 'SIGN_UP_CHECK_FAILED' });
    expect(receiver.requests).toHaveLength(1);
    expect((await deliveryOf(receiver.requests[0].json.event_id)).outcome).toBe('malformed answer: the answer has no boolean "allowed"');
    expect(await userRow(email)).toEqual([]);
  });

  it('retries on 503 and succeeds (attempts 1, 2, each signed anew), never retries a 400; the log shows the attempts', async () => {
    await setWebhook({ enabledEvents: ['user.created'] });
    let calls = 0;
    receiver.answer = () => (++calls === 1 ? { status: 503, body: 'busy' } : { status: 200, body: { ok: true } });
    const email = uniqueEmail('retry');
    expect((await client().signUp.email({ email, password: 'correct horse battery', name: 'Retry' })).error).toBeNull();
    await receiver.waitFor((r) => r.headers['x-neon-delivery-attempt'] === '2');
    const [first, second] = receiver.requests;
    expect([first.headers['x-neon-delivery-attempt'], second.headers['x-neon-delivery-attempt']]).toEqual(['1', '2']);
    expect(second.json.event_id).toBe(first.json.event_id);
    expect(second.body).toBe(first.body);
    expect(second.headers['x-neon-signature']).not.toBe(first.headers['x-neon-signature']);
    await verifySignature(first);
    await verifySignature(second);
    const logged = await deliveryOf(first.json.event_id);
    expect(logged).toMatchObject({
      event_type: 'user.created',
      webhook_url: receiver.url,
      status: 'delivered',
      attempts: [
        { attempt: 1, status_code: 503, error: 'answered 503', response_excerpt: 'busy', latency_ms: expect.any(Number) },
        { attempt: 2, status_code: 200, error: null, response_excerpt: '{"ok":true}' },
      ],
    });

    receiver.requests.length = 0;
    receiver.answer = () => ({ status: 400, body: { error: 'no' } });
    const other = uniqueEmail('no-retry');
    expect((await client().signUp.email({ email: other, password: 'correct horse battery', name: 'No Retry' })).error).toBeNull();
    const only = await receiver.waitFor((r) => r.json.user?.email === other);
    const failed = await deliveryOf(only.json.event_id);
    expect(failed).toMatchObject({ status: 'failed', attempts: [{ attempt: 1, status_code: 400, error: 'answered 400' }] });
    expect(receiver.requests).toHaveLength(1);
  });

  it('send.otp replaces the e-mail: nothing in the mailbox, the code from the webhook signs in, the log keeps it redacted, and a replay re-sends the same event', async () => {
    await setWebhook({ enabledEvents: ['send.otp'] });
    const email = uniqueEmail('otp');
    const jar = new CookieJar(t.baseUrl);
    const c = client(jar);
    const sent = await c.emailOtp.sendVerificationOtp({ email, type: 'sign-in' });
    expect(sent.error).toBeNull();
    const r = await receiver.waitFor((x) => x.json.event_type === 'send.otp');
    expect(r.json).toMatchObject({
      user: { id: null, email },
      event_data: { otp_code: expect.stringMatching(/^\d{6}$/), otp_type: 'sign-in', delivery_preference: 'email', ip_address: '127.0.0.1', expires_at: expect.any(String) },
    });
    const expiresIn = Date.parse(r.json.event_data.expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(250_000);
    expect(expiresIn).toBeLessThanOrEqual(300_000);
    await verifySignature(r);
    const mailbox = await api(t, t.adminKey).get(`/projects/${projectId}/branches/${branchId}/auth/mailbox?to=${encodeURIComponent(email)}`).expect(200);
    expect(mailbox.body.messages).toEqual([]);
    const otp = r.json.event_data.otp_code as string;
    const signIn = await c.signIn.emailOtp({ email, otp });
    expect(signIn.error).toBeNull();
    expect(signIn.data?.user.email).toBe(email);

    // The log: the code redacted, nowhere in clear in what the API shows.
    const logged = await deliveryOf(r.json.event_id);
    expect(logged.payload.event_data.otp_code).toBe('[redacted]');
    expect(JSON.stringify(await deliveries())).not.toContain(otp);
    // Nor in the control-plane table (the body is sealed).
    const stored = await adminQuery(`SELECT payload::text, sealed_body FROM neon_auth_webhook_deliveries WHERE id = $1`, [logged.id], t.database);
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(otp);

    // Replay: same event id and body (the same code), attempt 1 again, a new signature that verifies.
    receiver.requests.length = 0;
    const replay = await api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth/webhooks/deliveries/${logged.id}/replay`).expect(201);
    expect(replay.body).toMatchObject({ replay_of: logged.id, event_id: r.json.event_id, event_type: 'send.otp', status: 'delivered', attempts: [{ attempt: 1, status_code: 200 }] });
    expect(replay.body.id).not.toBe(logged.id);
    expect(receiver.requests).toHaveLength(1);
    const again = receiver.requests[0];
    expect(again.body).toBe(r.body);
    expect(again.headers['x-neon-event-id']).toBe(r.json.event_id);
    expect(again.headers['x-neon-delivery-attempt']).toBe('1');
    expect(again.headers['x-neon-signature']).not.toBe(r.headers['x-neon-signature']);
    await verifySignature(again);
    expect((await deliveries('send.otp')).filter((d) => d.event_id === r.json.event_id)).toHaveLength(2);

    // Only organization admins read the log or replay; an unknown delivery is 404; webhooks off -> 409.
    const outsider = await newAccount(t, 'outsider');
    await api(t, outsider.key).get(`/projects/${projectId}/branches/${branchId}/auth/webhooks/deliveries`).expect(404);
    await api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth/webhooks/deliveries/00000000-0000-4000-8000-000000000000/replay`).expect(404);
    await setWebhook({ enabled: false, enabledEvents: ['send.otp'] });
    await api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth/webhooks/deliveries/${logged.id}/replay`).expect(409);
  });

  it('send.magic_link replaces the e-mail of links (password reset shown), with Neon\'s data', async () => {
    await setWebhook({ enabledEvents: ['send.magic_link'] });
    const email = uniqueEmail('reset');
    expect((await client().signUp.email({ email, password: 'correct horse battery', name: 'Reset' })).error).toBeNull();
    const asked = await client().requestPasswordReset({ email, redirectTo: 'http://localhost:5173/reset' });
    expect(asked.error).toBeNull();
    const r = await receiver.waitFor((x) => x.json.event_type === 'send.magic_link');
    expect(r.json).toMatchObject({
      user: { email, name: 'Reset', id: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      event_data: { link_type: 'forget-password', link_url: expect.stringContaining(`${auth.base_url}/reset-password/`), token: expect.any(String), expires_at: expect.any(String) },
    });
    expect(r.json.event_data.link_url).toContain(r.json.event_data.token);
    const mailbox = await api(t, t.adminKey).get(`/projects/${projectId}/branches/${branchId}/auth/mailbox?to=${encodeURIComponent(email)}`).expect(200);
    expect(mailbox.body.messages).toEqual([]);
    const logged = await deliveryOf(r.json.event_id);
    expect(logged.payload.event_data.token).toBe('[redacted]');
    expect(logged.payload.event_data.link_url).not.toContain(r.json.event_data.token);
    // The link works: the token from the webhook resets the password.
    const reset = await client().resetPassword({ newPassword: 'another long password', token: r.json.event_data.token });
    expect(reset.error).toBeNull();
    expect((await client().signIn.email({ email, password: 'another long password' })).error).toBeNull();
  });

  it('phone numbers: send.otp carries the SMS code, phone_number.verified follows the verification', async () => {
    await setWebhook({ enabledEvents: ['send.otp', 'phone_number.verified'] }, { phoneNumber: true });
    const jar = new CookieJar(t.baseUrl);
    const c = client(jar);
    expect((await c.signUp.email({ email: uniqueEmail('phone'), password: 'correct horse battery', name: 'Phone' })).error).toBeNull();
    const phone = `+1555${String(Date.now()).slice(-7)}`;
    expect((await c.phoneNumber.sendOtp({ phoneNumber: phone })).error).toBeNull();
    const otp = await receiver.waitFor((x) => x.json.event_type === 'send.otp');
    expect(otp.json.event_data).toMatchObject({ otp_code: expect.stringMatching(/^\d+$/), otp_type: 'phone-number', delivery_preference: 'sms', phone_number: phone });
    const verified = await c.phoneNumber.verify({ phoneNumber: phone, code: otp.json.event_data.otp_code, updatePhoneNumber: true });
    expect(verified.error).toBeNull();
    const event = await receiver.waitFor((x) => x.json.event_type === 'phone_number.verified');
    expect(event.json).toMatchObject({ user: { id: verified.data!.user.id }, event_data: { phone_number: phone, ip_address: '127.0.0.1' } });
    await verifySignature(event);
    await setWebhook({ enabledEvents: [] }, { phoneNumber: false });
  });

  it('organization.invitation.created and .accepted are announced', async () => {
    await setWebhook({ enabledEvents: ['organization.invitation.created', 'organization.invitation.accepted'] });
    const owner = client();
    const ownerSignUp = await owner.signUp.email({ email: uniqueEmail('org-owner'), password: 'correct horse battery', name: 'Owner' });
    expect(ownerSignUp.error).toBeNull();
    const org = await owner.organization.create({ name: 'Hooks Inc', slug: `hooks-${Date.now()}` });
    expect(org.error).toBeNull();
    const inviteeEmail = uniqueEmail('org-invitee');
    const invite = await owner.organization.inviteMember({ email: inviteeEmail, role: 'member', organizationId: org.data!.id });
    expect(invite.error).toBeNull();
    const created = await receiver.waitFor((x) => x.json.event_type === 'organization.invitation.created');
    expect(created.json).toMatchObject({
      user: { id: ownerSignUp.data!.user.id },
      event_data: { invitation_id: invite.data!.id, organization_id: org.data!.id, organization_name: 'Hooks Inc', email: inviteeEmail, role: 'member', status: 'pending' },
    });
    const invitee = client();
    const inviteeSignUp = await invitee.signUp.email({ email: inviteeEmail, password: 'correct horse battery', name: 'Invitee' });
    expect((await invitee.organization.acceptInvitation({ invitationId: invite.data!.id })).error).toBeNull();
    const accepted = await receiver.waitFor((x) => x.json.event_type === 'organization.invitation.accepted');
    expect(accepted.json).toMatchObject({ user: { id: inviteeSignUp.data!.user.id, email: inviteeEmail }, event_data: { invitation_id: invite.data!.id, organization_id: org.data!.id } });
  });

  describe('the outbound guard of webhook targets', () => {
    it('refuses loopback, private and metadata targets unless the operator allows them, and http to public hosts', async () => {
      const none = new OutboundUrlPolicy();
      expect(webhookTargetProblem(none, 'https://127.0.0.1:8443/hooks')).toMatch(/public address/);
      expect(webhookTargetProblem(none, 'https://[::1]/hooks')).toMatch(/public address/);
      expect(webhookTargetProblem(none, 'https://169.254.169.254/latest')).toMatch(/public address/);
      expect(webhookTargetProblem(none, 'https://metadata.google.internal/')).toMatch(/public address/);
      expect(webhookTargetProblem(none, 'http://hooks.example.com/')).toMatch(/https/);
      expect(webhookTargetProblem(none, 'https://user:pw@hooks.example.com/')).toMatch(/credentials/);
      expect(webhookTargetProblem(none, 'ftp://hooks.example.com/')).toMatch(/https/);
      expect(webhookTargetProblem(none, 'https://hooks.example.com/neon')).toBeUndefined();
      const allowed = new OutboundUrlPolicy({ allow: parseOutboundAllowList('127.0.0.1').entries });
      expect(webhookTargetProblem(allowed, 'http://127.0.0.1:8080/hooks')).toBeUndefined();
      expect(webhookTargetProblem(allowed, 'http://169.254.169.254/')).toMatch(/public address/);

      // The app's own rule (the settings API's save-time check and each delivery's), with the operator's allowance of
      // 127.0.0.1. A name is judged after resolution when a delivery connects (the next case).
      const policy = t.app.get(OutboundHttp).policy;
      expect(webhookTargetProblem(policy, receiver.url)).toBeUndefined();
      expect(webhookTargetProblem(policy, 'http://10.1.2.3/hooks')).toMatch(/public address/);
    });

    it('a delivery to loopback without the operator\'s allowance is refused at connect time, not retried, and nothing arrives', async () => {
      const result = await sendWebhook(new OutboundHttp(new OutboundUrlPolicy()), {
        url: receiver.url,
        eventType: 'user.created',
        eventId: '00000000-0000-4000-8000-000000000001',
        rawBody: '{}',
        timeoutMs: 2000,
        blocking: false,
        sign: async () => ({ signature: 'x..y', kid: 'k' }),
      });
      expect(result).toMatchObject({ delivered: false, attempts: [{ attempt: 1, status_code: null, error: expect.stringMatching(/not allowed/) }] });
      expect(receiver.requests).toEqual([]);
      // The same delivery with the allowance arrives (so the refusal above is the guard's).
      const ok = await sendWebhook(new OutboundHttp(new OutboundUrlPolicy({ allow: parseOutboundAllowList('127.0.0.1').entries })), {
        url: receiver.url,
        eventType: 'user.created',
        eventId: '00000000-0000-4000-8000-000000000001',
        rawBody: '{}',
        timeoutMs: 2000,
        blocking: false,
        sign: async () => ({ signature: 'x..y', kid: 'k' }),
      });
      expect(ok.delivered).toBe(true);
      expect(receiver.requests).toHaveLength(1);
    });

    it('a branch whose webhook_url was set in SQL to a refused target logs "not sent" and the sign-up is refused (fail closed)', async () => {
      await setWebhook({ enabledEvents: ['user.before_create'], webhookUrl: 'http://169.254.169.254/latest/meta-data' });
      const email = uniqueEmail('metadata');
      const signUp = await client().signUp.email({ email, password: 'correct horse battery', name: 'Meta' });
      expect(signUp.error).toMatchObject({ status: 503, code: 'SIGN_UP_CHECK_FAILED' });
      const logged = (await deliveries('user.before_create')).find((d) => d.payload.user.email === email);
      expect(logged).toMatchObject({ status: 'failed', attempts: [], outcome: expect.stringMatching(/^not sent: /) });
      await setWebhook({ enabled: false });
    });
  });
});
