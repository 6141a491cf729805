import assert from 'node:assert/strict'
import {spawn, spawnSync as nodeSpawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
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
import {generateTotpCode} from '../../src/services/totp.js'
import {parseCert} from '../../src/sshca/index.js'
import {repoRoot, run, type RunResult} from '../helpers/cli.js'
import {eventually} from '../helpers/eventually.js'
import {inPty} from '../helpers/pty.js'

// tsh login / status / env / config / agent / logout as a user runs them: the real bin/tsh
// against an auth and a proxy service started in this process (the proxy's self-signed HTTPS
// certificate, so --insecure), the login typed into a real pseudo-terminal, OpenSSH's own
// ssh-agent and ssh-add.

const TIMEOUT_MS = 60_000
const LOGIN = userInfo().username
const PASSWORD = 'correct horse battery'
const PROXY_TOKEN = 'proxy-static-token-0123456789abcdef'
const TSH = path.join(repoRoot, 'bin', 'tsh')

/** OpenSSH's ssh-agent in the foreground on a socket in `dir`. */
async function startSshAgent(dir: string): Promise<{socket: string; stop: () => Promise<void>}> {
  const socket = path.join(dir, 'ssh-agent.sock')
  const child: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], {stdio: ['ignore', 'pipe', 'pipe']})
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer) => {
      out += d.toString()
      if (/SSH_AUTH_SOCK=/.test(out)) resolve()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`ssh-agent exited ${code}: ${out}`)))
  })
  return {
    socket,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

/** bin/tsh without a terminal (stdin empty), to completion. */
function runTsh(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return run(TSH, args, {env, timeoutMs: TIMEOUT_MS})
}

/** ssh-add and friends: stdout and stderr together (ssh-add -l exits 1 on an empty agent). */
function spawnSync(cmd: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = nodeSpawnSync(cmd, args, {env, encoding: 'utf8', timeout: TIMEOUT_MS})
  return `${r.stdout}${r.stderr}`
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('tsh login, status, env, config, agent and logout against a real auth and proxy', {timeout: 10 * TIMEOUT_MS}, () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tsh-e2e-'))
  const home = path.join(root, 'home')
  const tshHome = path.join(home, '.tsh')
  let auth: RunningAuthService
  let proxy: RunningProxyService
  let admin: AuthApi
  let agent: Awaited<ReturnType<typeof startSshAgent>>
  let totpSecret = ''
  let proxyAddr = ''
  let env: NodeJS.ProcessEnv
  const daemons: number[] = []

  before(async () => {
    mkdirSync(home, {recursive: true})
    const authDir = path.join(root, 'auth')
    auth = await startAuthService({
      dataDir: authDir,
      nodeName: 'auth-1',
      clusterName: 'example.com',
      listen: {host: '127.0.0.1', port: 0},
      secondFactor: 'otp',
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
    proxyAddr = `127.0.0.1:${proxy.webAddress.port}`

    // Alice, invited with the roles and logins; password and TOTP set as the invite page does.
    const {invite} = await admin.createUser({name: 'alice', roles: ['access'], traits: {logins: [LOGIN]}})
    const token = await admin.getUserToken(invite.token)
    totpSecret = token.totp.secret
    await admin.redeemUserToken({token: invite.token, password: PASSWORD, otpCode: generateTotpCode(totpSecret, Date.now())})

    agent = await startSshAgent(root)
    env = {...process.env, HOME: home, TELEPORT_HOME: tshHome, SSH_AUTH_SOCK: agent.socket, NO_COLOR: '1', TERM: 'xterm'}
    for (const name of ['TELEPORT_PROXY', 'TELEPORT_USER', 'TELEPORT_CLUSTER', 'TELEPORT_ADD_KEYS_TO_AGENT']) delete env[name]
  })

  after(async () => {
    for (const pid of daemons) if (alive(pid)) process.kill(pid, 'SIGTERM')
    await agent?.stop()
    await proxy?.close()
    await admin?.close()
    await auth?.close()
    rmSync(root, {recursive: true, force: true})
  })

  // Asynchronous: the auth and proxy services answer from this same process.
  const tsh = (args: string[], extra: NodeJS.ProcessEnv = {}) => runTsh(args, {...env, ...extra})

  test('without a terminal, login fails with one line naming what it needed', async () => {
    const r = await tsh(['login', `--proxy=${proxyAddr}`, '--user=alice', '--insecure'])
    assert.equal(r.code, 1, r.stderr)
    const lines = r.stderr.trim().split('\n')
    assert.match(lines[0]!, /^WARNING: you are using insecure connection to the proxy https:\/\/127\.0\.0\.1:\d+/)
    assert.equal(lines.length, 2, r.stderr)
    assert.match(lines[1]!, /^ERROR: password and OTP code are required; tsh login needs a terminal to ask for them/)
    assert.equal(existsSync(tshHome), false)
  })

  test('the proxy\'s self-signed certificate is refused without --insecure, with the hint', async () => {
    const r = await tsh(['login', `--proxy=${proxyAddr}`, '--user=alice'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^ERROR: the proxy's HTTPS certificate is not trusted \(https:\/\/127\.0\.0\.1:\d+\): self[- ]signed certificate.*--insecure/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
  })

  test('tsh status before any login: Not logged in.', async () => {
    const r = await tsh(['status'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^ERROR: Not logged in\./)
  })

  test('login in a pty: password and OTP prompts, then the status', async () => {
    const term = inPty(TSH, ['login', `--proxy=${proxyAddr}`, '--user=alice', '--insecure'], env)
    await term.waitFor(/Enter password for Teleport user alice:/)
    term.write(`${PASSWORD}\r`)
    await term.waitFor(/Enter your OTP token:/)
    // The next period's code: the invite used this period's, and a code is accepted only once.
    term.write(`${generateTotpCode(totpSecret, Date.now() + 30_000)}\r`)
    const code = await term.exit
    const out = term.output()
    assert.equal(code, 0, out)
    assert.doesNotMatch(out, new RegExp(PASSWORD))
    assert.match(out, /WARNING: you are using insecure connection to the proxy/)
    assert.match(out, new RegExp(`> Profile URL: {8}https://${proxyAddr.replace(/\./g, '\\.')}\\r?\\n`))
    assert.match(out, /  Logged in as: {7}alice/)
  })

  test('tsh status: REFERENCE.md\'s format; --format json', async () => {
    const r = await tsh(['status'])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.split('\n')
    assert.equal(lines[0], `> Profile URL:        https://${proxyAddr}`)
    assert.equal(lines[1], '  Logged in as:       alice')
    assert.equal(lines[2], '  Cluster:            example.com')
    assert.equal(lines[3], '  Roles:              access')
    assert.equal(lines[4], `  Logins:             ${LOGIN}`)
    assert.match(lines[5]!, /^ {2}Valid until: {8}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC \[valid for (11h59m\d+s|12h0m0s)\]$/)
    assert.match(lines[6]!, /^ {2}Extensions: {9}.*permit-pty/)
    const json = JSON.parse((await tsh(['status', '--format', 'json'])).stdout)
    assert.equal(json.active.username, 'alice')
    assert.equal(json.active.cluster, 'example.com')
  })

  test('files and modes under TELEPORT_HOME', async () => {
    const host = '127.0.0.1'
    const files = ['current-profile', `${host}.yaml`, 'known_hosts', `keys/${host}/alice`, `keys/${host}/alice.pub`, `keys/${host}/alice-ssh/example.com-cert.pub`]
    const dirs = ['', 'keys', `keys/${host}`, `keys/${host}/alice-ssh`]
    for (const f of files) assert.equal(statSync(path.join(tshHome, f)).mode & 0o777, 0o600, f)
    for (const d of dirs) assert.equal(statSync(path.join(tshHome, d)).mode & 0o777, 0o700, d || 'home')
    assert.equal(readFileSync(path.join(tshHome, 'current-profile'), 'utf8').trim(), host)
    const profile = readFileSync(path.join(tshHome, `${host}.yaml`), 'utf8')
    assert.match(profile, new RegExp(`^web_proxy_addr: ${proxyAddr}$`, 'm'))
    assert.match(profile, new RegExp(`^ssh_proxy_addr: 127\\.0\\.0\\.1:${proxy.sshAddress.port}$`, 'm'))
    assert.match(profile, /^user: alice$/m)
    assert.match(profile, /^cluster: example\.com$/m)
    assert.match(readFileSync(path.join(tshHome, 'known_hosts'), 'utf8'), /^@cert-authority 127\.0\.0\.1,example\.com,\*\.example\.com ssh-ed25519 \S+ type=host$/m)
    const cert = parseCert(readFileSync(path.join(tshHome, `keys/${host}/alice-ssh/example.com-cert.pub`), 'utf8'))
    assert.equal(cert.keyId, 'alice')
    assert.deepEqual(cert.principals, [LOGIN])
  })

  test('login put the certificate in the SSH agent as teleport:alice', async () => {
    const listed = spawnSync('ssh-add', ['-l'], env)
    assert.match(listed, /^256 SHA256:\S+ teleport:alice \(ED25519-CERT\)$/m)
  })

  test('login again without arguments: shows the status, asks nothing (no terminal needed)', async () => {
    const r = await tsh(['login'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^> Profile URL: {8}https:\/\//)
  })

  test('tsh env and tsh config', async () => {
    assert.equal((await tsh(['env'])).stdout, `export TELEPORT_PROXY=${proxyAddr}\nexport TELEPORT_CLUSTER=example.com\n`)
    assert.equal((await tsh(['env', '--unset'])).stdout, 'unset TELEPORT_PROXY\nunset TELEPORT_CLUSTER\n')
    const config = await tsh(['config'])
    assert.equal(config.code, 0, config.stderr)
    assert.ok(config.stdout.startsWith('# Begin generated Teleport configuration for 127.0.0.1 by tsh\n'), config.stdout)
    assert.match(config.stdout, new RegExp(`    IdentityFile "${tshHome}/keys/127\\.0\\.0\\.1/alice"`))
    assert.match(config.stdout, new RegExp(`    ProxyCommand "${TSH}" proxy ssh --cluster=example\\.com --proxy=${proxyAddr} %r@%h:%p`))
  })

  test('tsh agent: eval-able output; ssh-add -l lists the certificate; exits after logout', async () => {
    const r = await tsh(['agent'])
    assert.equal(r.code, 0, r.stderr)
    const m = r.stdout.match(/^SSH_AUTH_SOCK=(\S+); export SSH_AUTH_SOCK;\nSSH_AGENT_PID=(\d+); export SSH_AGENT_PID;\n$/)
    assert.ok(m, r.stdout)
    const [, socket, pidText] = m
    const pid = Number(pidText)
    daemons.push(pid)
    assert.equal(alive(pid), true)
    assert.equal(statSync(path.dirname(socket!)).mode & 0o777, 0o700)
    assert.match(spawnSync('ssh-add', ['-l'], {...env, SSH_AUTH_SOCK: socket}), /^256 SHA256:\S+ teleport:alice \(ED25519-CERT\)$/m)

    const out = await tsh(['logout'])
    assert.equal(out.code, 0, out.stderr)
    assert.equal(out.stdout, 'Logged out all users from all proxies.\n')
    await eventually(() => !alive(pid), 'tsh agent to exit after logout', {timeoutMs: TIMEOUT_MS})
    assert.equal(existsSync(socket!), false)
  })

  test('logout removed the keys, the profile and the agent entries', async () => {
    assert.equal(existsSync(path.join(tshHome, 'keys')), false)
    assert.equal(existsSync(path.join(tshHome, '127.0.0.1.yaml')), false)
    assert.equal(existsSync(path.join(tshHome, 'current-profile')), false)
    assert.doesNotMatch(spawnSync('ssh-add', ['-l'], env), /teleport:/)
    const r = await tsh(['status'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /Not logged in\./)
    assert.equal((await tsh(['logout', `--proxy=${proxyAddr}`, '--user=alice'])).stderr.trim(), 'ERROR: User alice already logged out from 127.0.0.1.')
  })
})
