import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { api, createProject } from '../helpers/fixtures.js';
import { ARTIFACTS, describeWithChromium, launchChromium } from '../helpers/browser.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Swagger UI in a real browser (Debian's Chromium through playwright-core; `.ci/run` installs it): under the
 * Content-Security-Policy the page renders, "Authorize" and "Try it out" work against this origin, the browser
 * reports no policy violation, and the API key is not persisted in local storage.
 */
const describeChromium = describeWithChromium('Swagger UI');

describeChromium('Swagger UI in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('renders under its CSP, authorizes and calls the API, and keeps no key in local storage', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || /Content Security Policy|Refused to/.test(msg.text())) problems.push(msg.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));

    const response = await page.goto(`${t.baseUrl}/api/docs`);
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response?.headers()['x-content-type-options']).toBe('nosniff');
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 15_000 });
    expect(await page.textContent('.swagger-ui .info .title')).toContain('Neon Auth control plane API');

    // The sections in the order a person works: projects, branches, Neon Auth first; the extensions last.
    const sections = await page.locator('.opblock-tag-section h3.opblock-tag').evaluateAll((tags) => tags.map((h) => h.getAttribute('data-tag')));
    expect(sections.slice(0, 4)).toEqual(['Project', 'Branch', 'Auth', 'Auth (legacy)']);
    expect(sections.at(-1)).toBe('Extensions');

    const authorize = async (value: string): Promise<void> => {
      await page.click('button.authorize');
      const dialog = page.locator('.auth-container').first();
      // The hint says what to paste; the keys are opaque, not JWTs.
      expect(await dialog.textContent()).toContain('Paste the key alone');
      expect(await dialog.textContent()).not.toContain('JWT');
      await page.fill('.auth-container input[type=text], .auth-container input[type=password]', value);
      await page.click('.auth-btn-wrapper button.authorize');
      await page.click('button.btn-done');
    };
    const tryOut = async (operationId: string) => {
      const op = page.locator(`[id$="-${operationId}"]`).first();
      if (!(await op.locator('button.execute').isVisible())) {
        if (!(await op.locator('button.try-out__btn').isVisible())) await op.locator('.opblock-summary').click();
        await op.locator('button.try-out__btn').click();
      }
      // The answer of an earlier call stays on screen until cleared: clear it, so the one read is this call's.
      if (await op.locator('button.btn-clear').isVisible()) await op.locator('button.btn-clear').click();
      await op.locator('.live-responses-table').waitFor({ state: 'detached' });
      await op.locator('button.execute').click();
      const status = op.locator('.live-responses-table tbody td.response-col_status').first();
      await status.waitFor({ timeout: 15_000 });
      return { op, status: (await status.textContent())?.trim(), body: await op.locator('.live-responses-table tbody .microlight').first().textContent() };
    };

    // A key pasted with its "Bearer " (Swagger UI adds its own): the 401 says what went wrong.
    await authorize(`Bearer ${t.adminKey}`);
    const doubled = await tryOut('getCurrentUserInfo');
    expect(doubled.status).toBe('401');
    expect(doubled.body).toContain('says \\"Bearer\\" twice');
    await page.click('button.authorize');
    await page.click('.auth-container button.btn-done:has-text("Logout"), .auth-container button:has-text("Logout")');
    await page.click('button.btn-done');

    // Authorize with the key alone, then "Try it out" on GET /api/v2/users/me.
    await authorize(t.adminKey);
    const me = await tryOut('getCurrentUserInfo');
    expect(me.status).toBe('200');
    expect(me.body).toContain('admin@example.com');

    // And a write: "Try it out" on POST /projects with the pre-filled example body, as it is, answers 201.
    const create = page.locator('[id$="-createProject"]').first();
    await create.locator('.opblock-summary').click();
    await create.locator('button.try-out__btn').click();
    expect(JSON.parse(await create.locator('textarea.body-param__text').inputValue())).toEqual({ project: { name: 'my-app' } });
    await create.locator('button.execute').click();
    const created = create.locator('.live-responses-table tbody td.response-col_status').first();
    await created.waitFor({ timeout: 15_000 });
    expect((await created.textContent())?.trim()).toBe('201');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await created.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'swagger-ui.png'), fullPage: false });

    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }));
    expect(stored).not.toContain(t.adminKey);
    // The one 401 asked for above is the browser's only complaint.
    const refused = 'Failed to load resource: the server responded with a status of 401 (Unauthorized)';
    expect(problems.filter((p) => p === refused)).toHaveLength(1);
    expect(problems.filter((p) => p !== refused)).toEqual([]);
    await page.close();
  });

  it('the ownership-transfer confirm page names the Neon project, says when the link expires, and keeps its margins at 375 px', async () => {
    const admin = api(t, t.adminKey);
    const project = await createProject(admin, { name: 'transfer me' });
    const projectId = project.project.id as string;
    const enabled = await admin.post(`/projects/${projectId}/branches/${project.branch.id}/auth`, { auth_provider: 'stack' }).expect(201);
    const providerProjectId = enabled.body.auth_provider_project_id as string;
    const { url } = (await admin.post('/projects/auth/transfer_ownership', { project_id: projectId, auth_provider: 'stack' }).expect(200)).body as { url: string };

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    for (const width of [375, 1440]) {
      const page = await browser.newPage({ viewport: { width, height: 800 } });
      const problems: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error' || /Content Security Policy|Refused to/.test(msg.text())) problems.push(msg.text());
      });
      page.on('pageerror', (err) => problems.push(err.message));
      expect((await page.goto(url))?.status()).toBe(200);
      const text = (await page.textContent('main'))!;
      expect(await page.textContent('h1')).toContain('transfer me');
      expect(text).toContain(`Neon project ${projectId}`);
      expect(text).not.toContain(providerProjectId); // the provider's internal id means nothing to the person
      expect(text).toMatch(/expires in (5[89]|60) minutes \(\d{1,2} [A-Z][a-z]+ \d{4}(,| at) \d{2}:\d{2} UTC\)/);
      expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
      const card = (await page.locator('main').boundingBox())!;
      expect(card.x).toBeGreaterThanOrEqual(12);
      expect(width - (card.x + card.width)).toBeGreaterThanOrEqual(12);
      // Every control has an accessible name.
      expect(await page.getByRole('textbox', { name: 'Account e-mail' }).count()).toBe(1);
      expect(await page.getByRole('button', { name: 'Confirm transfer' }).count()).toBe(1);
      await page.screenshot({ path: path.join(ARTIFACTS, `transfer-confirm-${width}.png`), fullPage: true });
      expect(problems).toEqual([]);
      await page.close();
    }
  });
});
