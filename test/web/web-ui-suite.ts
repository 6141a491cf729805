import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import type {Browser, BrowserContext, Page, WebSocketRoute} from 'playwright-core'
import {tctlOk} from '../helpers/cli.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {eventually} from '../helpers/eventually.js'
import {launchBrowser, newUser, pageProblems, screenshotDir, waitForScreen, type BrowserEngine} from '../helpers/browser.js'
import {LOGIN, tempDir} from '../interop/helpers.js'
import {totpCodes} from '../helpers/totp.js'

// The web UI in a real browser (Debian's Chromium or Firefox ESR through playwright-core; each has
// its test file calling webUiSuite) against real
// processes: auth and proxy in one `teleport start`, a labelled node in another. alice (roles
// access and auditor) is invited with tctl, sets her password and enrolls TOTP on the invite page,
// signs in, finds the node, opens a terminal in a new tab, types, pastes and copies, and resizes
// it; bob (allowed to observe) joins her session from the active-sessions page; the ended session
// plays in the browser player; the audit log shows it. A lost terminal connection offers to
// reconnect. Wrong password, wrong code and a locked user are each told in one line; the API
// refuses the cookie without the bearer token; the cookie is HttpOnly, Secure, SameSite=Strict; a
// session ended elsewhere sends the page to sign-in. Screenshots of every main page go to
// test-results/web/web-ui-<browser>/. The clipboard is checked in Chromium only: Firefox gives no
// permission to read it without a user's click on its own paste menu.

const CLUSTER = 'web.e2e'
const NODE = 'web-e2e-node'
const TOKEN = 'node-join-token-web-0123456789abcdef'
const PASSWORD = 'correct horse battery'

