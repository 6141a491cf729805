import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {connect, createServer, type AddressInfo, type Server} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {dataDirPaths} from '../../../src/config/data-dir.js'
import {startAuthService, type RunningAuthService} from '../../../src/daemon/auth/auth-service.js'
import {testAuthConfig} from '../../helpers/auth.js'
import {inPty} from '../../helpers/pty.js'
import {freePort, keygen, startSshd, tempDir as interopTempDir, type Daemon} from '../../interop/helpers.js'
import {CLUSTER, eventually, exited, LOGIN, run, spawnTsh, startTshCluster, TIMEOUT_MS, TSH, tsh, type TshCluster} from './helpers.js'

// Recording proxy mode (auth_service.session_recording: proxy) with real parts: the proxy
// terminates the user's SSH connection, connects on to a stock OpenSSH sshd (registered with
// tctl create, configured only from tctl auth sign --host and the user CA) and to one of our nodes
// with the certificate the user's forwarded agent offers, records the session and uploads it to
// auth. tsh ssh -A, tsh play and tsh recordings ls; stock ssh/scp/sftp -A through tsh config's
// ProxyCommand; the refusals: no agent, a role without forward_agent, an sshd without a host
// certificate.

const AGENT_REQUIRED = (node: string) => `failed connecting to node ${node}. agent forwarding required in proxy recording mode`

/** A TCP server on the client's side of a -R: it greets each connection, then answers in capitals. */
async function reverseTarget(): Promise<{server: Server; port: number}> {
  const server = createServer((socket) => {
    socket.write('client-side\n')
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()))
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {server, port: (server.address() as AddressInfo).port}
}

/** Connects where the node listens for a -R (this machine: the nodes run here), says ping, returns all it heard. */
function talkThrough(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let heard = ''
    socket.on('data', (d: Buffer) => {
      heard += d.toString()
      if (heard === 'client-side\n') socket.write('ping\n')
      if (heard.endsWith('PING\n')) socket.end()
    })
    socket.once('error', reject)
    socket.once('close', () => resolve(heard))
  })
}

const allocatedPort = (output: string): number => Number(/Allocated port (\d+) for remote forward/.exec(output)?.[1] ?? 0)

