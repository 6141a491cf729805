import assert from 'node:assert/strict'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import type {Browser} from 'playwright-core'
import {FakeClock} from '../../src/lib/clock.js'
import {generateTotpCode} from '../../src/services/index.js'
import {launchBrowser, newUser, screenshotDir} from '../helpers/browser.js'
import {repoRoot} from '../helpers/cli.js'
import {readUserToken, redeemUserToken, tokenOf} from '../helpers/invite-page.js'
import {startTestCluster, type TestCluster} from '../integration/proxy/helpers.js'

// A web session that expires while the page is open, by moving auth's clock past
// auth_service.web_idle_timeout (30m): the page's next call is refused and it says so, then a
// new sign-in works. The cluster runs in this process (its clock is a FakeClock) with the built
// app (dist/web, from `npm run build`); the browser is Debian's Chromium.

const PASSWORD = 'correct horse battery'
const IDLE_MS = 30 * 60_000

describe('web UI: an expired web session', {timeout: 120_000}, () => {
  let cluster: TestCluster
  let browser: Browser
  const clock = new FakeClock(Date.now())

  before(async () => {
    cluster = await startTestCluster({webAssetsDir: path.join(repoRoot, 'dist', 'web'), authClock: clock})
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await cluster?.close()
  })

  test('idle past the timeout: the next page says the session expired; signing in again goes on', async () => {
    const {invite} = await cluster.admin.createUser({name: 'erin', roles: ['access'], traits: {logins: ['root']}})
    // Codes by auth's clock (it stands still while the test runs): this step's for the invite.
    const token = tokenOf(invite.url)
    const secret = (await readUserToken(cluster.caller, token)).view!.totp.secret
    const redeemed = await redeemUserToken(cluster.caller, {token, password: PASSWORD, second_factor_token: generateTotpCode(secret, clock.now().getTime())})
    assert.equal(redeemed.status, 200, redeemed.text)
    const page = await (await newUser(browser, `https://127.0.0.1:${cluster.proxy.webAddress.port}`)).newPage()
    const signIn = async (code: string) => {
      await page.getByLabel('User name').fill('erin')
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByLabel('Authenticator code').fill(code)
      await page.getByRole('button', {name: 'Sign in'}).click()
    }
    await page.goto('/web/login')
    // A code is good once: the invite used this step's, sign-in takes the next one.
    await signIn(generateTotpCode(secret, clock.now().getTime() + 30_000))
    await page.waitForURL(/\/web\/nodes/)

    await page.getByRole('link', {name: 'Recordings'}).click()
    await page.waitForURL(/\/web\/recordings/)
    // The URL changes before the page is drawn (history API, not a navigation), so wait until
    // its frame is in and its list has loaded: a call still in flight when the clock moves
    // would end the session before the click below.
    await page.locator('nav a[aria-current="page"]', {hasText: 'Recordings'}).waitFor()
    await page.getByText('Page 1', {exact: true}).waitFor()
    clock.advance(IDLE_MS + 60_000)
    await page.getByRole('link', {name: 'Nodes'}).click()
    await page.getByText('Your session has expired. Sign in again.').waitFor()
    assert.match(page.url(), /\/web\/login/)
    await page.screenshot({path: path.join(screenshotDir('web-session-expiry'), 'expired.png')})

    await signIn(generateTotpCode(secret, clock.now().getTime()))
    // Back to the page it was going to.
    await page.waitForURL(/\/web\/nodes/)
  })
})
