import { createHash } from 'node:crypto';
import request from 'supertest';
import { SecretsService } from '../../src/common/secrets.js';
import { integrationClientCredentials } from '../../src/stack-auth/stack-auth.config.js';
import { adminQuery } from '../helpers/test-db.js';
import { createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { registerWebhook, userOf, verifyReceived } from './webhooks-helpers.js';
import { startWebhookReceiver } from './webhooks-receiver.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A browser's view of the confirm page: what a person gets and sends back. */
interface OpenedPage {
  status: number;
  html: string;
  headers: Headers;
  code?: string;
  nonce?: string;
  cookie?: string;
}

async function openPage(url: string, cookie?: string): Promise<OpenedPage> {
  const res = await fetch(url, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
  const html = await res.text();
  const hidden = (name: string) => new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html)?.[1];
  const setCookie = res.headers.get('set-cookie');
  return { status: res.status, html, headers: res.headers, code: hidden('code'), nonce: hidden('nonce'), cookie: setCookie ? setCookie.split(';')[0] : cookie };
}

async function submitForm(baseUrl: string, fields: Record<string, string>, cookie?: string): Promise<{ status: number; html: string; headers: Headers }> {
  const res = await fetch(`${baseUrl}/stack-auth/integrations/neon/projects/transfer/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

/** Ownership transfer: admin call -> confirm link -> HTML page -> form -> one transaction. */
describe('embedded provider: ownership transfer', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ STACK_AUTH_WEBHOOK_POLL_SECONDS: '1' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);
  const admin = (p: StackTestProject) => ({ 'x-stack-access-type': 'admin', 'x-stack-project-id': p.projectId, 'x-stack-super-secret-admin-key': p.superSecretAdminKey });
  const projectRow = async (id: string) =>
    (await adminQuery<{ owned_by: string; owner_email: string | null }>('SELECT owned_by, owner_email FROM stack_auth.projects WHERE id = $1', [id], t.database))[0];

  async function startTransfer(p: StackTestProject): Promise<string> {
    const res = await api().post('/integrations/neon/projects/transfer').set(admin(p)).send({ project_id: p.projectId }).expect(200);
    return res.body.confirmation_url as string;
  }

  it('full flow: start, status, open the page, confirm; the code works once; users, keys and webhooks keep working', async () => {
    const p = await createStackProject(t, 'Acme <script>alert("x")</script> & "Co"');
    const receiver = await startWebhookReceiver();
    const secret = await registerWebhook(t, p, receiver.url);
    try {
      const before = await api().get('/integrations/neon/projects/transfer').query({ project_id: p.projectId }).set(admin(p)).expect(200);
      expect(before.body).toMatchObject({ project_id: p.projectId, status: 'not_started', owner_email: null, finished_at_millis: null });

      const started = await api().post('/integrations/neon/projects/transfer').set(admin(p)).send({ project_id: p.projectId }).expect(200);
      const url = started.body.confirmation_url as string;
      expect(started.body.confirm_url).toBe(url);
      expect(url).toMatch(new RegExp(`^${t.baseUrl.replace(/[.]/g, '\\.')}/stack-auth/integrations/neon/projects/transfer/confirm\\?code=[0-9a-hjkmnp-tv-z]{45}$`));
      expect(started.body.expires_at_millis).toBeGreaterThan(Date.now() + 55 * 60 * 1000);
      expect(started.body.expires_at_millis).toBeLessThanOrEqual(Date.now() + 60 * 60 * 1000);
      const code = new URL(url).searchParams.get('code')!;
      // Only the code's hash is stored.
      const rows = await adminQuery<{ code_hash: string; status: string }>('SELECT * FROM stack_auth.ownership_transfers WHERE project_id = $1', [p.projectId], t.database);
      expect(rows).toEqual([expect.objectContaining({ code_hash: sha256(code), status: 'initiated' })]);
      expect(JSON.stringify(rows)).not.toContain(code);

      const pending = await api().get('/integrations/neon/projects/transfer').query({ project_id: p.projectId }).set(admin(p)).expect(200);
      expect(pending.body.status).toBe('pending');

      // The page: HTML, escaped, locked down, with the code and a nonce bound to a cookie.
      const page = await openPage(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.headers.get('cache-control')).toBe('no-store, max-age=0');
      expect(page.headers.get('access-control-allow-origin')).toBeNull();
      expect(page.html).toContain('Acme &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Co&quot;');
      expect(page.html).not.toContain('<script>');
      expect(page.html).toContain('<form method="post" action="confirm">');
      expect(page.code).toBe(code);
      expect(page.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(page.cookie).toMatch(/^stack_transfer_csrf=[A-Za-z0-9_-]{43}$/);
      const setCookie = (await fetch(url)).headers.get('set-cookie')!;
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      expect(setCookie).toMatch(/Path=\/stack-auth\/integrations\/neon\/projects\/transfer/);

      // Refusals change nothing: no cookie (another site's form), a wrong nonce, a bad e-mail.
      const noCookie = await submitForm(t.baseUrl, { code, nonce: page.nonce!, email: 'owner@example.com' });
      expect(noCookie.status).toBe(403);
      expect(noCookie.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const otherCookie = await submitForm(t.baseUrl, { code, nonce: page.nonce!, email: 'owner@example.com' }, `stack_transfer_csrf=${'A'.repeat(43)}`);
      expect(otherCookie.status).toBe(403);
      const badNonce = await submitForm(t.baseUrl, { code, nonce: 'x'.repeat(43), email: 'owner@example.com' }, page.cookie);
      expect(badNonce.status).toBe(403);
      const badEmail = await submitForm(t.baseUrl, { code, nonce: page.nonce!, email: '<b>not-an-email</b>' }, page.cookie);
      expect(badEmail.status).toBe(400);
      expect(badEmail.html).toContain('Enter a valid e-mail address.');
      expect(badEmail.html).toContain('value="&lt;b&gt;not-an-email&lt;/b&gt;"');
      const extraField = await submitForm(t.baseUrl, { code, nonce: page.nonce!, email: 'owner@example.com', owned_by: 'neon' }, page.cookie);
      expect(extraField.status).toBe(400);
      expect(extraField.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await projectRow(p.projectId)).toEqual({ owned_by: 'neon', owner_email: null });

      // Confirm.
      const done = await submitForm(t.baseUrl, { code, nonce: page.nonce!, email: 'Owner@Example.com' }, page.cookie);
      expect(done.status).toBe(200);
      expect(done.html).toContain('Project transferred');
      expect(done.html).toContain('owner@example.com');
      expect(await projectRow(p.projectId)).toEqual({ owned_by: 'user', owner_email: 'owner@example.com' });
      const transfer = (await adminQuery<{ status: string; new_owner_email: string; finished_at: Date }>('SELECT * FROM stack_auth.ownership_transfers WHERE project_id = $1', [p.projectId], t.database))[0];
      expect(transfer).toMatchObject({ status: 'finished', new_owner_email: 'owner@example.com' });

      const finished = await api().get('/integrations/neon/projects/transfer').query({ project_id: p.projectId }).set(admin(p)).expect(200);
      expect(finished.body).toMatchObject({ status: 'finished', owner_email: 'owner@example.com', finished_at_millis: new Date(transfer.finished_at).getTime() });

      // Single use: the link and the form are dead now.
      const reopened = await openPage(url, page.cookie);
      expect(reopened.status).toBe(410);
      expect(reopened.html).toContain('already used');
      expect(reopened.html).not.toContain('<form');
      expect((await submitForm(t.baseUrl, { code, nonce: page.nonce!, email: 'thief@example.com' }, page.cookie)).status).toBe(410);
      expect(await projectRow(p.projectId)).toEqual({ owned_by: 'user', owner_email: 'owner@example.com' });
      // A project is transferred once.
      const again = await api().post('/integrations/neon/projects/transfer').set(admin(p)).send({ project_id: p.projectId }).expect(400);
      expect(again.text).toMatch(/can only be transferred once/);

      // Users, keys and webhooks keep working.
      const created = await api().post('/users').set(serverHeaders(p)).send({ display_name: 'After transfer' }).expect(201);
      await api().get(`/users/${created.body.id}`).set(serverHeaders(p)).expect(200);
      await api().get('/projects/current').set({ 'x-stack-access-type': 'client', 'x-stack-project-id': p.projectId, 'x-stack-publishable-client-key': p.publishableClientKey }).expect(200);
      await receiver.waitFor((rs) => rs.some((r) => userOf(r) === created.body.id));
      const hook = receiver.requests.find((r) => userOf(r) === created.body.id)!;
      expect(verifyReceived(secret, hook).type).toBe('user.created');
    } finally {
      await receiver.close();
    }
  });

  it('two submissions of one code race: exactly one transfers', async () => {
    const p = await createStackProject(t, 'Race');
    const url = await startTransfer(p);
    const page = await openPage(url);
    const results = await Promise.all(
      ['a@example.com', 'b@example.com', 'c@example.com'].map((email) => submitForm(t.baseUrl, { code: page.code!, nonce: page.nonce!, email }, page.cookie)),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 410, 410]);
    const winner = results.find((r) => r.status === 200)!;
    const row = await projectRow(p.projectId);
    expect(row.owned_by).toBe('user');
    expect(winner.html).toContain(row.owner_email!);
  });

  it('an expired link shows a clear page and cannot be confirmed', async () => {
    const p = await createStackProject(t, 'Expired');
    const url = await startTransfer(p);
    const page = await openPage(url);
    expect(page.status).toBe(200);
    await adminQuery("UPDATE stack_auth.ownership_transfers SET expires_at = now() - interval '1 second' WHERE project_id = $1", [p.projectId], t.database);
    const reopened = await openPage(url);
    expect(reopened.status).toBe(410);
    expect(reopened.html).toContain('expired');
    expect((await submitForm(t.baseUrl, { code: page.code!, nonce: page.nonce!, email: 'late@example.com' }, page.cookie)).status).toBe(410);
    expect(await projectRow(p.projectId)).toEqual({ owned_by: 'neon', owner_email: null });
    const status = await api().get('/integrations/neon/projects/transfer').query({ project_id: p.projectId }).set(admin(p)).expect(200);
    expect(status.body.status).toBe('not_started');
    // A new link works.
    const fresh = await openPage(await startTransfer(p));
    expect(fresh.status).toBe(200);
  });

  it('a link of a project transferred through another link is dead', async () => {
    const p = await createStackProject(t, 'Two links');
    const first = await openPage(await startTransfer(p));
    const second = await openPage(await startTransfer(p), first.cookie);
    expect((await submitForm(t.baseUrl, { code: second.code!, nonce: second.nonce!, email: 'two@example.com' }, second.cookie)).status).toBe(200);
    const dead = await submitForm(t.baseUrl, { code: first.code!, nonce: first.nonce!, email: 'one@example.com' }, first.cookie);
    expect(dead.status).toBe(409);
    expect((await projectRow(p.projectId)).owner_email).toBe('two@example.com');
  });

  it.each([
    ['no code', 400, ''],
    ['an unknown code', 404, `?code=${'a'.repeat(45)}`],
    ['a malformed code', 404, '?code=%3Cscript%3E'],
    ['a repeated code parameter', 400, `?code=${'a'.repeat(45)}&code=b`],
  ])('the page answers %s with a clear %i page', async (_name, status, query) => {
    const page = await openPage(`${t.baseUrl}/stack-auth/integrations/neon/projects/transfer/confirm${query}`);
    expect(page.status).toBe(status);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.html).not.toContain('<form');
    expect(page.html).not.toContain('<script');
  });

  it('starting a transfer needs that project\'s admin key (and right client credentials, when sent)', async () => {
    const p = await createStackProject(t, 'Guarded transfer');
    const other = await createStackProject(t, 'Other transfer');
    const server = await api().post('/integrations/neon/projects/transfer').set(serverHeaders(p)).send({ project_id: p.projectId }).expect(401);
    expect(server.body.code).toBe('INSUFFICIENT_ACCESS_TYPE');
    const none = await api().post('/integrations/neon/projects/transfer').send({ project_id: p.projectId }).expect(400);
    expect(none.body.code).toBe('ACCESS_TYPE_REQUIRED');
    const foreign = await api().post('/integrations/neon/projects/transfer').set(admin(other)).send({ project_id: p.projectId }).expect(400);
    expect(foreign.text).toMatch(/not authorized to transfer it/);
    const statusForeign = await api().get('/integrations/neon/projects/transfer').query({ project_id: p.projectId }).set(admin(other)).expect(400);
    expect(statusForeign.text).toMatch(/not authorized to transfer it/);
    const badBody = await api().post('/integrations/neon/projects/transfer').set(admin(p)).send({ project_id: 'nope' }).expect(400);
    expect(badBody.body.code).toBe('SCHEMA_ERROR');
    await api()
      .post('/integrations/neon/projects/transfer')
      .set({ ...admin(p), authorization: `Basic ${Buffer.from('neon:wrong-wrong-wrong').toString('base64')}` })
      .send({ project_id: p.projectId })
      .expect(401);
    expect(await adminQuery('SELECT 1 FROM stack_auth.ownership_transfers WHERE project_id = $1', [p.projectId], t.database)).toHaveLength(0);
    const { clientId, clientSecret } = integrationClientCredentials(t.config, t.app.get(SecretsService));
    await api()
      .post('/integrations/neon/projects/transfer')
      .set({ ...admin(p), authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` })
      .send({ project_id: p.projectId })
      .expect(200);
  });
});
