/**
 * A real browser for the passkey tests: Debian's Chromium (/usr/bin/chromium)
 * driven by playwright-core, kept off the network, with virtual WebAuthn
 * authenticators added over the DevTools protocol (WebAuthn.enable,
 * WebAuthn.addVirtualAuthenticator) on the page's own session.
 *
 * A virtual authenticator's credentials and PRF secrets live only as long as
 * the browser, so a test enrols and unlocks within one launch. Launch once
 * per test file and reuse the page; remove authenticators between cases.
 */
import { existsSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { Browser, CDPSession, Page } from 'playwright-core';
import type { Interaction } from '../../src/factors/inputs.js';
import { CHROMIUM_PATH, OFFLINE_CHROMIUM_ARGS, virtualAuthenticatorOptions } from '../../src/bench/headless-chromium.js';

/** The capabilities of a virtual authenticator; the defaults make a platform passkey with UV and PRF. */
export type AuthenticatorOptions = Parameters<typeof virtualAuthenticatorOptions>[0];

/** What the ceremony page showed at the end. */
export interface PageOutcome {
  readonly state: 'done' | 'failed';
  readonly text: string;
}

/** An Interaction that completes every page it is sent to in the test browser. */
export interface BrowserInteraction extends Interaction {
  /** Waits for every page opened so far; rethrows a failure to drive one. */
  settled(): Promise<PageOutcome[]>;
}

export class TestBrowser {
  private constructor(
    readonly browser: Browser,
    readonly page: Page,
    readonly cdp: CDPSession,
  ) {}

  /** Launches Chromium (fails with a clear message when it is not installed). */
  static async launch(): Promise<TestBrowser> {
    assert.ok(existsSync(CHROMIUM_PATH), `${CHROMIUM_PATH} is missing: install Debian's chromium (scripts/setup-system.sh does)`);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...OFFLINE_CHROMIUM_ARGS] });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      return new TestBrowser(browser, page, cdp);
    } catch (error) {
      await browser.close();
      throw error;
    }
  }

  /** Adds a virtual CTAP 2.1 platform authenticator; returns its id. */
  async addAuthenticator(o: AuthenticatorOptions = {}): Promise<string> {
    const { authenticatorId } = await this.cdp.send('WebAuthn.addVirtualAuthenticator', { options: virtualAuthenticatorOptions(o) });
    return authenticatorId;
  }

  async removeAuthenticator(id: string): Promise<void> {
    await this.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: id });
  }

  /** Opens a ceremony page, presses Continue (or Cancel) and returns what the page shows at the end. */
  async completeCeremony(url: string, action: 'continue' | 'cancel' = 'continue'): Promise<PageOutcome> {
    await this.page.goto(url);
    await this.page.click(action === 'continue' ? '#start' : '#cancel');
    // A selector, not a predicate: the page's CSP forbids the eval a string predicate needs.
    await this.page.waitForSelector('body[data-state="done"], body[data-state="failed"]', { state: 'attached', timeout: 60_000 });
    const state = (await this.page.getAttribute('body', 'data-state')) as PageOutcome['state'];
    return { state, text: (await this.page.textContent('#status')) ?? '' };
  }

  /** An Interaction for factors: each page it is sent to is completed here, in order. */
  interaction(action: 'continue' | 'cancel' = 'continue'): BrowserInteraction {
    const runs: Promise<PageOutcome>[] = [];
    let queue: Promise<unknown> = Promise.resolve();
    return {
      notify() {},
      openUrl: (url) => {
        const run = queue.then(() => this.completeCeremony(url, action));
        run.catch(() => undefined);
        queue = run.catch(() => undefined);
        runs.push(run);
      },
      settled: () => Promise.all(runs),
    };
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