export function webUiSuite(engine: BrowserEngine): void {
  describe(`the web UI in ${engine === 'chromium' ? 'Chromium' : 'Firefox'} against real processes`, {timeout: 5 * 60_000}, () => {
    const shots = screenshotDir(`web-ui-${engine}`)
    const dir = tempDir('web-ui')
    let config: string
    let cluster: TeleportDaemon
    let node: TeleportDaemon
    let base: string
    let browser: Browser
    const contexts: BrowserContext[] = []
    const problems: string[][] = []
    const codes = new Map<string, () => Promise<string>>()

    /** A fresh browser for a user; what its pages log as errors is checked at the end. */
    const browse = async (): Promise<Page> => {
      const context = await newUser(browser, base)
      context.setDefaultTimeout(30_000)
      context.on('page', (p) => problems.push(pageProblems(p)))
      contexts.push(context)
      return context.newPage()
    }
    const invite = (user: string, roles: string): string => {
      const out = tctlOk(config, 'users', 'add', user, `--roles=${roles}`, `--logins=${LOGIN}`)
      const url = /https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(out)?.[0]
      assert.ok(url, out)
      return url.replace(/^https:\/\/[^/]+/, base)
    }
    /** The invite page as the user fills it: password twice, a code from the shown secret. */
    const signUp = async (page: Page, url: string, shot?: string): Promise<string> => {
      const response = (await page.goto(url))!
      // The page runs under the proxy's strict policy: no inline script, nothing from elsewhere.
      assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self';/)
      const secret = await page.locator('#totp-secret').getAttribute('data-secret')
      assert.match(secret ?? '', /^[A-Z2-7]{16,}$/)
      const user = (await page.locator('.token-user').textContent())!
      codes.set(user, totpCodes(secret!))
      await page.getByLabel('New password').fill(PASSWORD)
      await page.getByLabel('Confirm password').fill(PASSWORD)
      await page.getByLabel('6-digit code from the app').fill(await codes.get(user)!())
      if (shot) await page.screenshot({path: path.join(shots, shot), fullPage: true})
      await page.getByRole('button', {name: 'Create account'}).click()
      // The account is ready, or the page says in one line why not (which the failure then shows).
      const ready = page.getByRole('heading', {name: 'Your account is ready'})
      await ready.or(page.locator('.message.error')).first().waitFor()
      if (!(await ready.isVisible())) assert.fail(`the invite page refused: ${await page.locator('.message.error').first().textContent()}`)
      return user
    }
    const fillSignIn = async (page: Page, user: string, password: string, code: string) => {
      await page.getByLabel('User name').fill(user)
      await page.getByLabel('Password').fill(password)
      await page.getByLabel('Authenticator code').fill(code)
      await page.getByRole('button', {name: 'Sign in'}).click()
    }
    const signIn = async (page: Page, user: string) => {
      if (!page.url().includes('/web/login')) await page.goto('/web/login')
      await fillSignIn(page, user, PASSWORD, await codes.get(user)!())
      await page.waitForURL((url) => !url.pathname.startsWith('/web/login'))
    }
    /** The one-line message the sign-in form shows after a refused attempt. */
    const refusal = async (page: Page, user: string, password: string, code: string) => {
      await page.goto('/web/login')
      await fillSignIn(page, user, password, code)
      const alert = page.locator('form .message.error')
      await alert.waitFor()
      return (await alert.textContent())!
    }

    before(async () => {
      const [auth, proxySsh, nodePort, web] = [await freePort(), await freePort(), await freePort(), await freePort()]
      base = `https://localhost:${web}`
      config = path.join(dir.path, 'teleport.yaml')
      writeFileSync(config, [
        'teleport:', '  nodename: web-e2e-auth', `  data_dir: ${path.join(dir.path, 'data')}`,
        'auth_service:', `  listen_addr: 127.0.0.1:${auth}`, `  cluster_name: ${CLUSTER}`, `  tokens: ["node:${TOKEN}"]`,
        'proxy_service:', `  listen_addr: 127.0.0.1:${proxySsh}`, `  web_listen_addr: 127.0.0.1:${web}`, '  tunnel_listen_addr: 127.0.0.1:0', `  public_addr: localhost:${web}`,
        'ssh_service:', '  enabled: no', '',
      ].join('\n'))
      cluster = startTeleport(['-c', config])
      const nodeConfig = path.join(dir.path, 'node.yaml')
      writeFileSync(nodeConfig, [
        'teleport:', `  nodename: ${NODE}`, `  data_dir: ${path.join(dir.path, 'node-data')}`, `  auth_token: ${TOKEN}`, `  auth_servers: ["127.0.0.1:${auth}"]`,
        'auth_service:', '  enabled: no', 'proxy_service:', '  enabled: no',
        'ssh_service:', `  listen_addr: 127.0.0.1:${nodePort}`, '  labels: {env: web-e2e, team: infra}', '',
      ].join('\n'))
      ;[browser] = await Promise.all([launchBrowser(engine), cluster.waitForLog(/Web proxy service is starting/)])
      node = startTeleport(['-c', nodeConfig])
      await node.waitForLog(/Node service is starting/)
      const role = path.join(dir.path, 'watch-access.yaml')
      writeFileSync(role, ['kind: role', 'version: v5', 'metadata: {name: watch-access}', 'spec:', '  allow:', `    logins: [${LOGIN}]`, "    node_labels: {'*': '*'}", '    join_sessions: [{name: watch, roles: [access], kinds: [ssh], modes: [observer]}]', ''].join('\n'))
      tctlOk(config, 'create', '-f', role)
    })

    after(async () => {
      for (const context of contexts) await context.close().catch(() => {})
      await browser?.close()
      if (node?.child.exitCode === null && node.child.signalCode === null) await node.stop()
      await cluster?.stop()
      dir.cleanup()
    })

    let alice: Page
    let bob: Page
    let terminal: Page
    let sid: string
    let typed: string

    test('invite → password and TOTP → sign in → the node with its labels → a terminal that runs commands and follows the window size', async () => {
      alice = await browse()
      const user = await signUp(alice, invite('alice', 'access,auditor'), 'invite.png')
      assert.equal(user, 'alice')
      await alice.screenshot({path: path.join(shots, 'invite-done.png')})
      await alice.getByRole('link', {name: 'Sign in'}).click()
      await alice.waitForURL(/\/web\/login\?user=alice$/)
      assert.equal(await alice.getByLabel('User name').inputValue(), 'alice', 'the user name is filled in')
      await alice.screenshot({path: path.join(shots, 'login.png')})
      await signIn(alice, 'alice')
      assert.equal(new URL(alice.url()).pathname, '/web/nodes')

      const row = alice.locator(`tr[data-node="${NODE}"]`)
      await row.waitFor()
      assert.deepEqual(await row.locator('.chip').allTextContents(), ['env: web-e2e', 'team: infra'])
      assert.match((await row.locator('td').nth(1).textContent())!, /^127\.0\.0\.1:\d+$/)
      await alice.getByRole('searchbox', {name: 'Search nodes'}).fill('env=elsewhere')
      await row.waitFor({state: 'detached'})
      await alice.getByRole('searchbox', {name: 'Search nodes'}).fill('team=infra')
      await row.waitFor()
      await alice.locator('.topbar .cluster').filter({hasText: CLUSTER}).waitFor()
      await alice.screenshot({path: path.join(shots, 'nodes.png')})

      await row.getByRole('button', {name: 'Connect'}).click()
      const [opened] = await Promise.all([alice.context().waitForEvent('page'), alice.getByRole('menuitem', {name: LOGIN}).click()])
      terminal = opened
      await terminal.waitForURL(/\/web\/terminal\/[^/]+\/[^/]+$/)
      assert.equal(decodeURIComponent(terminal.url().split('/').pop()!), LOGIN)
      await terminal.locator('.term-status[data-state="open"]').waitFor()
      sid = (await terminal.locator('.terminal-page').getAttribute('data-sid'))!
      assert.ok(sid, 'the page knows its session id')
      await terminal.locator('.term-screen .xterm-helper-textarea').focus()
      await terminal.keyboard.type('echo web-$RANDOM\n')
      typed = (await waitForScreen(terminal, /^web-\d+$/m)).match(/^web-\d+$/m)![0]
      await terminal.screenshot({path: path.join(shots, 'terminal.png')})

      if (engine === 'chromium') {
        // Paste types the clipboard into the shell; a double-click selects a word, Ctrl+Shift+C copies it.
        await terminal.evaluate(() => navigator.clipboard.writeText('echo pasted-$((40+2))'))
        await terminal.keyboard.press('Control+Shift+V')
        await terminal.keyboard.press('Enter')
        await waitForScreen(terminal, /^pasted-42$/m)
        const line = (await terminal.locator('.term-screen .xterm-rows > div').filter({hasText: /^pasted-42\s*$/}).boundingBox())!
        await terminal.mouse.dblclick(line.x + 20, line.y + line.height / 2)
        await terminal.keyboard.press('Control+Shift+C')
        assert.equal(await terminal.evaluate(() => navigator.clipboard.readText()), 'pasted-42')
      }

      const size = () => terminal.locator('.term-screen').evaluate((el) => `${(el as HTMLElement).dataset.rows} ${(el as HTMLElement).dataset.cols}`)
      const before = await size()
      await terminal.setViewportSize({width: 900, height: 500})
      await terminal.waitForFunction((was) => {
        const el = document.querySelector<HTMLElement>('.term-screen')!
        return `${el.dataset.rows} ${el.dataset.cols}` !== was
      }, before)
      const after = await size()
      const [rows, cols] = after.split(' ').map(Number) as [number, number]
      assert.ok(rows < Number(before.split(' ')[0]) && cols < Number(before.split(' ')[1]), `${before} → ${after}`)
      await terminal.keyboard.type('clear; stty size\n')
      await waitForScreen(terminal, new RegExp(`^${rows} ${cols}$`, 'm'))
    })

    test('bob joins the session as an observer and sees the same screen; the ended session plays in the player', async () => {
      bob = await browse()
      await signUp(bob, invite('bob', 'watch-access'))
      await signIn(bob, 'bob')
      await bob.getByRole('link', {name: 'Active sessions'}).click()
      const row = bob.locator(`tr[data-sid="${sid}"]`)
      await row.waitFor()
      assert.match((await row.textContent())!, /alice/)
      await bob.screenshot({path: path.join(shots, 'sessions.png')})
      const [watch] = await Promise.all([bob.context().waitForEvent('page'), row.getByRole('link', {name: 'Join as observer'}).click()])
      await watch.waitForURL(new RegExp(`/web/terminal/join/${sid}\\?mode=observer$`))
      await watch.locator('.term-status[data-state="open"]').waitFor()
      await terminal.keyboard.type('echo seen-by-$((6*7))\n')
      await waitForScreen(watch, /^seen-by-42$/m)
      await watch.screenshot({path: path.join(shots, 'observer.png')})

      await terminal.keyboard.type('exit\n')
      await terminal.locator('.banner').filter({hasText: 'Session ended'}).waitFor()
      await watch.locator('.banner').filter({hasText: 'Session ended'}).waitFor()
      await eventually(async () => {
        await bob.getByRole('button', {name: 'Refresh'}).click()
        await bob.locator('.table-wrap table').waitFor()
        return (await row.count()) === 0
      }, 'the ended session off the active list')

      await alice.getByRole('link', {name: 'Recordings'}).click()
      const recording = alice.locator(`tr[data-sid="${sid}"]`)
      await eventually(async () => {
        await alice.getByRole('button', {name: 'Search'}).click()
        return (await recording.count()) > 0
      }, 'the recording in the list')
      await alice.screenshot({path: path.join(shots, 'recordings.png')})
      await recording.getByRole('link', {name: 'Play'}).click()
      await alice.waitForURL(`${base}/web/player/${sid}`)
      await waitForScreen(alice, new RegExp(`^${typed}$`, 'm'), '.player-screen')
      await alice.keyboard.press(' ')
      await alice.locator('.player-page[data-state="paused"]').waitFor()
      assert.equal(await alice.getByRole('button', {name: 'Play'}).count(), 1, 'the button offers to play again')
      await alice.keyboard.press(' ')
      await alice.locator('.player-page[data-state="playing"]').waitFor()
      await alice.getByLabel('Speed').selectOption('8')
      await alice.locator('.player-page[data-state="ended"]').waitFor()
      assert.match((await alice.locator('.player-controls .time').textContent())!, /^(\d\d:\d\d) \/ \1$/)
      await alice.screenshot({path: path.join(shots, 'player.png')})
      // Seek back to the start: the screen is drawn again from the beginning, without the output.
      await alice.locator('.player-controls .seek').evaluate((seek: HTMLInputElement) => {
        seek.value = '0'
        seek.dispatchEvent(new Event('change'))
      })
      await alice.waitForFunction(
        (output) => {
          const rows = document.querySelector('.player-screen .xterm-rows')!
          return document.querySelector<HTMLElement>('.player-page')!.dataset.ms === '0' && ![...rows.children].some((row) => row.textContent?.trim() === output)
        },
        typed,
      )
    })

    test('bob changes his password on the account page; a wrong current password is refused in one line', async () => {
      await bob.getByRole('link', {name: 'Account'}).click()
      const change = async (current: string) => {
        await bob.getByLabel('Current password').fill(current)
        await bob.getByLabel('New password', {exact: true}).fill(`${PASSWORD} 2`)
        await bob.getByLabel('Confirm new password').fill(`${PASSWORD} 2`)
        await bob.getByLabel('Authenticator code').fill(await codes.get('bob')!())
        await bob.getByRole('button', {name: 'Change password'}).click()
        const said = bob.locator('form .message:not([hidden])')
        await said.waitFor()
        return {kind: await said.getAttribute('class'), text: await said.textContent()}
      }
      assert.deepEqual(await change('not my password'), {kind: 'message error', text: 'invalid username, password or second factor'})
      assert.deepEqual(await change(PASSWORD), {kind: 'message info', text: 'Your password has been changed.'})
      assert.equal(await bob.getByLabel('Current password').inputValue(), '', 'the form is emptied')
    })

    test('a lost connection says so and offers to reconnect, which opens a new shell', async () => {
      const sockets: WebSocketRoute[] = []
      await alice.context().routeWebSocket(/\/connect\/ws\?/, (page) => {
        sockets.push(page)
        page.connectToServer()
      })
      await alice.getByRole('link', {name: 'Nodes'}).click()
      await alice.locator(`tr[data-node="${NODE}"]`).getByRole('button', {name: 'Connect'}).click()
      const [tab] = await Promise.all([alice.context().waitForEvent('page'), alice.getByRole('menuitem', {name: LOGIN}).click()])
      await tab.locator('.term-status[data-state="open"]').waitFor()
      const first = await tab.locator('.terminal-page').getAttribute('data-sid')
      await sockets.at(-1)!.close({code: 1011, reason: 'proxy restarting'})
      await tab.locator('.banner').filter({hasText: 'Connection lost'}).waitFor()
      assert.equal(await tab.locator('.term-status').textContent(), 'Disconnected')
      await tab.screenshot({path: path.join(shots, 'terminal-lost.png')})
      await tab.getByRole('button', {name: 'Reconnect'}).click()
      await tab.locator('.term-status[data-state="open"]').waitFor()
      await tab.locator('.banner').waitFor({state: 'hidden'})
      assert.notEqual(await tab.locator('.terminal-page').getAttribute('data-sid'), first, 'a new session')
      await tab.keyboard.type('echo again-$((6*7))\n')
      await waitForScreen(tab, /^again-42$/m)
      await tab.keyboard.type('exit\n')
      await tab.locator('.banner').filter({hasText: 'Session ended'}).waitFor()
      await tab.close()
    })

    test('the audit log shows the session; the account page names the user', async () => {
      await alice.getByRole('link', {name: 'Audit log'}).click()
      await alice.getByLabel('Event type').selectOption('session.start')
      const started = alice.locator('tr[data-event="session.start"]').filter({hasText: sid})
      const refused = alice.locator('.message.error')
      await started.or(refused).first().waitFor()
      if (await refused.count()) assert.fail(`the audit log refused: ${await refused.first().textContent()}`)
      await started.click()
      const detail = JSON.parse((await alice.getByLabel('Event detail').textContent())!) as {event: string; sid: string; user: string}
      assert.deepEqual([detail.event, detail.sid, detail.user], ['session.start', sid, 'alice'])
      await alice.screenshot({path: path.join(shots, 'audit.png')})
      // A reload keeps the session (the token is in the tab's sessionStorage) and the page.
      await alice.reload()
      await alice.locator('.topbar .user').filter({hasText: 'alice'}).waitFor()
      await alice.getByRole('heading', {name: 'Audit log'}).waitFor()
      await alice.getByRole('link', {name: 'Account'}).click()
      await alice.getByText(/^Signed in as alice \(roles: access, auditor\)/).waitFor()
      await alice.screenshot({path: path.join(shots, 'account.png')})
      await alice.goBack()
      await alice.getByRole('heading', {name: 'Audit log'}).waitFor()
      assert.equal(new URL(alice.url()).pathname, '/web/audit', 'Back returns to the audit log')
    })

    test('wrong password, wrong code and a locked user are each refused in one line', async () => {
      const carol = await browse()
      await signUp(carol, invite('carol', 'access'))
      const code = codes.get('carol')!
      assert.match(await refusal(carol, 'carol', 'not the password', await code()), /^invalid username, password or second factor$/)
      await carol.screenshot({path: path.join(shots, 'login-refused.png')})
      assert.match(await refusal(carol, 'carol', PASSWORD, '000000'), /^invalid username, password or second factor$/)
      tctlOk(config, 'lock', '--user=carol', '--message=Suspicious activity')
      const locked = await refusal(carol, 'carol', PASSWORD, await code())
      assert.match(locked, /lock/i)
      assert.match(locked, /Suspicious activity/)
      assert.doesNotMatch(locked, /\n/)
    })

    test('the session cookie is HttpOnly, Secure and SameSite=Strict, and useless without the bearer token', async () => {
      const [cookie] = (await alice.context().cookies()).filter((c) => c.name === '__Host-session')
      assert.ok(cookie, 'the session cookie is set')
      assert.deepEqual([cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path], [true, true, 'Strict', '/'])
      assert.equal(await alice.evaluate(() => document.cookie.includes('__Host-session')), false, 'scripts cannot read it')
      const status = (bearer: boolean) =>
        alice.evaluate(
          async ([site, bearer]) => {
            const token = (JSON.parse(sessionStorage.getItem('teleport.web.session')!) as {token: string}).token
            return (await fetch(`/v1/webapi/sites/${site}/nodes`, {headers: bearer ? {authorization: `Bearer ${token}`} : {}})).status
          },
          [CLUSTER, bearer] as const,
        )
      assert.equal(await status(true), 200)
      assert.equal(await status(false), 401)
    })

    test('a session ended elsewhere sends the page to sign-in, saying so, and back after signing in; Sign out ends it', async () => {
      await alice.goto('/web/audit')
      await alice.locator('.topbar').waitFor()
      // Signed out from another place with this session's token: the page does not know yet.
      assert.equal(await alice.evaluate(async () => {
        const token = (JSON.parse(sessionStorage.getItem('teleport.web.session')!) as {token: string}).token
        return (await fetch('/v1/webapi/sessions/web', {method: 'DELETE', headers: {authorization: `Bearer ${token}`}})).status
      }), 200)
      await alice.getByRole('link', {name: 'Nodes'}).click()
      await alice.getByText('Your session has expired. Sign in again.').waitFor()
      assert.match(alice.url(), /\/web\/login\?redirect=%2Fweb%2Fnodes$/)
      await signIn(alice, 'alice')
      assert.equal(new URL(alice.url()).pathname, '/web/nodes')

      // Sign out from the top bar: back to sign-in, and the session's token is refused from then on.
      const token = await alice.evaluate(() => (JSON.parse(sessionStorage.getItem('teleport.web.session')!) as {token: string}).token)
      await alice.getByRole('button', {name: 'Sign out'}).click()
      await alice.waitForURL(/\/web\/login$/)
      assert.equal(await alice.evaluate(() => sessionStorage.getItem('teleport.web.session')), null)
      const refused = await alice.evaluate(async ([site, token]) => (await fetch(`/v1/webapi/sites/${site}/nodes`, {headers: {authorization: `Bearer ${token}`}})).status, [CLUSTER, token] as const)
      assert.equal(refused, 401)
    })

    test('no page logged an error or broke the Content-Security-Policy', () => {
      assert.deepEqual(problems.flat(), [])
    })
  })
}
