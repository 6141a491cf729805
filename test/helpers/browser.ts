import {mkdirSync} from 'node:fs'
import path from 'node:path'
import {chromium, firefox, type Browser, type BrowserContext, type Page} from 'playwright-core'
import {repoRoot} from './cli.js'

// Debian's Chromium and Firefox ESR driven by playwright-core for the web UI's tests (never
// `playwright install`): Chromium over CDP, Firefox over WebDriver BiDi, which stock Firefox
// speaks (playwright-core's `moz-firefox` channel). One headless browser per test file, a fresh
// context (cookies, storage) per user.

export type BrowserEngine = 'chromium' | 'firefox'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr'
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

export function launchBrowser(engine: BrowserEngine = 'chromium'): Promise<Browser> {
  if (engine === 'firefox') return firefox.launch({channel: 'moz-firefox', executablePath: FIREFOX, headless: true})
  return chromium.launch({executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true})
}

/** A user's browser: 1280×720, the proxy's self-signed certificate accepted, its clipboard usable (Chromium). */
export async function newUser(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({baseURL, ignoreHTTPSErrors: true, viewport: {width: 1280, height: 720}})
  if (browser.browserType().name() === 'chromium') await context.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: baseURL})
  return context
}

/** Where a test file's screenshots go: test-results/web/<name>/ (ignored by git). */
export function screenshotDir(name: string): string {
  const dir = path.join(repoRoot, 'test-results', 'web', name)
  mkdirSync(dir, {recursive: true})
  return dir
}

/** What the page logged as errors and threw, CSP refusals included: a test asserts it stays empty. */
export function pageProblems(page: Page): string[] {
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`${page.url()}: uncaught: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) problems.push(`${page.url()}: console: ${msg.text()}`)
  })
  return problems
}

/** The text on an xterm.js screen (the DOM renderer's rows), lines joined with \n; '' when there is none. */
export function screenText(page: Page, scope = '.term-screen'): Promise<string> {
  return page.evaluate((selector) => {
    const rows = document.querySelector(`${selector} .xterm-rows`)
    return rows ? [...rows.children].map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n') : ''
  }, scope)
}

/**
 * Waits until the terminal in `scope` shows text matching `pattern` (xterm draws asynchronously)
 * and returns the screen; at the deadline, throws with the screen as it was.
 */
export async function waitForScreen(page: Page, pattern: RegExp, scope = '.term-screen', timeout = 30_000): Promise<string> {
  try {
    const handle = await page.waitForFunction(
      ([selector, source, flags]) => {
        const rows = document.querySelector(`${selector} .xterm-rows`)
        const text = rows ? [...rows.children].map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n') : ''
        return new RegExp(source!, flags).test(text) ? text : false
      },
      [scope, pattern.source, pattern.flags],
      {timeout, polling: 100},
    )
    return (await handle.jsonValue()) as string
  } catch (err) {
    const screen = await screenText(page, scope).catch(() => '')
    throw new Error(`the terminal never showed ${pattern} (${(err as Error).message.split('\n')[0]}); it shows:\n${screen}`)
  }
}
