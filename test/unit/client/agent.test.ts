import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {AgentClient, withAgent} from '../../../src/client/agent/client.js'
import {startIdentityAgent, type IdentityAgent} from '../../../src/client/agent/identity-agent.js'
import {addToAgent, isGpgAgent, planAgent, removeFromAgent} from '../../../src/client/agent/teleport-keys.js'
import {FileKeyStore} from '../../../src/client/key-store.js'
import {logoutAll} from '../../../src/client/logout.js'
import {saveLogin} from '../../../src/client/profile.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {generateKeyPair, loadPrivateKey, parseCert, parsePublicKeyLine, verifySshSignature} from '../../../src/sshca/index.js'
import {LOGIN, mustRun, run, startSshd, writeKeyFiles, type Daemon} from '../../interop/helpers.js'
import {HOST_CA, USER_CA, sampleProfile, selfSignedTls, startFakeProxy, tempDir, userCert} from './helpers.js'
import {login} from '../../../src/client/login.js'
import {MemoryKeyStore} from '../../../src/client/key-store.js'
import {loadCurrentIdentity} from '../../../src/client/profile.js'

// Our agent protocol client against OpenSSH's real ssh-agent, and our agent server (tsh agent)
// against OpenSSH's real ssh-add and ssh.

const TIMEOUT_MS = 30_000

