import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`.ci/run` installs it), driven by playwright-core; CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots are kept (test artifacts; git ignores them). */
export const ARTIFACTS = path.resolve('test-artifacts');

/** `describe`, or `describe.skip` saying why, where the chromium package could not be installed. */
export function describeWithChromium(what: string): jest.Describe {
  if (fs.existsSync(CHROMIUM)) return describe;
  process.stderr.write(`SKIPPED the ${what} browser test: no Chromium at ${CHROMIUM} (install Debian's chromium package, or set CHROMIUM_PATH)\n`);
  return describe.skip;
}

/** Headless Chromium without anything that would reach the network on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
