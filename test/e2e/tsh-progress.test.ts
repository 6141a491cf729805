import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {ApiClient} from '../../src/api/client.js'
import type {AuthApi} from '../../src/api/auth-api.js'
import {AuthApiClient} from '../../src/api/auth-api-client.js'
import {readIdentityFile} from '../../src/api/identity-file.js'
import {startAuthService, type RunningAuthService} from '../../src/daemon/auth/auth-service.js'
import {startProxyService, type RunningProxyService} from '../../src/daemon/proxy/proxy-service.js'
import {dataDirPaths} from '../../src/config/data-dir.js'
import {createLogger} from '../../src/lib/log.js'
import {repoRoot} from '../helpers/cli.js'
import {eventually} from '../helpers/eventually.js'
import {inPty} from '../helpers/pty.js'

// tsh login's spinner, seen as a user sees it: the real bin/tsh in a pseudo-terminal against a
// real auth and proxy. Between tsh and the proxy sits a gate (a TCP relay) that holds the
// connection until the test lets it through, so "the proxy is slow" is a state the test makes,
// not a race against the spinner's 300 ms.

const TIMEOUT_MS = 60_000
const PASSWORD = 'correct horse battery'
const PROXY_TOKEN = 'proxy-static-token-0123456789abcdef'
const TSH = path.join(repoRoot, 'bin', 'tsh')
const SPINNER = /[-\\|/] Connecting to the proxy https:\/\/127\.0\.0\.1:\d+…/

