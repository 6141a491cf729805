import assert from 'node:assert/strict'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Agent} from 'undici'
import {FileKeyStore} from '../../src/client/key-store.js'
import {totpCodes} from '../helpers/totp.js'
import {signUserCert} from '../../src/sshca/index.js'
import {repoRoot, runBin, tctlOk} from '../helpers/cli.js'
import {caKeyPair} from '../helpers/cluster-backend.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {readUserToken, redeemUserToken, tokenOf, webCaller} from '../helpers/invite-page.js'
import {inPty} from '../helpers/pty.js'
import {LOGIN, startAgent, tempDir} from '../interop/helpers.js'
import {eventually} from '../helpers/eventually.js'

// Logging in on demand, as a user meets it: a one-process cluster (auth, proxy, node), users
// invited with tctl and enrolled on the invite page, `tsh login` typed into a pty. Then the
// certificate expires and the next `tsh ssh` (and stock `ssh` through `tsh config`'s
// ProxyCommand) asks for the password and OTP on the terminal and runs.
//
// Expiry: real processes cannot move a fake clock, and waiting out even the shortest TTL is not
// a test. So, as `tctl auth sign --ttl=1m` would have made it three minutes ago, a certificate for
// the user's own key is signed by the cluster's user CA (read from the backend beside the running
// auth) and written into the profile through the KeyStore: expired now, nothing waits.
//
// TOTP: a code is accepted once and only if newer than the last one used, within ±1 period of
// now. Each user's codes (enrolment, first login, login on demand) come from totpCodes: each for a
// later step than the last and valid 30 s or more after it is typed.

const CLUSTER = 'relogin.local'
const NODE = 'relogin-node'
const PASSWORD = 'correct horse battery'
const TSH = path.join(repoRoot, 'bin', 'tsh')
const insecure = new Agent({connect: {rejectUnauthorized: false}})

