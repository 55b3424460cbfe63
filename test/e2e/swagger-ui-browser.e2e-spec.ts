import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Swagger UI in a real browser (Debian's Chromium through playwright-core; `.ci/run` installs it): under the
 * Content-Security-Policy the page renders, "Authorize" and "Try it out" work against this origin, the browser
 * reports no policy violation, and the API key is not persisted in local storage.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where the screenshot of the page after the calls is kept (a test artifact; git ignores it). */
const ARTIFACTS = path.resolve('test-artifacts');

/** Skipped (saying why) only where Debian's chromium package could not be installed; `.ci/run` installs it. */
const describeWithChromium = fs.existsSync(CHROMIUM) ? describe : describe.skip;
if (!fs.existsSync(CHROMIUM)) {
  process.stderr.write(`SKIPPED the Swagger UI browser test: no Chromium at ${CHROMIUM} (install Debian's chromium package, or set CHROMIUM_PATH)\n`);
}

describeWithChromium('Swagger UI in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
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

    // Authorize with the key, then "Try it out" on GET /api/v2/users/me.
    await page.click('button.authorize');
    await page.fill('.auth-container input[type=text], .auth-container input[type=password]', t.adminKey);
    await page.click('.auth-btn-wrapper button.authorize');
    await page.click('button.btn-done');
    const op = page.locator('[id$="-getCurrentUserInfo"]').first();
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table tbody td.response-col_status').first();
    await status.waitFor({ timeout: 15_000 });
    expect((await status.textContent())?.trim()).toBe('200');
    expect(await op.locator('.live-responses-table tbody .microlight').first().textContent()).toContain('admin@example.com');

    // And a write: "Try it out" on POST /projects with the example body answers 201.
    const create = page.locator('[id$="-createProject"]').first();
    await create.locator('.opblock-summary').click();
    await create.locator('button.try-out__btn').click();
    await create.locator('textarea.body-param__text').fill(JSON.stringify({ project: { name: 'from swagger ui' } }));
    await create.locator('button.execute').click();
    const created = create.locator('.live-responses-table tbody td.response-col_status').first();
    await created.waitFor({ timeout: 15_000 });
    expect((await created.textContent())?.trim()).toBe('201');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await created.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'swagger-ui.png'), fullPage: false });

    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }));
    expect(stored).not.toContain(t.adminKey);
    expect(problems).toEqual([]);
    await page.close();
  });
});