/** A TCP relay to `target` that holds every connection until open() (then passes all through). */
async function startGate(target: number): Promise<{port: number; connected: Promise<void>; open: () => void; close: () => void}> {
  let release!: () => void
  const opened = new Promise<void>((resolve) => (release = resolve))
  let seen!: () => void
  const connected = new Promise<void>((resolve) => (seen = resolve))
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    sockets.add(client)
    client.pause()
    seen()
    void opened.then(() => {
      const upstream = net.connect(target, '127.0.0.1')
      sockets.add(upstream)
      client.pipe(upstream).pipe(client)
      client.resume()
      const end = () => (client.destroy(), upstream.destroy())
      client.on('error', end).on('close', end)
      upstream.on('error', end).on('close', end)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    connected,
    open: release,
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

describe('tsh login shows a spinner while it waits for the proxy, on a terminal only', {timeout: 5 * TIMEOUT_MS}, () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tsh-progress-'))
  let auth: RunningAuthService
  let proxy: RunningProxyService
  let admin: AuthApi
  const gates: Array<{close: () => void}> = []

  before(async () => {
    const authDir = path.join(root, 'auth')
    auth = await startAuthService({
      dataDir: authDir,
      nodeName: 'auth-1',
      clusterName: 'example.com',
      listen: {host: '127.0.0.1', port: 0},
      secondFactor: 'off',
      staticTokens: [`proxy:${PROXY_TOKEN}`],
      proxyPublicAddr: '127.0.0.1:3080',
      bcryptCost: 4,
      log: () => {},
    })
    const identity = readIdentityFile(dataDirPaths(authDir).adminIdentity)
    admin = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: auth.address.port, credentials: identity, trust: {hostCAs: identity.hostCAs}}))
    const status = await admin.status()
    proxy = await startProxyService({
      dataDir: path.join(root, 'proxy'),
      nodeName: 'proxy-1',
      webListen: {host: '127.0.0.1', port: 0},
      sshListen: {host: '127.0.0.1', port: 0},
      cluster: {join: {authServers: [auth.address], token: PROXY_TOKEN, caPins: status.caPins}},
      log: createLogger({output: path.join(root, 'proxy.log'), severity: 'INFO'}),
    })
    for (const name of ['alice', 'bob']) {
      const {invite} = await admin.createUser({name, roles: ['access'], traits: {logins: ['nobody']}})
      await admin.redeemUserToken({token: invite.token, password: PASSWORD})
    }
  })

  after(async () => {
    for (const gate of gates) gate.close()
    await proxy?.close()
    await admin?.close()
    await auth?.close()
    rmSync(root, {recursive: true, force: true})
  })

  function envFor(name: string): NodeJS.ProcessEnv {
    const home = path.join(root, name)
    mkdirSync(home, {recursive: true})
    const env: NodeJS.ProcessEnv = {...process.env, HOME: home, TELEPORT_HOME: path.join(home, '.tsh'), TERM: 'xterm'}
    for (const key of ['NO_COLOR', 'SSH_AUTH_SOCK', 'TELEPORT_PROXY', 'TELEPORT_USER', 'TELEPORT_CLUSTER', 'TELEPORT_ADD_KEYS_TO_AGENT']) delete env[key]
    return env
  }

  test('a terminal gets the spinner, erased before the prompt; a piped stderr gets none', async () => {
    // The piped run goes first and is held at the gate: by the time the terminal run has shown its
    // spinner (its own start-up plus 300 ms later), the piped one has waited longer still.
    const pipedGate = await startGate(proxy.webAddress.port)
    const ttyGate = await startGate(proxy.webAddress.port)
    gates.push(pipedGate, ttyGate)
    const stderrFile = path.join(root, 'bob.stderr')
    const login = (port: number, user: string) => `${TSH} login --proxy=127.0.0.1:${port} --insecure --user=${user} --add-keys-to-agent=no`
    const piped = inPty('/bin/sh', ['-c', `exec ${login(pipedGate.port, 'bob')} 2>${stderrFile}`], envFor('bob'), {timeoutMs: TIMEOUT_MS})
    await pipedGate.connected

    const term = inPty(TSH, login(ttyGate.port, 'alice').split(' ').slice(1), envFor('alice'), {timeoutMs: TIMEOUT_MS})
    await term.waitFor(SPINNER)
    await term.waitFor(/[-\\|/] Connecting to the proxy[^\r]*\r\x1b\[K[-\\|/] Connecting/) // redrawn in place
    ttyGate.open()
    await term.waitFor(/Enter password for Teleport user alice:/)
    const beforePrompt = term.output().slice(0, term.output().indexOf('Enter password'))
    assert.ok(beforePrompt.endsWith('\r\x1b[K') || /\r\x1b\[K[^-\\|/]*$/.test(beforePrompt), `the spinner is erased before the prompt: ${JSON.stringify(beforePrompt.slice(-120))}`)
    term.write(`${PASSWORD}\r`)
    assert.equal(await term.exit, 0, term.output())
    const afterPrompt = term.output().slice(term.output().indexOf('Enter password'))
    assert.match(afterPrompt, /Logged in as:\s+alice/)
    // Whatever the spinner drew after the password (the certificate request) was erased again:
    // no frame is the last thing on its line.
    for (const line of term.output().split('\n')) assert.doesNotMatch(line.split('\r\x1b[K').at(-1)!, SPINNER)

    pipedGate.open()
    await eventually(() => /Enter password for Teleport user bob:/.test(readFileSync(stderrFile, 'utf8')), 'the piped login to ask for the password')
    piped.write(`${PASSWORD}\r`)
    assert.equal(await piped.exit, 0, readFileSync(stderrFile, 'utf8') + piped.output())
    const stderr = readFileSync(stderrFile, 'utf8')
    assert.doesNotMatch(stderr, /Connecting to the proxy|Logging in as/)
    assert.doesNotMatch(stderr, /\x1b\[K/)
    assert.match(piped.output(), /Logged in as:\s+bob/)
  })

  test('Ctrl-C while the spinner shows: the line is erased and tsh ends', async () => {
    const gate = await startGate(proxy.webAddress.port) // never opened
    gates.push(gate)
    const term = inPty(TSH, ['login', `--proxy=127.0.0.1:${gate.port}`, '--insecure', '--user=alice', '--add-keys-to-agent=no'], envFor('carol'), {timeoutMs: TIMEOUT_MS})
    await term.waitFor(SPINNER)
    term.write('\x03')
    await term.exit
    const out = term.output()
    assert.doesNotMatch(out.split('\r\x1b[K').at(-1)!, /Connecting to the proxy/, `the spinner is erased: ${JSON.stringify(out.slice(-160))}`)
  })
})