/** ssh-agent -d: foreground with debug output, which shows each added key's lifetime. */
async function startDebugAgent(dir: string): Promise<{socket: string; env: NodeJS.ProcessEnv; log: () => string; stop: () => Promise<void>}> {
  const socket = join(dir, 'openssh-agent.sock')
  const child: ChildProcess = spawn('ssh-agent', ['-d', '-a', socket], {stdio: ['ignore', 'pipe', 'pipe']})
  let log = ''
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ssh-agent did not start:\n${log}`)), TIMEOUT_MS)
    const check = () => {
      if (/SSH_AUTH_SOCK=/.test(log)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout!.on('data', check)
    child.stderr!.on('data', check)
    child.once('exit', (code) => reject(new Error(`ssh-agent exited ${code}:\n${log}`)))
  })
  return {
    socket,
    env: {...process.env, SSH_AUTH_SOCK: socket},
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

const key = generateKeyPair()
const cert = userCert({publicKey: key.publicKey, user: 'alice', logins: [LOGIN], ttlMs: 3600_000})
const certBase64 = cert.split(' ')[1]!

describe('tsh keys in OpenSSH ssh-agent', {timeout: 4 * TIMEOUT_MS}, () => {
  const dir = tempDir('tsh-agent-')
  let agent: Awaited<ReturnType<typeof startDebugAgent>>

  before(async () => {
    agent = await startDebugAgent(dir.path)
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  test('the certificate goes in with comment teleport:<user> and the remaining lifetime', async () => {
    await addToAgent(agent.socket, {privateKey: key.privateKey, certificate: cert, user: 'alice'})
    const listed = await mustRun('ssh-add', ['-l'], {env: agent.env})
    assert.match(listed, /^256 SHA256:\S+ teleport:alice \(ED25519-CERT\)$/m)
    const lines = await mustRun('ssh-add', ['-L'], {env: agent.env})
    assert.ok(lines.includes(`ssh-ed25519-cert-v01@openssh.com ${certBase64} teleport:alice`), lines)
    // ssh-agent -d logs "add ... (life: N)": N is the certificate's remaining validity, about an hour.
    const life = Number(agent.log().match(/teleport:alice" \(life: (\d+)\)/)?.[1])
    assert.ok(life > 3500 && life <= 3600, `lifetime ${life}\n${agent.log()}`)
  })

  test('a new login replaces the older teleport:<user> entry; other keys stay', async () => {
    const own = generateKeyPair('my own key')
    await withAgent(agent.socket, (a) => a.add({privateKey: loadPrivateKey(own.privateKey), comment: 'my-own-key'}))
    const key2 = generateKeyPair()
    await addToAgent(agent.socket, {privateKey: key2.privateKey, certificate: userCert({publicKey: key2.publicKey, user: 'alice'}), user: 'alice'})
    await addToAgent(agent.socket, {privateKey: key.privateKey, certificate: userCert({publicKey: key.publicKey, user: 'bob'}), user: 'bob'})
    const listed = await mustRun('ssh-add', ['-l'], {env: agent.env})
    assert.equal(listed.match(/teleport:alice/g)?.length, 1, listed)
    assert.match(listed, /teleport:bob \(ED25519-CERT\)/)
    assert.match(listed, /my-own-key \(ED25519\)/)
    assert.equal(await withAgent(agent.socket, async (a) => (await a.list()).find((i) => i.comment === 'teleport:alice')!.blob.equals(parseCert(userCert({publicKey: key2.publicKey})).blob)), false)
  })

  test('the agent signs for the certificate; our client reads the signature', async () => {
    const data = Buffer.from('session hash to sign')
    const signature = await withAgent(agent.socket, async (a) => {
      const id = (await a.list()).find((i) => i.comment === 'teleport:bob')!
      return a.sign(id.blob, data)
    })
    assert.equal(verifySshSignature(parsePublicKeyLine(key.publicKey).blob, data, signature).ok, true)
  })

  test('logout removes teleport:<user>, then every teleport: entry, never the user\'s own keys', async () => {
    assert.equal(await removeFromAgent(agent.socket, 'alice'), 1)
    assert.doesNotMatch(await mustRun('ssh-add', ['-l'], {env: agent.env}), /teleport:alice/)
    await addToAgent(agent.socket, {privateKey: key.privateKey, certificate: cert, user: 'alice'})
    assert.equal(await removeFromAgent(agent.socket), 2)
    const listed = await mustRun('ssh-add', ['-l'], {env: agent.env})
    assert.doesNotMatch(listed, /teleport:/)
    assert.match(listed, /my-own-key/)
  })

  test('which agents `auto` uses', () => {
    assert.equal(isGpgAgent('/run/user/1000/gnupg/S.gpg-agent.ssh'), true)
    assert.equal(isGpgAgent('/tmp/ssh-XXXX/agent.123'), false)
    assert.deepEqual(planAgent('auto', {SSH_AUTH_SOCK: '/run/user/1000/gnupg/S.gpg-agent.ssh'}).use, false)
    assert.deepEqual(planAgent('yes', {SSH_AUTH_SOCK: '/run/user/1000/gnupg/S.gpg-agent.ssh'}).use, true)
    assert.deepEqual(planAgent('auto', {}).use, false)
    assert.deepEqual(planAgent('no', {SSH_AUTH_SOCK: '/x'}).use, false)
  })
})

describe('tsh agent (our agent server)', {timeout: 4 * TIMEOUT_MS}, () => {
  const dir = tempDir('tsh-agent-srv-')
  const home = join(dir.path, '.tsh')
  const socket = join(dir.path, 'tsh-agent.sock')
  const env = {...process.env, SSH_AUTH_SOCK: socket}
  let served: IdentityAgent
  let sshd: Daemon | undefined

  before(async () => {
    saveLogin(new FileKeyStore(home), {profile: sampleProfile(), privateKey: key.privateKey, publicKey: key.publicKey, certificate: cert, hostCAs: [HOST_CA.publicKey]})
    served = await startIdentityAgent({socketPath: socket, home, pollMs: 50})
  })
  after(async () => {
    await served?.close()
    await sshd?.stop()
    dir.cleanup()
  })

  test('ssh-add -l lists the certificate; ssh-add -L shows it whole', async () => {
    assert.match(await mustRun('ssh-add', ['-l'], {env}), /^256 SHA256:\S+ teleport:alice \(ED25519-CERT\)\n$/)
    assert.equal((await mustRun('ssh-add', ['-L'], {env})).trim(), `ssh-ed25519-cert-v01@openssh.com ${certBase64} teleport:alice`)
  })

  test('adding and removing keys is refused', async () => {
    const other = generateKeyPair()
    const keyPath = writeKeyFiles(dir.path, 'other', other.privateKey, other.publicKey)
    const added = await run('ssh-add', [keyPath], {env})
    assert.notEqual(added.code, 0)
    const removed = await run('ssh-add', ['-D'], {env})
    assert.notEqual(removed.code, 0)
    assert.match(await mustRun('ssh-add', ['-l'], {env}), /teleport:alice/)
  })

  test('OpenSSH ssh logs in to sshd with the certificate the agent holds', async () => {
    const hostKey = generateKeyPair()
    const {signHostCert} = await import('../../../src/sshca/index.js')
    const hostCert = signHostCert({caPrivateKey: HOST_CA.privateKey, publicKey: hostKey.publicKey, keyId: 'host', principals: ['127.0.0.1'], role: 'Node', authority: 'example.com'})
    const hostKeyPath = writeKeyFiles(dir.path, 'host_key', hostKey.privateKey, hostKey.publicKey, hostCert)
    sshd = await startSshd({dir: dir.path, trustedUserCAKeys: [USER_CA.publicKey], hostKeyPath, hostCertPath: `${hostKeyPath}-cert.pub`})
    const knownHosts = join(dir.path, 'known_hosts')
    const {writeFileSync} = await import('node:fs')
    writeFileSync(knownHosts, `@cert-authority 127.0.0.1 ${HOST_CA.publicKey}\n`)
    // Only the agent: no key files, nothing from ~/.ssh or /etc/ssh.
    const result = await run('ssh', [
      '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null', '-o', `IdentityAgent=${socket}`, '-o', 'IdentityFile=none', '-o', 'ConnectTimeout=30',
      '-p', String(sshd.port), `${LOGIN}@127.0.0.1`, 'echo via-tsh-agent',
    ])
    assert.equal(result.code, 0, `${result.stderr}\n${sshd.logs()}`)
    assert.equal(result.stdout, 'via-tsh-agent\n')
  })

  test('a client cannot read the key back: the agent only signs', async () => {
    const client = await AgentClient.connect(socket)
    try {
      const ids = await client.list()
      assert.equal(ids.length, 1)
      await assert.rejects(client.sign(Buffer.from('not ours'), Buffer.from('x')), /refused to sign/)
    } finally {
      client.close()
    }
  })

  test('logout stops it and removes the socket', async () => {
    await logoutAll(new FileKeyStore(home), {env: {}})
    assert.equal(await served.done, 'logged out')
    const {existsSync} = await import('node:fs')
    assert.equal(existsSync(socket), false)
  })
})

describe('tsh agent follows the login', {timeout: 4 * TIMEOUT_MS}, () => {
  const dir = tempDir('tsh-agent-follow-')
  const home = join(dir.path, '.tsh')
  after(() => dir.cleanup())

  const saveWith = (certificate: string, k = key) =>
    saveLogin(new FileKeyStore(home), {profile: sampleProfile(), privateKey: k.privateKey, publicKey: k.publicKey, certificate, hostCAs: [HOST_CA.publicKey]})

  test('a new login is served at once; an expired certificate is no longer offered, and the next login is', async () => {
    saveWith(cert)
    const socket = join(dir.path, 'follow.sock')
    const clock = new FakeClock(Date.now())
    const served = await startIdentityAgent({socketPath: socket, home, pollMs: 50, clock})
    try {
      const blobOf = async () => withAgent(socket, async (a) => (await a.list())[0]!.blob)
      assert.ok((await blobOf()).equals(parseCert(cert).blob))
      // A new login with a certificate that lives for a few seconds.
      const key2 = generateKeyPair()
      const shortCert = userCert({publicKey: key2.publicKey, ttlMs: 3000})
      saveWith(shortCert, key2)
      clock.advance(50) // the next look at the files
      assert.ok((await blobOf()).equals(parseCert(shortCert).blob))
      clock.advance(3000) // past the certificate's end
      assert.deepEqual(await withAgent(socket, (a) => a.list()), [])
      // A login again (on demand, or tsh login) is picked up by the same agent.
      const key3 = generateKeyPair()
      const freshCert = userCert({publicKey: key3.publicKey})
      saveWith(freshCert, key3)
      clock.advance(50)
      assert.ok((await blobOf()).equals(parseCert(freshCert).blob))
    } finally {
      await served.close()
    }
  })
})

describe('tsh login --add-keys-to-agent', {timeout: 4 * TIMEOUT_MS}, () => {
  const dir = tempDir('tsh-login-agent-')
  const tls = selfSignedTls(dir.path)
  let agent: Awaited<ReturnType<typeof startDebugAgent>>
  let proxy: Awaited<ReturnType<typeof startFakeProxy>>
  before(async () => {
    agent = await startDebugAgent(dir.path)
    proxy = await startFakeProxy({tls, password: 'pw', secondFactor: 'off'})
  })
  after(async () => {
    await proxy?.close()
    await agent?.stop()
    dir.cleanup()
  })

  const run = (mode: 'auto' | 'no' | 'yes' | 'only', user: string, store = new MemoryKeyStore(), warnings: string[] = []) =>
    login({
      store,
      proxy: proxy.addr,
      user,
      ca: [tls.cert],
      addKeysToAgent: mode,
      env: {SSH_AUTH_SOCK: agent.socket},
      prompter: {password: async () => 'pw', otp: async () => ''},
      warn: (l) => warnings.push(l),
      debug: () => {},
    })
  const listed = () => mustRun('ssh-add', ['-l'], {env: agent.env})

  test('auto and yes load the agent; no does not', async () => {
    assert.equal((await run('auto', 'u-auto')).kind, 'logged-in')
    await run('yes', 'u-yes')
    await run('no', 'u-no')
    const out = await listed()
    assert.match(out, /teleport:u-auto \(ED25519-CERT\)/)
    assert.match(out, /teleport:u-yes \(ED25519-CERT\)/)
    assert.doesNotMatch(out, /teleport:u-no/)
  })

  test('only: the key is in the agent and not in the store', async () => {
    const store = new MemoryKeyStore()
    await run('only', 'u-only', store)
    assert.match(await listed(), /teleport:u-only \(ED25519-CERT\)/)
    const id = loadCurrentIdentity({store})
    assert.equal(id.agentOnly, true)
    assert.equal(id.privateKey, '')
    assert.equal(store.readKey('127.0.0.1', 'u-only', 'example.com')?.privateKey, undefined)
  })

  test('yes with no agent running: tsh agent is started for the login, and said where', async () => {
    const warnings: string[] = []
    const started: string[] = []
    const outcome = await login({
      store: new MemoryKeyStore(),
      proxy: proxy.addr,
      user: 'u-start',
      ca: [tls.cert],
      addKeysToAgent: 'yes',
      env: {},
      prompter: {password: async () => 'pw', otp: async () => ''},
      warn: (l) => warnings.push(l),
      debug: () => {},
      startAgent: async (profile) => (started.push(profile.user), '/run/tsh/agent.sock'),
    })
    assert.equal(outcome.kind === 'logged-in' && outcome.agent, 'started')
    assert.deepEqual(started, ['u-start'])
    assert.deepEqual(warnings, ['tsh agent holds the key (no agent was running); use it with: export SSH_AUTH_SOCK=/run/tsh/agent.sock'])
    // auto never starts one.
    const auto = await login({...{store: new MemoryKeyStore(), proxy: proxy.addr, user: 'u-auto2', ca: [tls.cert], env: {}, prompter: {password: async () => 'pw', otp: async () => ''}, warn: () => {}, debug: () => {}}, addKeysToAgent: 'auto', startAgent: async () => assert.fail('auto started an agent')})
    assert.equal(auto.kind === 'logged-in' && auto.agent, 'skipped')
  })

  test('the SSH agent is tsh agent: nothing is added (it reads the store); only is refused', async () => {
    const store = new MemoryKeyStore(join(dir.path, 'own-home'))
    const base = {store, proxy: proxy.addr, ca: [tls.cert], env: {SSH_AUTH_SOCK: join(dir.path, 'own-home', 'agent.sock')}, prompter: {password: async () => 'pw', otp: async () => ''}, warn: () => {}, debug: () => {}}
    const outcome = await login({...base, user: 'u-own', addKeysToAgent: 'yes'})
    assert.equal(outcome.kind === 'logged-in' && outcome.agent, 'added')
    await assert.rejects(login({...base, user: 'u-own2', addKeysToAgent: 'only'}), /--add-keys-to-agent=only cannot use tsh agent/)
  })

  test('yes with an agent that is not there: logged in, with a warning', async () => {
    const warnings: string[] = []
    const outcome = await login({
      store: new MemoryKeyStore(),
      proxy: proxy.addr,
      user: 'u-gone',
      ca: [tls.cert],
      addKeysToAgent: 'yes',
      env: {SSH_AUTH_SOCK: join(dir.path, 'no-such.sock')},
      prompter: {password: async () => 'pw', otp: async () => ''},
      warn: (l) => warnings.push(l),
      debug: () => {},
    })
    assert.equal(outcome.kind === 'logged-in' && outcome.agent, 'failed')
    assert.match(warnings.join('\n'), /WARNING: could not add the key to the SSH agent/)
  })
})