describe('recording proxy mode', {timeout: 6 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let alice: string
  let bob: string
  let sshd: Daemon
  let plainSshd: Daemon
  let sshConfig: string
  let agent: ChildProcess
  let agentSocket: string
  const dir = interopTempDir('tsh-recording-proxy')

  before(async () => {
    cluster = await startTshCluster([{name: 'node-1'}], {auth: {sessionRecording: 'proxy'}})
    const sessions = {resources: ['session'], verbs: ['list', 'read']}
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {options: {forward_agent: true, port_forwarding: true}, allow: {logins: [LOGIN], node_labels: {'*': '*'}, rules: [sessions]}}}, {create: true})
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'no-agent'}, spec: {options: {forward_agent: false}, allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    await cluster.admin.createUser({name: 'bob', roles: ['no-agent'], traits: {}})
    alice = await cluster.login('alice')
    bob = await cluster.login('bob')
    const cas = await cluster.admin.getCAKeys()

    const certified = join(dir.path, 'certified')
    mkdirSync(certified)
    const hostKey = await keygen(join(certified, 'host_key'))
    const hostCert = await cluster.admin.signHostCert({hostId: 'sshd-1', principals: ['sshd-1', `sshd-1.${CLUSTER}`], publicKey: hostKey.publicKey})
    writeFileSync(join(certified, 'host_key-cert.pub'), hostCert.certificate.trim() + '\n')
    sshd = await startSshd({dir: certified, trustedUserCAKeys: cas.user, hostKeyPath: hostKey.path, hostCertPath: join(certified, 'host_key-cert.pub')})
    await cluster.admin.registerOpenSSHNode('sshd-1', {hostname: 'sshd-1', addr: `127.0.0.1:${sshd.port}`, labels: {env: 'lab'}}, {create: true})

    const plain = join(dir.path, 'plain')
    mkdirSync(plain)
    const plainKey = await keygen(join(plain, 'host_key'))
    plainSshd = await startSshd({dir: plain, trustedUserCAKeys: cas.user, hostKeyPath: plainKey.path})
    await cluster.admin.registerOpenSSHNode('sshd-plain', {hostname: 'sshd-plain', addr: `127.0.0.1:${plainSshd.port}`, labels: {env: 'lab'}}, {create: true})

    // Stock ssh forwards the agent at $SSH_AUTH_SOCK: one holding alice's Teleport key and certificate.
    agentSocket = join(dir.path, 'agent.sock')
    agent = spawn('ssh-agent', ['-D', '-a', agentSocket], {stdio: 'ignore'})
    await eventually(async () => existsSync(agentSocket), 'the agent socket')
    await cluster.login('alice', {agentOnly: agentSocket})
    const config = await tsh(alice, ['config'])
    assert.equal(config.code, 0, config.stderr)
    sshConfig = join(dir.path, 'ssh_config')
    writeFileSync(sshConfig, config.stdout)
  })
  let restartedAuth: RunningAuthService | undefined
  after(async () => {
    await restartedAuth?.close()
    agent?.kill()
    await sshd?.stop()
    await plainSshd?.stop()
    await cluster?.close()
    dir.cleanup()
  })

  const nodeSid = async (from: Date, hostname: string, command: string): Promise<string> => {
    await cluster.proxy.flushAudit()
    const page = await cluster.admin.searchEvents({from, to: new Date(Date.now() + 60_000), types: ['session.start']})
    // The proxy's session (our node audits its own too, under its host id).
    const nodeIds = new Set(cluster.nodes.map((n) => n.hostUuid))
    const start = page.events.find((e) => e.server_hostname === hostname && !nodeIds.has(String(e.server_id)) && (command === '' ? e.command === undefined : e.command === command))
    assert.ok(start, `a session.start on ${hostname} for ${JSON.stringify(command)} in ${JSON.stringify(page.events)}`)
    return String(start.sid)
  }

  const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

  for (const host of ['sshd-1', 'node-1']) {
    test(`tsh ssh -A runs a command on ${host}, recorded at the proxy: tsh recordings ls lists it, tsh play shows it`, async () => {
      const from = new Date(Date.now() - 1000)
      const r = await tsh(alice, ['ssh', '-A', `${LOGIN}@${host}`, `echo recorded-on-${host}`])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `recorded-on-${host}\n`)
      const status = await tsh(alice, ['ssh', '-A', `${LOGIN}@${host}`, 'exit 7'])
      assert.equal(status.code, 7, 'the exit status comes back through the proxy')
      const sid = await nodeSid(from, host, `echo recorded-on-${host}`)
      const audited = await cluster.admin.searchEvents({from, to: new Date(Date.now() + 60_000), sid})
      assert.deepEqual(audited.events.map((e) => e.event).filter((e) => ['session.start', 'exec', 'session.end'].includes(e)), ['session.start', 'exec', 'session.end'], 'audited as a node audits it')
      await cluster.proxy.flushRecordings()
      const ls = await tsh(alice, ['recordings', 'ls', '-f', 'json'])
      assert.equal(ls.code, 0, ls.stderr)
      assert.ok((JSON.parse(ls.stdout) as {sid: string}[]).some((e) => e.sid === sid), `${sid} listed`)
      const played = await tsh(alice, ['play', '-f', 'text', sid])
      assert.equal(played.code, 0, played.stderr)
      // The recording has stderr too: the test sshd's DEBUG1 log lines of the session, before the output.
      assert.match(played.stdout, new RegExp(`(^|\\n)recorded-on-${host}\\n$`))
    })

    test(`a shell in a pty on ${host}: what was typed plays back`, async () => {
      const from = new Date(Date.now() - 1000)
      // When each step was reached, for a failure to say where the time went.
      const steps: string[] = []
      const step = (what: string) => steps.push(`${what} +${Date.now() - from.getTime() - 1000} ms`)
      const term = inPty(TSH, ['ssh', '-A', `${LOGIN}@${host}`], {...process.env, TELEPORT_HOME: alice, NO_COLOR: '1'})
      try {
        term.write('echo typed-$((6*7))\r')
        await term.waitFor(/typed-42/)
        step('typed-42')
        // Live: tsh sessions ls shows it (the proxy holds it and keeps its tracker).
        await eventually(async () => {
          const ls = await tsh(alice, ['sessions', 'ls', '-f', 'json'])
          step(`tsh sessions ls exit ${ls.code}`)
          return (JSON.parse(ls.stdout) as {hostname: string; user: string}[]).some((t) => t.hostname === host && t.user === 'alice')
        }, `the live session on ${host} in tsh sessions ls`)
        // A window change reaches the node's pty through the proxy.
        await term.resizeRemote(111, 33)
        step('size')
        term.write('exit\r')
        assert.equal(await term.exit, 0, term.output())
      } catch (err) {
        throw Object.assign(err as Error, {message: `${(err as Error).message}\nsteps: ${steps.join(', ')}`})
      }
      const sid = await nodeSid(from, host, '')
      await cluster.proxy.flushRecordings()
      const played = await tsh(alice, ['play', '-f', 'text', sid])
      assert.equal(played.code, 0, played.stderr)
      assert.match(played.stdout, /echo typed-\$\(\(6\*7\)\)/)
      assert.match(played.stdout, /typed-42/)
    })

    test(`without -A on ${host}: Teleport's refusal, non-zero exit`, async () => {
      const r = await tsh(alice, ['ssh', `${LOGIN}@${host}`, 'echo never'])
      assert.notEqual(r.code, 0)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr.trimEnd(), AGENT_REQUIRED(host))
    })
  }

  test('our node records and audits no second copy: each session is listed once, by the proxy', async () => {
    await cluster.proxy.flushRecordings()
    await cluster.proxy.flushAudit()
    for (const node of cluster.nodes) await node.service.flushAudit()
    const page = await cluster.admin.searchEvents({from: new Date(0), to: new Date(Date.now() + 60_000), types: ['session.start', 'session.end', 'exec']})
    assert.ok(page.events.some((e) => e.server_hostname === 'node-1'), 'sessions on node-1 were audited')
    assert.deepEqual(page.events.filter((e) => e.server_id === cluster.nodes[0]!.hostUuid), [], 'none by the node itself')
    assert.deepEqual(readdirSync(dataDirPaths(cluster.nodes[0]!.dataDir).recordingsToUpload), [])
    const ls = JSON.parse((await tsh(alice, ['recordings', 'ls', '-f', 'json'])).stdout) as {sid: string}[]
    const stored = new Set(readdirSync(join(dataDirPaths(cluster.dataDir).log, 'records')).map((f) => f.replace(/\.rec$/, '')))
    for (const listed of ls) assert.ok(stored.has(listed.sid), `every listed session has its recording (${listed.sid})`)
  })

  test('the proxy decides access as the node would: a login the roles do not allow is refused there, audited', async () => {
    const from = new Date(Date.now() - 1000)
    const r = await tsh(alice, ['ssh', '-A', 'nobody@node-1', 'echo never'])
    assert.equal(r.code, 1)
    assert.equal(r.stderr, 'ERROR: access denied to nobody connecting to node-1\n')
    await cluster.proxy.flushAudit()
    const page = await cluster.admin.searchEvents({from, to: new Date(Date.now() + 60_000), types: ['auth']})
    const refusal = page.events.find((e) => e.login === 'nobody' && e.server_hostname === 'node-1')
    assert.ok(refusal, `a refused auth attempt audited: ${JSON.stringify(page.events)}`)
    assert.equal(refusal.code, 'T3007W')
    assert.equal(refusal.user, 'alice')
  })

  test('a role without forward_agent: the agent is not forwarded, so the proxy cannot go on', async () => {
    const r = await tsh(bob, ['ssh', '-A', `${LOGIN}@sshd-1`, 'echo never'])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, new RegExp(AGENT_REQUIRED('sshd-1').replace(/\./g, '\\.')))
  })

  test('a moderated session without a terminal cannot be joined, so the proxy refuses it, as a node does', async () => {
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'moderated'}, spec: {options: {forward_agent: true}, allow: {logins: [LOGIN], node_labels: {'*': '*'}, require_session_join: [{name: 'an auditor', filter: 'contains(user.spec.roles, "auditor")', kinds: ['ssh'], modes: ['moderator'], count: 1}]}}}, {create: true})
    await cluster.admin.createUser({name: 'mona', roles: ['moderated'], traits: {}})
    const mona = await cluster.login('mona')
    const r = await tsh(mona, ['ssh', '-A', `${LOGIN}@sshd-1`, 'echo never'])
    assert.notEqual(r.code, 0)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr.trimEnd(), 'your roles require moderators to join your sessions (require_session_join): only interactive sessions (with a terminal) can be moderated')
  })

  test('an sshd with a plain host key is refused by the proxy', async () => {
    const r = await tsh(alice, ['ssh', '-A', `${LOGIN}@sshd-plain`, 'echo never'])
    assert.notEqual(r.code, 0)
    assert.equal(r.stderr.trimEnd(), 'failed connecting to node sshd-plain: remote host presented a public key, expected a host certificate')
    assert.doesNotMatch(plainSshd.logs(), /Accepted publickey/)
    // A certificate from the cluster, but for other names than the node's.
    await cluster.admin.registerOpenSSHNode('sshd-other', {hostname: 'sshd-other', addr: `localhost:${sshd.port}`, labels: {env: 'lab'}}, {create: true})
    const other = await tsh(alice, ['ssh', '-A', `${LOGIN}@sshd-other`, 'echo never'])
    assert.notEqual(other.code, 0)
    assert.match(other.stderr, /^failed connecting to node sshd-other: the node's host certificate is not valid: /)
    await cluster.admin.deleteNode('sshd-other')
  })

  test('tsh scp to and from sshd-1 forwards tsh\'s own key for the proxy, byte-exact; a role without forward_agent is refused', async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 17)
    writeFileSync(join(dir.path, 'tsh-up.bin'), payload)
    // No agent of alice's own: what the proxy logs in with is tsh's key.
    const env = {SSH_AUTH_SOCK: ''}
    const up = await tsh(alice, ['scp', join(dir.path, 'tsh-up.bin'), `${LOGIN}@sshd-1:${dir.path}/tsh-remote.bin`], {env})
    assert.equal(up.code, 0, up.stderr)
    const down = await tsh(alice, ['scp', `${LOGIN}@sshd-1:${dir.path}/tsh-remote.bin`, join(dir.path, 'tsh-down.bin')], {env})
    assert.equal(down.code, 0, down.stderr)
    assert.equal(digest(readFileSync(join(dir.path, 'tsh-down.bin'))), digest(payload))
    const refused = await tsh(bob, ['scp', join(dir.path, 'tsh-up.bin'), `${LOGIN}@sshd-1:${dir.path}/never.bin`], {env})
    assert.notEqual(refused.code, 0)
    assert.equal(refused.stderr, 'ERROR: failed connecting to node sshd-1. agent forwarding required in proxy recording mode\n')
    assert.equal(existsSync(join(dir.path, 'never.bin')), false)
  })

  test('stock ssh -A, scp -A and sftp -A through tsh config, byte-exact', async () => {
    const env = {TELEPORT_HOME: alice, SSH_AUTH_SOCK: agentSocket}
    for (const host of ['sshd-1', 'node-1']) {
      const r = await run('ssh', ['-F', sshConfig, '-A', '-o', 'BatchMode=yes', `${LOGIN}@${host}.${CLUSTER}`, 'echo via-stock-ssh'], {env})
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'via-stock-ssh\n')
    }
    const payload = Buffer.alloc(2 * 1024 * 1024 + 3)
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff
    writeFileSync(join(dir.path, 'up.bin'), payload)
    const scp = await run('scp', ['-F', sshConfig, '-A', '-o', 'BatchMode=yes', join(dir.path, 'up.bin'), `${LOGIN}@sshd-1.${CLUSTER}:${dir.path}/scp.bin`], {env})
    assert.equal(scp.code, 0, scp.stderr)
    assert.equal(digest(readFileSync(join(dir.path, 'scp.bin'))), digest(payload))
    const legacy = await run('scp', ['-O', '-F', sshConfig, '-A', '-o', 'BatchMode=yes', `${LOGIN}@sshd-1.${CLUSTER}:${dir.path}/scp.bin`, join(dir.path, 'legacy.bin')], {env})
    assert.equal(legacy.code, 0, legacy.stderr)
    assert.equal(digest(readFileSync(join(dir.path, 'legacy.bin'))), digest(payload))
    const sftp = await run('sftp', ['-F', sshConfig, '-A', '-o', 'BatchMode=yes', '-b', '-', `${LOGIN}@sshd-1.${CLUSTER}`], {env, input: `get ${dir.path}/scp.bin ${dir.path}/sftp.bin\n`})
    assert.equal(sftp.code, 0, sftp.stderr)
    assert.equal(digest(readFileSync(join(dir.path, 'sftp.bin'))), digest(payload))
  })

  test('exit signals and environment pass through the proxy', async () => {
    const killed = await tsh(alice, ['--debug', 'ssh', '-A', `${LOGIN}@sshd-1`, 'kill -TERM $$'])
    assert.equal(killed.code, 255)
    assert.match(killed.stderr, /remote command terminated by signal SIGTERM/)
    const env = {TELEPORT_HOME: alice, SSH_AUTH_SOCK: agentSocket}
    const r = await run('ssh', ['-F', sshConfig, '-A', '-o', 'BatchMode=yes', '-o', 'SetEnv=LC_PROXYREC=passed', `${LOGIN}@node-1.${CLUSTER}`, 'echo "env=$LC_PROXYREC"'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'env=passed\n')
  })

  test('stock ssh -A -L: port forwarding through the proxy\'s connection to the node', async () => {
    const env = {TELEPORT_HOME: alice, SSH_AUTH_SOCK: agentSocket}
    const port = await freePort()
    const ssh = spawn('ssh', ['-F', sshConfig, '-A', '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-L', `127.0.0.1:${port}:127.0.0.1:${sshd.port}`, `${LOGIN}@sshd-1.${CLUSTER}`, 'echo ready; sleep 60'], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    try {
      let out = ''
      ssh.stdout.on('data', (d: Buffer) => (out += d.toString()))
      await eventually(async () => out.includes('ready'), 'the session (and its forwarded agent) to run')
      const banner = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1')
        socket.once('data', (d: Buffer) => {
          resolve(d.toString())
          socket.destroy()
        })
        socket.once('error', reject)
      })
      assert.match(banner, /^SSH-2\.0-OpenSSH/, 'the forwarded port reaches the destination')
    } finally {
      ssh.kill()
      await new Promise((resolve) => (ssh.exitCode !== null ? resolve(null) : ssh.once('exit', resolve)))
    }
  })

  test('ssh -N -L forwards no agent (no session asks for it): the forwarded connection is refused with the reason', async () => {
    const env = {TELEPORT_HOME: alice, SSH_AUTH_SOCK: agentSocket}
    const port = await freePort()
    const ssh = spawn('ssh', ['-F', sshConfig, '-A', '-N', '-o', 'BatchMode=yes', '-L', `127.0.0.1:${port}:127.0.0.1:${sshd.port}`, `${LOGIN}@sshd-1.${CLUSTER}`], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    try {
      let err = ''
      ssh.stderr.on('data', (d: Buffer) => (err += d.toString()))
      await eventually(async () => {
        await new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1')
          socket.once('close', () => resolve())
          socket.once('error', () => resolve())
        })
        return err.includes(AGENT_REQUIRED('sshd-1'))
      }, 'the refusal of the forwarded connection, with its reason')
    } finally {
      ssh.kill()
      await new Promise((resolve) => (ssh.exitCode !== null ? resolve(null) : ssh.once('exit', resolve)))
    }
  })

  test('stock ssh -A -R through tsh config: a connection to the port the sshd node listens on reaches a server on the client side, audited', async () => {
    const from = new Date(Date.now() - 1000)
    const target = await reverseTarget()
    const env = {TELEPORT_HOME: alice, SSH_AUTH_SOCK: agentSocket}
    const ssh = spawn('ssh', ['-F', sshConfig, '-A', '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-R', `0:127.0.0.1:${target.port}`, `${LOGIN}@sshd-1.${CLUSTER}`, 'echo ready; sleep 60'], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    ssh.stdout.on('data', (d: Buffer) => (out += d.toString()))
    ssh.stderr.on('data', (d: Buffer) => (out += d.toString()))
    try {
      const port = await eventually(async () => allocatedPort(out) || undefined, 'the port the sshd listens on')
      assert.equal(await talkThrough(port), 'client-side\nPING\n', 'bytes both ways')
      await cluster.proxy.flushAudit()
      const page = await cluster.admin.searchEvents({from, to: new Date(Date.now() + 60_000), types: ['port']})
      assert.ok(page.events.some((e) => e.code === 'T3003I' && e.user === 'alice' && e.server_hostname === 'sshd-1' && String(e.addr).endsWith(`:${port}`)), `the -R audited: ${JSON.stringify(page.events)}`)
    } finally {
      ssh.kill()
      await exited(ssh)
      target.server.close()
    }
  })

  test('stock ssh -N -R forwards no agent (no session): after the wait the -R is refused, audited with the reason', async () => {
    const from = new Date(Date.now() - 1000)
    const env = {TELEPORT_HOME: alice, SSH_AUTH_SOCK: agentSocket}
    const r = await run('ssh', ['-F', sshConfig, '-A', '-N', '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:9', `${LOGIN}@sshd-1.${CLUSTER}`], {env})
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /remote port forwarding failed for listen port 0/)
    await cluster.proxy.flushAudit()
    const page = await cluster.admin.searchEvents({from, to: new Date(Date.now() + 60_000), types: ['port']})
    assert.ok(page.events.some((e) => e.code === 'T3003E' && e.user === 'alice' && e.server_hostname === 'sshd-1' && e.error === AGENT_REQUIRED('sshd-1')), `the refusal audited: ${JSON.stringify(page.events)}`)
  })

  for (const host of ['sshd-1', 'node-1']) {
    test(`tsh ssh -N -A -R to ${host}: the agent is forwarded without a session, the node's listener reaches the client side`, async () => {
      const from = new Date(Date.now() - 1000)
      const target = await reverseTarget()
      const child = spawnTsh(alice, ['ssh', '-N', '-A', '-R', `0:127.0.0.1:${target.port}`, `${LOGIN}@${host}`], {env: {...process.env, NO_COLOR: '1', TELEPORT_HOME: alice, SSH_AUTH_SOCK: ''}})
      try {
        const port = await eventually(async () => allocatedPort(child.output()) || undefined, 'the allocated port')
        assert.equal(await talkThrough(port), 'client-side\nPING\n', 'bytes both ways')
        await cluster.proxy.flushAudit()
        for (const node of cluster.nodes) await node.service.flushAudit()
        const page = await cluster.admin.searchEvents({from, to: new Date(Date.now() + 60_000), types: ['port']})
        const audited = page.events.filter((e) => e.server_hostname === host && String(e.addr).endsWith(`:${port}`))
        assert.equal(audited.length, 1, `audited once, by the proxy: ${JSON.stringify(page.events)}`)
        assert.equal(audited[0]!.code, 'T3003I')
      } finally {
        child.kill('SIGTERM')
        assert.equal(await exited(child), 0, child.output())
        target.server.close()
      }
    })
  }

  test('tsh ssh -A -R with a command: the session forwards the agent, and the -R is answered while it runs', async () => {
    const target = await reverseTarget()
    const port = await freePort()
    const child = spawnTsh(alice, ['ssh', '-A', '-R', `${port}:127.0.0.1:${target.port}`, `${LOGIN}@sshd-1`, 'echo ready; sleep 60'], {env: {...process.env, NO_COLOR: '1', TELEPORT_HOME: alice, SSH_AUTH_SOCK: ''}})
    try {
      await eventually(async () => child.output().includes('ready'), 'the command to run')
      const heard = await eventually(async () => (await talkThrough(port).catch(() => '')) || undefined, 'the node to listen on the -R port')
      assert.equal(heard, 'client-side\nPING\n', 'bytes both ways')
    } finally {
      child.kill('SIGTERM')
      await exited(child)
      target.server.close()
    }
  })

  test('tsh ssh -N -A -L through the recording proxy: no session recorded, the forwarded port reaches the destination', async () => {
    const from = new Date(Date.now() - 1000)
    const port = await freePort()
    const child = spawnTsh(alice, ['ssh', '-N', '-A', '-L', `${port}:127.0.0.1:${sshd.port}`, `${LOGIN}@sshd-1`], {env: {...process.env, NO_COLOR: '1', TELEPORT_HOME: alice, SSH_AUTH_SOCK: ''}})
    try {
      const banner = await eventually(async () => {
        return new Promise<string | undefined>((resolve) => {
          const socket = connect(port, '127.0.0.1')
          socket.once('data', (d: Buffer) => {
            resolve(d.toString())
            socket.destroy()
          })
          socket.once('error', () => resolve(undefined))
          socket.once('close', () => resolve(undefined))
        })
      }, 'the forwarded port')
      assert.match(banner, /^SSH-2\.0-OpenSSH/)
    } finally {
      child.kill('SIGTERM')
      assert.equal(await exited(child), 0, child.output())
    }
    await cluster.proxy.flushAudit()
    const page = await cluster.admin.searchEvents({from, to: new Date(Date.now() + 60_000), types: ['session.start', 'port']})
    // (Earlier tests' commands may still be ending: a session without a command would be this one.)
    assert.deepEqual(page.events.filter((e) => e.event === 'session.start' && e.server_hostname === 'sshd-1' && e.command === undefined), [], 'the agent-only session is not a session')
    assert.ok(page.events.some((e) => e.code === 'T3003I' && e.user === 'alice' && e.addr === `127.0.0.1:${sshd.port}`), 'the -L audited')
  })

  test('tsh ssh -N -L without -A: a warning, and each forwarded connection is refused with the reason', async () => {
    const port = await freePort()
    const child = spawnTsh(alice, ['ssh', '-N', '-L', `${port}:127.0.0.1:${sshd.port}`, `${LOGIN}@sshd-1`], {env: {...process.env, NO_COLOR: '1', TELEPORT_HOME: alice, SSH_AUTH_SOCK: ''}})
    try {
      await eventually(async () => {
        await new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1')
          socket.once('close', () => resolve())
          socket.once('error', () => resolve())
        })
        return child.output().includes(AGENT_REQUIRED('sshd-1'))
      }, 'the refusal of the forwarded connection, with its reason')
      assert.match(child.output(), /^WARNING: sessions are recorded at the proxy, which reaches the node only with your forwarded agent: add -A for the forwards to work$/m)
    } finally {
      child.kill('SIGTERM')
      await exited(child)
    }
  })

  test('a role without port_forwarding: -R is refused by the proxy and audited', async () => {
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'no-ports'}, spec: {options: {forward_agent: true, port_forwarding: false}, allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'dave', roles: ['no-ports'], traits: {}})
    const dave = await cluster.login('dave')
    const from = new Date(Date.now() - 1000)
    const r = await tsh(dave, ['ssh', '-N', '-A', '-R', '0:127.0.0.1:9', `${LOGIN}@sshd-1`], {env: {SSH_AUTH_SOCK: ''}})
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /^ERROR: -R 0:127\.0\.0\.1:9: the node refused remote port forwarding/m)
    await cluster.proxy.flushAudit()
    const page = await cluster.admin.searchEvents({from, to: new Date(Date.now() + 60_000), types: ['port']})
    const refusal = page.events.find((e) => e.user === 'dave')
    assert.ok(refusal, `the refusal audited: ${JSON.stringify(page.events)}`)
    assert.equal(refusal.code, 'T3003E')
    assert.equal(refusal.server_hostname, 'sshd-1')
    assert.equal(refusal.error, "port forwarding is not permitted by the user's roles")
  })

  test('a lock ends a running session on a plain sshd: the proxy ends it as our nodes end theirs', async () => {
    await cluster.admin.createUser({name: 'carol', roles: ['ops'], traits: {}})
    const carol = await cluster.login('carol')
    const term = inPty(TSH, ['ssh', '-A', `${LOGIN}@sshd-1`], {...process.env, TELEPORT_HOME: carol, NO_COLOR: '1'})
    term.write('echo carol-$((2*21))\r')
    await term.waitFor(/carol-42/)
    await cluster.admin.createLock({target: {user: 'carol'}, message: 'incident 7'})
    await term.waitFor(/Teleport > lock targeting User:"carol" is in force: incident 7/)
    assert.notEqual(await term.exit, 0)
    const again = await tsh(carol, ['ssh', '-A', `${LOGIN}@sshd-1`, 'echo never'])
    assert.notEqual(again.code, 0)
    assert.match(again.stderr, /lock targeting User:"carol" is in force: incident 7/)
  })

  test('through an auth outage the session runs and its recording waits at the proxy, then is uploaded', async () => {
    const pending = dataDirPaths(cluster.dataDir).proxyRecordingsToUpload
    // Sessions of the tests before (a killed ssh's) end and upload first.
    await eventually(async () => {
      await cluster.proxy.flushRecordings()
      return readdirSync(pending).length === 0
    }, 'earlier recordings to be uploaded')
    const port = cluster.auth.address.port
    await cluster.auth.close()
    const r = await tsh(alice, ['ssh', '-A', `${LOGIN}@sshd-1`, 'echo during-the-outage'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'during-the-outage\n')
    const waiting = await eventually(async () => {
      const files = readdirSync(pending)
      return files.length === 1 ? files[0] : undefined
    }, 'the recording to wait at the proxy')
    const sid = waiting.replace(/\.tsrec$/, '')
    restartedAuth = await startAuthService(testAuthConfig(cluster.dataDir, {clusterName: CLUSTER, listen: {host: '127.0.0.1', port}, sessionRecording: 'proxy'}))
    await eventually(async () => readdirSync(pending).length === 0, 'the upload once auth is back')
    const played = await tsh(alice, ['play', '-f', 'text', sid])
    assert.equal(played.code, 0, played.stderr)
    assert.match(played.stdout, /during-the-outage\n$/)
  })
})

