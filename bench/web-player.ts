// The browser player in `npm run bench` (part of `playback`): the same large recording opened in
// headless Chromium (Debian's, through playwright-core) by a user signed in through the invite
// flow. Reported: from the player page's navigation to the first text on its screen, from the
// WebSocket's creation to its first output frame (target < 1 s), and the page's JS heap while the
// recording plays at 8× (the tab must not hold the recording).
import {generateTotpCode} from '../src/services/totp.js'
import {launchBrowser, newUser} from '../test/helpers/browser.js'
import {LOGIN, must, tctl, type BenchCluster} from './cluster.js'

export interface WebPlayerFigures {
  firstTextMs: number
  firstFrameMs: number
  /** JS heap samples (MB) while playing. */
  heapMB: number[]
}

export async function measureWebPlayer(cluster: BenchCluster, sid: string): Promise<WebPlayerFigures> {
  const origin = `https://localhost:${cluster.webPort}`
  const out = must(tctl, ['-c', cluster.config, 'users', 'add', 'bench-viewer', '--roles=access,auditor', `--logins=${LOGIN}`])
  const invite = new URL(/https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(out)![0]).pathname
  const browser = await launchBrowser()
  try {
    const page = await (await newUser(browser, origin)).newPage()
    await page.goto(invite)
    const secret = (await page.locator('#totp-secret').getAttribute('data-secret'))!
    await page.getByLabel('New password').fill('correct horse battery')
    await page.getByLabel('Confirm password').fill('correct horse battery')
    await page.getByLabel('6-digit code from the app').fill(generateTotpCode(secret, Date.now() - 30_000))
    await page.getByRole('button', {name: 'Create account'}).click()
    await page.getByRole('link', {name: 'Sign in'}).click()
    await page.getByLabel('User name').fill('bench-viewer')
    await page.getByLabel('Password').fill('correct horse battery')
    await page.getByLabel('Authenticator code').fill(generateTotpCode(secret, Date.now()))
    await page.getByRole('button', {name: 'Sign in'}).click()
    await page.waitForURL(/nodes/)

    let socketAt = 0
    let firstFrameAt = 0
    page.on('websocket', (ws) => {
      if (!ws.url().includes('sessionrecording')) return
      socketAt = performance.now()
      ws.on('framereceived', (frame) => {
        if (!firstFrameAt && typeof frame.payload !== 'string') firstFrameAt = performance.now()
      })
    })
    const start = performance.now()
    await page.goto(`/web/player/${sid}`)
    await page.waitForFunction(() => (document.querySelector('.player-screen .xterm-rows')?.textContent ?? '').trim().length > 0, null, {polling: 'raf', timeout: 60_000})
    const firstTextMs = performance.now() - start
    await page.getByLabel('Speed').selectOption('8')
    const heapMB: number[] = []
    for (let i = 1; i <= 5; i++) {
      // Each sample 10 s further into the recording (or at its end).
      await page.waitForFunction((ms) => Number(document.querySelector<HTMLElement>('.player-page')?.dataset.ms ?? 0) > ms || document.querySelector('.player-page[data-state="ended"]') !== null, i * 10_000, {timeout: 120_000}).catch(() => {})
      heapMB.push(await page.evaluate(() => (performance as unknown as {memory: {usedJSHeapSize: number}}).memory.usedJSHeapSize / 1e6))
    }
    return {firstTextMs, firstFrameMs: firstFrameAt - socketAt, heapMB}
  } finally {
    await browser.close()
  }
}
