import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { api, createProject } from '../helpers/fixtures.js';
import { setupCallers, type Callers } from '../helpers/callers.js';
import { ARTIFACTS, describeWithChromium, launchChromium } from '../helpers/browser.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The console (/console) in a real browser (Debian's Chromium through playwright-core; `.ci/run` installs it): an admin
 * signs in with an API key, enables Neon Auth on a branch, creates a user and sees it arrive in the table from
 * users_sync, changes settings (bad input gets the API's message next to the field and changes nothing) and disables
 * Neon Auth with its data; a member sees the page without the admin actions, which the API refuses anyway. Under the
 * page's strict CSP, with every control named in the browser's accessibility tree, screenshots at 375 and 1440 px.
 */
const describeChromium = describeWithChromium('console');

/** Roles a person operates; each must have a name in the accessibility tree. */
const CONTROL_ROLES = new Set(['button', 'textbox', 'searchbox', 'checkbox', 'radio', 'combobox', 'link', 'switch', 'spinbutton', 'menuitem', 'tab', 'slider']);

/** Controls of the page without an accessible name, as the browser's accessibility tree has them. */
async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: { ignored: boolean; role?: { value: string }; name?: { value: string } }[] };
  await cdp.detach();
  return nodes.filter((n) => !n.ignored && CONTROL_ROLES.has(n.role?.value ?? '') && !(n.name?.value ?? '').trim()).map((n) => n.role!.value);
}

/** Console messages of the page: failed loads with the status, and anything else (errors, CSP reports) as is. */
function watch(page: Page): { problems: string[]; statuses: number[] } {
  const seen = { problems: [] as string[], statuses: [] as number[] };
  page.on('console', (msg) => {
    const failed = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(msg.text());
    if (failed) seen.statuses.push(Number(failed[1]));
    else if (msg.type() === 'error' || msg.type() === 'warning' || /Content Security Policy|Refused to/.test(msg.text())) seen.problems.push(msg.text());
  });
  page.on('pageerror', (err) => seen.problems.push(err.message));
  return seen;
}