describe('recording proxy mode, proxy-sync, proxy_checks_host_keys: no', {timeout: 3 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let alice: string
  let plainSshd: Daemon
  const dir = interopTempDir('tsh-recording-proxy-sync')

  before(async () => {
    cluster = await startTshCluster([{name: 'node-1'}], {auth: {sessionRecording: 'proxy-sync', proxyChecksHostKeys: false}})
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {options: {forward_agent: true}, allow: {logins: [LOGIN], node_labels: {'*': '*'}, rules: [{resources: ['session'], verbs: ['list', 'read']}]}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    alice = await cluster.login('alice')
    const plainKey = await keygen(join(dir.path, 'host_key'))
    plainSshd = await startSshd({dir: dir.path, trustedUserCAKeys: (await cluster.admin.getCAKeys()).user, hostKeyPath: plainKey.path})
    await cluster.admin.registerOpenSSHNode('sshd-plain', {hostname: 'sshd-plain', addr: `127.0.0.1:${plainSshd.port}`, labels: {}}, {create: true})
  })
  after(async () => {
    await plainSshd?.stop()
    await cluster?.close()
    dir.cleanup()
  })

  test('proxy_checks_host_keys: no lets the proxy reach an sshd without a host certificate', async () => {
    const r = await tsh(alice, ['ssh', '-A', `${LOGIN}@sshd-plain`, 'echo unchecked'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'unchecked\n')
  })

  test('the recording reaches auth while the session runs, and plays once it ends', async () => {
    const records = join(dataDirPaths(cluster.dataDir).log, 'records')
    const pending = dataDirPaths(cluster.dataDir).proxyRecordingsToUpload
    const term = inPty(TSH, ['ssh', '-A', `${LOGIN}@node-1`], {...process.env, TELEPORT_HOME: alice, NO_COLOR: '1'})
    term.write('echo live-$((6*7))\r')
    await term.waitFor(/live-42/)
    const file = await eventually(async () => readdirSync(pending).find((f) => f.endsWith('.tsrec')), 'the recording at the proxy')
    const sid = file.replace(/\.tsrec$/, '')
    // Streamed as it runs: auth holds part of it before the end.
    await eventually(async () => existsSync(join(records, `${sid}.part`)) && statSync(join(records, `${sid}.part`)).size > 0, 'auth to hold the live recording')
    assert.equal(existsSync(join(records, `${sid}.rec`)), false, 'not complete while the session runs')
    term.write('exit\r')
    assert.equal(await term.exit, 0, term.output())
    await eventually(async () => existsSync(join(records, `${sid}.rec`)), 'the completed recording')
    const played = await tsh(alice, ['play', '-f', 'text', sid])
    assert.equal(played.code, 0, played.stderr)
    assert.match(played.stdout, /live-42/)
  })
})
