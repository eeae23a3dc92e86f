import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { describe, it } from 'vitest';

/** Debian's chromium package; STRATA_CHROMIUM points elsewhere. */
export const CHROMIUM_PATH = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumInstalled = existsSync(CHROMIUM_PATH);
export const CHROMIUM_MISSING = `Chromium is not installed at ${CHROMIUM_PATH}: apt-get install -y chromium (or set STRATA_CHROMIUM); the dashboard's browser tests need it`;

/**
 * `describe` for tests that drive Chromium. Without Chromium they are skipped with the reason in their title; in CI
 * (which installs it) a missing Chromium is a failing test instead, so a skip never hides a failure there.
 */
export function describeInChromium(title: string, body: () => void): void {
  if (!chromiumInstalled && process.env.CI && process.env.CI !== 'false') {
    describe(title, () => {
      it('needs Chromium', () => {
        throw new Error(CHROMIUM_MISSING);
      });
    });
    return;
  }
  describe.skipIf(!chromiumInstalled)(chromiumInstalled ? title : `${title} — skipped: ${CHROMIUM_MISSING}`, body);
}

/** Where screenshots go (gitignored): look at them before calling a change to the pages done. */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** Real headless Chromium with a fresh profile; pages report console errors and CSP violations. */
export async function launchChromium(): Promise<{ context: BrowserContext; problems: string[]; newPage(): Promise<Page>; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'strata-chromium-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 900 },
  });
  const problems: string[] = [];
  return {
    context,
    problems,
    async newPage() {
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error' || /Content.Security.Policy/i.test(message.text())) problems.push(`${page.url()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