async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/console`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in with').waitFor();
}

const SMTP_PASSWORD = 'smtp-Pa55word-only-the-server-knows';

/** An SMTP server on 127.0.0.1 that takes one login and keeps the recipients of what it receives. */
async function startSmtp(): Promise<{ port: number; received: { to: string[] }[]; close(): Promise<void> }> {
  const received: { to: string[] }[] = [];
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth: (auth, _session, cb) => (auth.username === 'mailer' && auth.password === SMTP_PASSWORD ? cb(null, { user: 'mailer' }) : cb(Object.assign(new Error('authentication failed'), { responseCode: 535 }))),
    onData: (stream, session, cb) => {
      stream.resume();
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address) });
        cb(null);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.server.address() as net.AddressInfo).port, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describeChromium('the console in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let callers: Callers;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;

  beforeAll(async () => {
    smtp = await startSmtp();
    // The SMTP server of the "send test" case is on 127.0.0.1, which the operator must allow (as for any private address).
    t = await startTestApp({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
    callers = await setupCallers(t, 'console-members');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await smtp?.close();
  });

  it('is served with a strict CSP and works under it: sign in, enable, create a user, change settings, disable', async () => {
    const admin = api(t, t.adminKey);
    const { project, branch } = await createProject(admin, { name: 'console-app', org_id: callers.orgId });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const seen = watch(page);

    const response = await page.goto(`${t.baseUrl}/console`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(response?.headers()['x-frame-options']).toBe('DENY');

    await signIn(page, t.baseUrl, t.adminKey);
    // Who you are and what your role allows.
    expect(await page.locator('header').textContent()).toContain('admin@example.com');
    expect(await page.locator('main').textContent()).toContain('As an admin you can enable');
    // The key: in this tab's session storage only, never in local storage, a cookie or the URL.
    const stored = await page.evaluate(() => ({ local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }), cookie: document.cookie }));
    expect(stored.session).toContain(t.adminKey);
    expect(stored.local).not.toContain(t.adminKey);
    expect(stored.cookie).not.toContain(t.adminKey);

    // Pick the project (its default branch is chosen), then open its Auth page: choosing alone does not navigate.
    await page.getByRole('combobox', { name: 'Project' }).selectOption(project.id);
    await page.getByRole('combobox', { name: 'Branch' }).locator('option', { hasText: 'main (default)' }).waitFor({ state: 'attached' });
    expect(page.url()).not.toContain('#/projects/');
    await page.getByRole('button', { name: 'Open Auth page' }).click();
    await page.getByRole('heading', { name: 'Enable Neon Auth' }).waitFor();
    expect(page.url()).toContain(`#/projects/${project.id}/branches/${branch.id}/auth`);
    expect(page.url()).not.toContain(t.adminKey);

    // Enable (Stack Auth, Quick Start): the keys are shown once, with copy buttons.
    await page.getByRole('button', { name: 'Enable Neon Auth' }).click();
    await page.getByRole('heading', { name: 'Your SDK keys' }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Copy Publishable client key' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Copy Secret server key' }).count()).toBe(1);
    const pck = await page.getByLabel('Publishable client key', { exact: true }).textContent();
    expect(pck).toMatch(/^pck_/);
    await page.getByRole('heading', { name: 'Neon Auth is enabled' }).waitFor();
    await page.getByRole('button', { name: 'I have copied them' }).click();
    expect(await page.getByText(pck!).count()).toBe(0);

    // A create the API refuses: its message next to the field, and the table as it was.
    const users = page.getByRole('table', { name: 'Users' });
    await users.getByText('No users yet.').waitFor();
    const rowsBefore = await users.locator('tbody tr').count();
    await page.getByRole('textbox', { name: 'E-mail', exact: true }).fill('not-an-email');
    await page.getByRole('button', { name: 'Create user' }).click();
    const emailInput = page.getByRole('textbox', { name: 'E-mail', exact: true });
    await page.locator('.field-error', { hasText: 'must be an email address' }).waitFor();
    expect(await emailInput.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await emailInput.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`[id="${describedBy.split(' ').pop()}"]`).textContent()).toContain('must be an email address');
    expect(await users.locator('tbody tr').count()).toBe(rowsBefore);
    expect((await admin.get(`/projects/${project.id}/branches/${branch.id}/auth/users`).expect(200)).body.users).toEqual([]);

    // A user created: it appears in the table once users_sync has it (the page reads it again every 2 s).
    await emailInput.fill('jane@example.com');
    await page.getByLabel('Name (optional)').fill('Jane Doe');
    await page.getByRole('button', { name: 'Create user' }).click();
    await users.getByRole('cell', { name: 'jane@example.com', exact: true }).waitFor({ timeout: 15_000 });
    expect(await users.textContent()).toContain('Jane Doe');

    // Search narrows the table.
    await page.getByRole('searchbox', { name: 'Search users' }).fill('nobody-like-this');
    await users.getByText('No user matches this search.').waitFor();
    await page.getByRole('searchbox', { name: 'Search users' }).fill('jane');
    await users.getByRole('cell', { name: 'jane@example.com', exact: true }).waitFor();

    // Roles, then a second user deleted: both through the provider, shown once users_sync has them.
    await users.getByRole('button', { name: 'Set roles of jane@example.com' }).click();
    const rolesDialog = page.getByRole('dialog', { name: 'Roles of jane@example.com' });
    await rolesDialog.getByRole('textbox', { name: 'Roles' }).fill('admin, billing');
    await rolesDialog.getByRole('button', { name: 'Save roles' }).click();
    await users.getByRole('cell', { name: 'admin, billing', exact: true }).waitFor({ timeout: 15_000 });
    await page.getByRole('searchbox', { name: 'Search users' }).fill('');
    await emailInput.fill('temp@example.com');
    await page.getByRole('button', { name: 'Create user' }).click();
    await users.getByRole('cell', { name: 'temp@example.com', exact: true }).waitFor({ timeout: 15_000 });
    await users.getByRole('button', { name: 'Delete temp@example.com' }).click();
    await page.getByRole('dialog', { name: 'Delete this user?' }).getByRole('button', { name: 'Delete user' }).click();
    await users.getByRole('cell', { name: 'temp@example.com', exact: true }).waitFor({ state: 'detached', timeout: 15_000 });
    expect(await users.getByRole('cell', { name: 'jane@example.com', exact: true }).count()).toBe(1);

    // New SDK keys, shown once with a copy button that copies; then the transfer, which links to the provider's page.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.baseUrl });
    await page.getByRole('button', { name: 'Generate new SDK keys' }).click();
    const newKeys = page.getByRole('region', { name: 'Neon Auth is enabled' }).getByRole('region', { name: 'Your SDK keys' });
    await newKeys.waitFor();
    const newPck = await newKeys.getByLabel('Publishable client key', { exact: true }).textContent();
    expect(newPck).toMatch(/^pck_/);
    expect(newPck).not.toBe(pck);
    await newKeys.getByRole('button', { name: 'Copy Publishable client key' }).click();
    await newKeys.getByRole('button', { name: 'Copy Publishable client key' }).filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(newPck);
    await newKeys.getByRole('button', { name: 'I have copied them' }).click();
    await page.getByRole('button', { name: 'Transfer ownership' }).click();
    const confirmLink = page.getByRole('link', { name: "Open the provider's confirmation page" });
    await confirmLink.waitFor();
    const href = (await confirmLink.getAttribute('href'))!;
    expect(href).toContain('/stack-auth/integrations/neon/projects/transfer/confirm?code=');
    expect(await confirmLink.getAttribute('target')).toBe('_blank');
    expect(await confirmLink.getAttribute('rel')).toContain('noopener');
    const [confirmPage] = await Promise.all([page.context().waitForEvent('page'), confirmLink.click()]);
    await confirmPage.waitForLoadState();
    expect(await confirmPage.textContent('body')).toContain(`Neon project ${project.id}`);
    await confirmPage.close();
    await page.getByText('started: waiting for the confirmation in the provider').waitFor();

    // Settings: a domain the API refuses shows its message by the field; a good one is added; localhost allowed.
    // Refused by the request's checks ("[domain] …") and by the settings' own rules ("domain must be …"): both by the field.
    const domainField = page.getByRole('textbox', { name: 'Domain', exact: true });
    await domainField.fill('ftp://files.example.com');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.locator('.field-error', { hasText: 'must be an absolute http(s) URL' }).waitFor();
    expect(await domainField.getAttribute('aria-invalid')).toBe('true');
    await domainField.fill('https://app.example.com/a/path');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.locator('.field-error', { hasText: 'must be a full http(s) origin such as https://app.example.com (no path)' }).waitFor();
    expect(await page.locator('.problem').count()).toBe(0); // said once, by the field
    await page.getByRole('textbox', { name: 'Domain', exact: true }).fill('https://app.example.com');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.getByRole('button', { name: 'Remove https://app.example.com' }).waitFor();
    const domains = (await admin.get(`/projects/${project.id}/branches/${branch.id}/auth/domains`).expect(200)).body.domains;
    expect(domains.map((d: { domain: string }) => d.domain)).toEqual(['https://app.example.com']);
    const localhost = page.getByRole('checkbox', { name: /Allow localhost/ });
    const wasAllowed = await localhost.isChecked();
    await localhost.click();
    // Saved only when the page says so (the box flips at the click, before the API has answered).
    await page.getByRole('status').filter({ hasText: wasAllowed ? 'localhost is no longer allowed' : 'may return to localhost' }).waitFor();
    expect(await localhost.isChecked()).toBe(!wasAllowed);
    expect(await localhost.isEnabled()).toBe(true);
    expect((await admin.get(`/projects/${project.id}/branches/${branch.id}/auth/allow_localhost`).expect(200)).body.allow_localhost).toBe(!wasAllowed);

    // The configuration API's forms: what Stack Auth has (OAuth providers, the e-mail provider) and what it has not.
    const settings = page.getByRole('region', { name: 'Settings' });
    await settings.getByRole('textbox', { name: 'Client id' }).fill('my-google-client.apps.example.com');
    await settings.getByLabel('Client secret').fill('a-secret');
    await settings.getByRole('button', { name: 'Add Google' }).click();
    await settings.getByRole('button', { name: 'Remove Google' }).waitFor();
    expect(await settings.getByLabel('Client secret').inputValue()).toBe(''); // write-only, not kept in the form
    const google = (await admin.get(`/projects/${project.id}/branches/${branch.id}/auth/oauth_providers`).expect(200)).body.providers;
    expect(google).toEqual([expect.objectContaining({ id: 'google', type: 'standard', client_id: 'my-google-client.apps.example.com' })]);
    await settings.getByRole('combobox', { name: 'Sender' }).selectOption('standard');
    await settings.getByRole('textbox', { name: 'SMTP host' }).fill('smtp.example.com');
    await settings.getByRole('spinbutton', { name: 'SMTP port' }).fill('70000');
    await settings.getByRole('textbox', { name: 'Sender e-mail' }).fill('auth@example.com');
    await settings.getByRole('textbox', { name: 'Sender name' }).fill('Example');
    await settings.getByRole('button', { name: 'Save e-mail provider' }).click();
    await settings.locator('.field-error', { hasText: 'must not be greater than 65535' }).waitFor();
    expect((await admin.get(`/projects/${project.id}/branches/${branch.id}/auth/email_provider`).expect(200)).body.type).toBe('shared'); // nothing saved
    for (const part of ['E-mail and password', 'Webhooks']) {
      expect(await settings.locator('summary', { hasText: part }).textContent()).toContain('not available with this provider');
    }
    await settings.getByText('This provider has none of the plugins').waitFor();

    // Sync status, with reconcile.
    await page.getByRole('button', { name: 'Reconcile now' }).click();
    await page.getByText(/^Reconciled in \d+ ms/).waitFor({ timeout: 15_000 });

    // A dead letter (an event parked after its attempts, made here in SQL): listed, and replayed from the page.
    const integrationId = (await admin.get(`/projects/${project.id}/branches/${branch.id}/auth`).expect(200)).body.webhook_url.split('/').pop();
    await t.app.get(DataSource).query(
      `INSERT INTO sync_inbox (integration_id, message_id, event_type, user_id, payload, status, attempts, last_error)
       VALUES ($1, 'msg_console_dead', 'team.created', 'team-1', '{"type":"team.created","data":{"id":"team-1"}}', 'dead', 5, 'simulated failure')`,
      [integrationId],
    );
    const deadLetters = page.getByRole('table', { name: 'Dead letters' });
    await deadLetters.getByRole('cell', { name: 'simulated failure' }).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Replay dead letters' }).click();
    await page.getByText('1 dead letter put back in the queue.').waitFor();
    await deadLetters.waitFor({ state: 'detached', timeout: 15_000 });
    const [{ status }] = await t.app.get(DataSource).query(`SELECT status FROM sync_inbox WHERE message_id = 'msg_console_dead'`);
    expect(status).not.toBe('dead');

    // Every control named, no horizontal scrolling at 375 px; screenshots at both widths.
    expect(await unnamedControls(page)).toEqual([]);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-auth-1440.png'), fullPage: true });
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-auth-375.png'), fullPage: true });
    await page.setViewportSize({ width: 1440, height: 900 });

    // Disable with its data: the confirmation names what is dropped.
    await page.getByRole('checkbox', { name: /Also delete the data/ }).check();
    await page.getByRole('button', { name: 'Disable Neon Auth…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable Neon Auth on this branch?' });
    expect(await dialog.textContent()).toMatch(/drops the schema neon_auth of database \S+ on branch \S+, with the table users_sync and every row in it/);
    expect(await unnamedControls(page)).toEqual([]);
    // The disable's answer is held in the browser, after the server has done it, for longer than the users table's
    // refresh: the page must not re-read what is being removed (each such read would be answered 404, counted below).
    await page.route(/\/auth$/, async (route) => {
      if (route.request().method() !== 'DELETE') return route.continue();
      const response = await route.fetch();
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      await route.fulfill({ response });
    });
    await dialog.getByRole('button', { name: 'Disable and delete the data' }).click();
    await page.getByRole('heading', { name: 'Enable Neon Auth' }).waitFor({ timeout: 30_000 });
    expect((await admin.get(`/projects/${project.id}/branches/${branch.id}/auth`).expect(404)).body.code).toBe('NEON_AUTH_NOT_ENABLED');

    // The browser's only complaints: the loads the test asked to fail (the branch before Neon Auth was enabled: 404; the
    // refused user, the two refused domains and the refused SMTP port: 400 each)
    expect(seen.problems).toEqual([]);
    // (and the two sections Stack Auth does not have: 400 each).
    expect(seen.statuses.sort()).toEqual([400, 400, 400, 400, 400, 400, 404]);
    await page.close();
  });

  it('on a Better Auth branch: e-mail and password, plugins, webhooks and the test e-mail as forms', async () => {
    const admin = api(t, t.adminKey);
    const { project, branch } = await createProject(admin, { name: 'console-better-auth', org_id: callers.orgId });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const seen = watch(page);
    await signIn(page, t.baseUrl, t.adminKey);
    await page.goto(`${t.baseUrl}/console#/projects/${project.id}/branches/${branch.id}/auth`);
    await page.getByRole('combobox', { name: 'Auth provider' }).selectOption('better_auth');
    await page.getByRole('button', { name: 'Enable Neon Auth' }).click();
    await page.getByRole('heading', { name: 'Neon Auth is enabled' }).waitFor({ timeout: 30_000 });
    const settings = page.getByRole('region', { name: 'Settings' });
    const base = `/projects/${project.id}/branches/${branch.id}/auth`;

    // E-mail and password: a refused length by its field, nothing saved; then a good one saved.
    const shortest = settings.getByRole('spinbutton', { name: 'Shortest password' });
    await shortest.fill('0');
    await settings.getByRole('button', { name: 'Save e-mail and password' }).click();
    await settings.locator('.field-error', { hasText: 'must not be less than 1' }).waitFor();
    expect((await admin.get(`${base}/email_and_password`).expect(200)).body.min_password_length).toBe(8);
    await shortest.fill('12');
    await settings.getByRole('checkbox', { name: 'Require a verified e-mail before sign-in' }).check();
    await settings.getByRole('button', { name: 'Save e-mail and password' }).click();
    await settings.getByRole('form', { name: 'E-mail and password' }).getByText('Saved.').waitFor();
    expect((await admin.get(`${base}/email_and_password`).expect(200)).body).toMatchObject({ min_password_length: 12, require_email_verification: true });

    // A plugin.
    await settings.getByRole('checkbox', { name: 'Sign-in with a link sent by e-mail' }).check();
    await settings.getByRole('spinbutton', { name: 'Link valid for (minutes)' }).fill('15');
    await settings.getByRole('button', { name: 'Save magic link' }).click();
    await settings.getByRole('form', { name: 'Magic link' }).getByText('Saved.').waitFor();
    expect((await admin.get(`${base}/plugins`).expect(200)).body.magic_link).toEqual({ enabled: true, disable_sign_up: false, expires_in: 15 });

    // Webhooks: a private address is refused by the outbound policy, by the field; a public one is saved.
    await settings.getByRole('checkbox', { name: 'Send webhooks' }).check();
    await settings.getByRole('textbox', { name: 'Webhook URL' }).fill('http://10.0.0.1/hooks');
    await settings.getByRole('checkbox', { name: 'user.created' }).check();
    await settings.getByRole('button', { name: 'Save webhooks' }).click();
    const webhookError = settings.getByRole('form', { name: 'Webhooks' }).locator('.field-error');
    await webhookError.waitFor();
    expect(await settings.getByRole('textbox', { name: 'Webhook URL' }).getAttribute('aria-invalid')).toBe('true');
    expect((await admin.get(`${base}/webhooks`).expect(200)).body.enabled).toBe(false);

    // "Send test" through the installation's sender (the local mailbox): the API says it went.
    // "Send test" with an SMTP server typed in (a real one on 127.0.0.1, which the operator allows here): a wrong
    // password gets the server's refusal, the right one sends.
    await settings.getByRole('combobox', { name: 'Sender' }).selectOption('standard');
    await settings.getByRole('textbox', { name: 'SMTP host' }).fill('127.0.0.1');
    await settings.getByRole('spinbutton', { name: 'SMTP port' }).fill(String(smtp.port));
    await settings.getByRole('textbox', { name: 'SMTP username' }).fill('mailer');
    await settings.getByLabel('SMTP password').fill('wrong');
    await settings.getByRole('textbox', { name: 'Sender e-mail' }).fill('auth@example.com');
    await settings.getByRole('textbox', { name: 'Sender name' }).fill('Example');
    await settings.getByRole('textbox', { name: 'Send a test e-mail to' }).fill('jane@example.com');
    await settings.getByRole('button', { name: 'Send test' }).click();
    await settings.getByText(/^The test e-mail was not sent: .*auth/i).waitFor({ timeout: 15_000 });
    await settings.getByLabel('SMTP password').fill(SMTP_PASSWORD);
    await settings.getByRole('button', { name: 'Send test' }).click();
    await settings.getByText('Test e-mail sent to jane@example.com.').waitFor({ timeout: 15_000 });
    expect(smtp.received.map((m) => m.to)).toEqual([['jane@example.com']]);
    expect((await admin.get(`${base}/email_provider`).expect(200)).body.type).toBe('shared'); // a test saves nothing

    expect(await unnamedControls(page)).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-better-auth-settings-1440.png'), fullPage: true });
    expect(seen.problems).toEqual([]);
    // The loads that failed on purpose: the branch before enabling (404), the refused length and webhook URL (400).
    expect(seen.statuses.sort()).toEqual([400, 400, 404]);
    // And what was typed went nowhere else: the page keeps no SMTP password either.
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }))).not.toContain(SMTP_PASSWORD);

    // Disabled behind the page's back (another tab, another person): the page's own disable is refused, and the page
    // then shows the branch as it is instead of an integration that is gone.
    await page.getByRole('button', { name: 'I have copied them' }).click();
    await admin.delete(base).send({ delete_data: false }).expect(200);
    await page.getByRole('button', { name: 'Disable Neon Auth…' }).click();
    await page.getByRole('dialog', { name: 'Disable Neon Auth on this branch?' }).getByRole('button', { name: 'Disable', exact: true }).click();
    await page.getByRole('heading', { name: 'Enable Neon Auth' }).waitFor({ timeout: 15_000 });
    await page.close();
  });

  it('signs the tab out, saying why, when the API stops accepting the key', async () => {
    const admin = api(t, t.adminKey);
    const { key, id } = (await admin.post('/api_keys', { key_name: 'console-revoked' }).expect(200)).body;
    const page = await browser.newPage();
    const seen = watch(page);

    // A mis-pasted key (a typographic quote, a space inside) is caught before any request.
    await page.goto(`${t.baseUrl}/console`);
    await page.getByLabel('API key').fill(`${key.slice(0, 10)}’ ${key.slice(10)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.field-error', { hasText: 'This is not an API key' }).waitFor();

    // The server unreachable while the tab checks its kept key: the key is kept and "Try again" signs in.
    await signIn(page, t.baseUrl, key);
    await page.route('**/api/v2/auth', (route) => route.abort('connectionrefused'));
    await page.reload();
    await page.getByText('Your session could not be checked').waitFor();
    await page.unroute('**/api/v2/auth');
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByText('Signed in with').waitFor();

    // Revoked mid-session: the next call signs the tab out and says why.
    await page.getByRole('combobox', { name: 'Project' }).locator('option', { hasText: 'console-members' }).waitFor({ state: 'attached' });
    await admin.delete(`/api_keys/${id}`).expect(200);
    await page.getByRole('combobox', { name: 'Project' }).selectOption({ index: 1 });
    await page.getByText('You were signed out: the API no longer accepts this key').waitFor();
    expect(await page.getByLabel('API key').inputValue()).toBe('');
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }))).not.toContain(key);
    expect(seen.problems.filter((p) => !p.includes('net::ERR_CONNECTION_REFUSED'))).toEqual([]);
    expect(seen.statuses).toEqual([401]);

    // And a kept key refused when the tab comes back: signed out at once, saying why.
    const other = (await admin.post('/api_keys', { key_name: 'console-revoked-2' }).expect(200)).body;
    await signIn(page, t.baseUrl, other.key);
    await admin.delete(`/api_keys/${other.id}`).expect(200);
    await page.reload();
    await page.getByText('You were signed out: the API no longer accepts the key this tab kept').waitFor();
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }))).not.toContain(other.key);
    await page.close();
  });

  it('lists the projects shared with a person in no organization, and opens their Auth page', async () => {
    const page = await browser.newPage();
    const seen = watch(page);
    await signIn(page, t.baseUrl, callers.keys.collaborator!);
    expect(await page.locator('main').textContent()).toContain('This key belongs to no organization');
    const shared = page.getByRole('combobox', { name: 'Project' }).locator('optgroup[label="Shared with you"] option');
    await shared.first().waitFor({ state: 'attached' });
    expect(await shared.allTextContents()).toEqual([`console-members (${callers.project.project.id})`]);
    // A search goes to the API.
    await page.getByRole('searchbox', { name: 'Find a project' }).fill('no-such-project');
    await page.getByRole('combobox', { name: 'Project' }).locator('option', { hasText: 'No project matches' }).waitFor({ state: 'attached' });
    await page.getByRole('searchbox', { name: 'Find a project' }).fill('console-members');
    await shared.first().waitFor({ state: 'attached' });
    await page.getByRole('combobox', { name: 'Project' }).selectOption(callers.project.project.id);
    await page.getByRole('button', { name: 'Open Auth page' }).click();
    await page.getByRole('heading', { name: 'Auth' }).first().waitFor();
    expect(await page.locator('.role-note').textContent()).toContain('member');
    expect(seen.problems).toEqual([]);
    await page.close();
  });

  it('shows a member the page without the admin actions, and the API refuses those actions to the member', async () => {
    const { project, branch } = callers.project;
    const base = `/projects/${project.id}/branches/${branch.id}/auth`;
    await callers.call('admin', 'post', base, { auth_provider: 'stack' }).expect(201);

    // Users for the lag chart: created through the provider, so they travel the webhook path the chart measures.
    for (const email of ['m1@example.com', 'm2@example.com']) await callers.call('admin', 'post', `${base}/users`, { email }).expect(201);

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // The page's timers on a clock the test moves (the sync status is read every 5 s).
    await page.clock.install();
    const seen = watch(page);
    await signIn(page, t.baseUrl, callers.keys.member!);
    expect(await page.locator('main').textContent()).toContain('As a member you can see Neon Auth and manage its users');
    await page.goto(`${t.baseUrl}/console#/projects/${project.id}/branches/${branch.id}/auth`);
    await page.getByRole('heading', { name: 'Neon Auth is enabled' }).waitFor();
    await page.getByRole('heading', { name: 'Domains', exact: true }).waitFor();
    // What a member may do is there; what needs an admin is not.
    expect(await page.getByRole('button', { name: 'Create user' }).count()).toBe(1);
    for (const name of ['Disable Neon Auth…', 'Reconcile now', 'Add domain', 'Generate new SDK keys', 'Transfer ownership']) {
      expect(await page.getByRole('button', { name }).count()).toBe(0);
    }
    expect(await page.getByRole('checkbox', { name: /Allow localhost/ }).isDisabled()).toBe(true);
    // The lag chart, once the page has sampled the status twice; its text alternative gives the figures.
    await page.getByText(/^p50 \d+ ms, p99 \d+ ms$/).waitFor({ timeout: 15_000 });
    for (let i = 0; i < 2; i++) {
      await page.clock.runFor(5_100);
      await page.waitForTimeout(200);
    }
    const chart = page.getByRole('img', { name: /^Sync lag, sampled by this page: latest p50 \d+ ms, p99 \d+ ms/ });
    await chart.waitFor();
    expect(await chart.locator('path').count()).toBe(2);
    expect(await unnamedControls(page)).toEqual([]);
    expect(seen.problems).toEqual([]);
    await page.close();

    // The API refuses them to the member whatever a page shows.
    const refused = [
      await callers.call('member', 'delete', base, { delete_data: true }),
      await callers.call('member', 'post', `${base}/domains`, { auth_provider: 'stack', domain: 'https://evil.example.com' }),
      await callers.call('member', 'patch', `${base}/allow_localhost`, { allow_localhost: true }),
      await callers.call('member', 'post', `${base}/sync`),
      await callers.call('member', 'post', '/projects/auth/keys', { project_id: project.id, auth_provider: 'stack' }),
      await callers.call('member', 'post', '/projects/auth/transfer_ownership', { project_id: project.id, auth_provider: 'stack' }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
    // Nothing changed.
    await callers.call('admin', 'get', base).expect(200);
    expect((await callers.call('admin', 'get', `${base}/domains`).expect(200)).body.domains).toEqual([]);
  });
});