describe('tsh logs in on demand when the certificate has expired', () => {
  const dir = tempDir('relogin-e2e-')
  let config: string
  let teleport: TeleportDaemon
  let web: number
  /** Each user's authenticator: codes in the order they are used. */
  const codes = new Map<string, () => Promise<string>>()
  const homeOf = (user: string) => path.join(dir.path, `${user}-tsh`)
  const envOf = (user: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...process.env, TELEPORT_HOME: homeOf(user), HOME: dir.path, SSH_AUTH_SOCK: '', NO_COLOR: '1', TERM: 'xterm',
    TELEPORT_GLOBAL_TSH_CONFIG: path.join(dir.path, 'no-site-config.yaml'), ...extra,
  })
  const tctl = (...args: string[]) => tctlOk(config, ...args)

  /** Invited, enrolled on the invite page with one code, logged in in a pty with the next. */
  async function enrolAndLogIn(user: string, loginFlags = ['--add-keys-to-agent=no']): Promise<string> {
    const added = tctl('users', 'add', user, '--roles=access', `--logins=${LOGIN}`)
    const url = /https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(added)![0]
    const caller = webCaller(url, insecure)
    const token = tokenOf(url)
    const secret = (await readUserToken(caller, token)).view!.totp.secret
    codes.set(user, totpCodes(secret))
    const done = await redeemUserToken(caller, {token, password: PASSWORD, second_factor_token: await codes.get(user)!()})
    assert.equal(done.status, 200, done.text)
    const term = inPty(TSH, ['login', `--proxy=localhost:${web}`, `--user=${user}`, '--insecure', ...loginFlags], envOf(user))
    await term.waitFor(/Enter password for Teleport user/)
    term.write(`${PASSWORD}\r`)
    await term.waitFor(/Enter your OTP token:/)
    term.write(`${await codes.get(user)!()}\r`)
    assert.equal(await term.exit, 0, term.output())
    return term.output()
  }

  /** The user's stored certificate replaced by one for the same key that expired two minutes ago. */
  async function expire(user: string): Promise<void> {
    const store = new FileKeyStore(homeOf(user))
    const key = store.readKey('localhost', user, CLUSTER)!
    const userCA = await caKeyPair(path.join(dir.path, 'data'), CLUSTER, 'user')
    const certificate = signUserCert({
      caPrivateKey: userCA.privateKey, publicKey: key.publicKey, keyId: user, principals: [LOGIN], ttlMs: 60_000, now: new Date(Date.now() - 3 * 60_000),
      roles: ['access'], traits: {logins: [LOGIN]}, routeToCluster: CLUSTER,
    })
    store.writeKey('localhost', user, CLUSTER, {...key, certificate})
    const status = runBin(TSH, ['status'], {env: envOf(user)})
    assert.match(status.stdout, /\[EXPIRED\]/, status.stdout + status.stderr)
  }

  before(async () => {
    const auth = await freePort()
    const proxySsh = await freePort()
    web = await freePort()
    const nodePort = await freePort()
    config = path.join(dir.path, 'teleport.yaml')
    writeFileSync(config, [
      'teleport:', `  nodename: ${NODE}`, `  data_dir: ${path.join(dir.path, 'data')}`,
      'auth_service:', `  listen_addr: 127.0.0.1:${auth}`, `  cluster_name: ${CLUSTER}`,
      'proxy_service:', `  listen_addr: 127.0.0.1:${proxySsh}`, `  web_listen_addr: 127.0.0.1:${web}`, '  tunnel_listen_addr: 127.0.0.1:0', `  public_addr: localhost:${web}`,
      'ssh_service:', `  listen_addr: 127.0.0.1:${nodePort}`, '',
    ].join('\n'))
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Node service is starting/)
  })
  after(async () => {
    await teleport?.stop()
    dir.cleanup()
  })

  test('tsh ssh: without a terminal, the one line saying to log in; in a pty, password and OTP, then the shell', async () => {
    await enrolAndLogIn('alice')
    await expire('alice')

    const plain = runBin(TSH, ['ssh', `${LOGIN}@${NODE}`, 'true'], {env: envOf('alice'), input: ''})
    assert.equal(plain.code, 1)
    assert.match(plain.stderr, /^ERROR: the certificate for alice@localhost expired at .* \(log in again: tsh login --proxy=localhost:\d+ --user=alice\)\n$/)

    // An interactive shell: after the prompts the same terminal carries the session.
    const term = inPty(TSH, ['ssh', `${LOGIN}@${NODE}`], envOf('alice'))
    await term.waitFor(/the certificate for alice@localhost expired at .*: logging in to localhost:\d+/)
    await term.waitFor(/Enter password for Teleport user alice:/)
    term.write(`${PASSWORD}\r`)
    await term.waitFor(/Enter your OTP token:/)
    term.write(`${await codes.get('alice')!()}\r`)
    await term.waitFor(/\$ $|# $|> $/m)
    term.write('echo ran-$((6*7)); exit\r')
    assert.equal(await term.exit, 0, term.output())
    assert.match(term.output(), /ran-42/)
    assert.doesNotMatch(term.output(), new RegExp(PASSWORD))
    // The new certificate is the profile's now: the next command asks nothing.
    const again = runBin(TSH, ['ssh', `${LOGIN}@${NODE}`, 'echo again'], {env: envOf('alice'), input: ''})
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout.trim(), 'again')
  })

  test('stock ssh through tsh config: tsh proxy ssh asks on the terminal (/dev/tty), then ssh runs', async () => {
    const agent = await startAgent(dir.path)
    try {
      // The login on demand loads the new certificate into this agent (add_keys_to_agent auto):
      // ssh read the key files before its ProxyCommand logged in, so it signs with the agent's.
      const env = envOf('bob', {SSH_AUTH_SOCK: agent.socket})
      await enrolAndLogIn('bob')
      const block = runBin(TSH, ['config'], {env})
      assert.equal(block.code, 0, block.stderr)
      const sshConfig = path.join(dir.path, 'ssh_config')
      writeFileSync(sshConfig, `${block.stdout}\nHost *\n  StrictHostKeyChecking yes\n  GlobalKnownHostsFile /dev/null\n`)
      await expire('bob')

      // With no terminal at all (setsid: no controlling terminal), the same one line on stderr.
      const detached = runBin('setsid', ['-w', TSH, 'proxy', 'ssh', `${LOGIN}@${NODE}.${CLUSTER}:3022`], {env, input: ''})
      assert.equal(detached.code, 1)
      assert.match(detached.stderr, /^ERROR: the certificate for bob@localhost expired at .* \(log in again: tsh login --proxy=localhost:\d+ --user=bob\)\n$/)

      const term = inPty('ssh', ['-F', sshConfig, `${LOGIN}@${NODE}.${CLUSTER}`, 'echo via-ssh-$((6*7))'], env)
      await term.waitFor(/Enter password for Teleport user bob:/)
      term.write(`${PASSWORD}\r`)
      await term.waitFor(/Enter your OTP token:/)
      term.write(`${await codes.get('bob')!()}\r`)
      assert.equal(await term.exit, 0, term.output())
      assert.match(term.output(), /via-ssh-42/)
    } finally {
      await agent.stop()
    }
  })

  test('stock ssh through tsh config with no ssh-agent: the login on demand starts tsh agent, where ssh finds the new certificate', async () => {
    // ssh loads IdentityFile and CertificateFile before its ProxyCommand logs in again, and never
    // re-reads them: alone it offers the expired certificate ("Permission denied (publickey)").
    // tsh config's Match block sends ssh with no agent of its own to tsh agent, asked at auth time.
    const env = envOf('dave')
    await enrolAndLogIn('dave')
    const block = runBin(TSH, ['config'], {env})
    assert.equal(block.code, 0, block.stderr)
    const sshConfig = path.join(dir.path, 'ssh_config_dave')
    writeFileSync(sshConfig, `${block.stdout}\nHost *\n  StrictHostKeyChecking yes\n  GlobalKnownHostsFile /dev/null\n`)
    const socket = path.join(homeOf('dave'), 'agent.sock')

    // A valid certificate and no tsh agent running: the files serve, and the missing socket says nothing.
    const valid = runBin('ssh', ['-F', sshConfig, `${LOGIN}@${NODE}.${CLUSTER}`, 'echo valid-$((6*7))'], {env, input: ''})
    assert.equal(valid.code, 0, valid.stderr)
    assert.equal(valid.stdout, 'valid-42\n')
    assert.equal(valid.stderr, '')
    assert.equal(existsSync(socket), false)

    await expire('dave')
    const term = inPty('ssh', ['-F', sshConfig, `${LOGIN}@${NODE}.${CLUSTER}`, 'echo via-ssh-$((6*7))'], env)
    await term.waitFor(/Enter password for Teleport user dave:/)
    term.write(`${PASSWORD}\r`)
    await term.waitFor(/Enter your OTP token:/)
    term.write(`${await codes.get('dave')!()}\r`)
    assert.equal(await term.exit, 0, term.output())
    assert.match(term.output(), /via-ssh-42/)
    assert.ok(existsSync(socket), 'tsh agent runs for the new login')

    assert.equal(runBin(TSH, ['logout'], {env}).code, 0)
    await eventually(() => !existsSync(socket), 'tsh agent to exit after logout')
  })

  test('add_keys_to_agent: yes with no agent: login starts tsh agent, which follows the login on demand and exits at logout', async () => {
    mkdirSync(path.join(homeOf('carol'), 'config'), {recursive: true})
    writeFileSync(path.join(homeOf('carol'), 'config', 'config.yaml'), 'add_keys_to_agent: yes\n')
    const out = await enrolAndLogIn('carol', [])
    const socket = path.join(homeOf('carol'), 'agent.sock')
    assert.match(out, new RegExp(`use it with: export SSH_AUTH_SOCK=${socket.replace(/[.]/g, '\\.')}`))
    const agentEnv = {...process.env, SSH_AUTH_SOCK: socket}
    const listed = () => runBin('ssh-add', ['-l'], {env: agentEnv}).stdout
    const first = /SHA256:\S+ teleport:carol \(ED25519-CERT\)/.exec(listed())?.[0]
    assert.ok(first, listed())

    await expire('carol')
    await eventually(() => !/teleport:carol/.test(listed()), 'tsh agent to stop offering the expired certificate')
    const term = inPty(TSH, ['ssh', `${LOGIN}@${NODE}`, 'true'], envOf('carol'))
    await term.waitFor(/Enter password for Teleport user carol:/)
    term.write(`${PASSWORD}\r`)
    await term.waitFor(/Enter your OTP token:/)
    term.write(`${await codes.get('carol')!()}\r`)
    assert.equal(await term.exit, 0, term.output())
    const renewed = await eventually(() => /SHA256:\S+ teleport:carol \(ED25519-CERT\)/.exec(listed())?.[0], 'tsh agent to offer the new certificate')
    assert.notEqual(renewed, first)

    assert.equal(runBin(TSH, ['logout'], {env: envOf('carol')}).code, 0)
    await eventually(() => !existsSync(socket), 'tsh agent to exit after logout')
  })
})
