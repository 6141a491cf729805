import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {connect as netConnect, createServer, type Server, type Socket} from 'node:net'
import {after, before, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import type {ClientChannel} from 'ssh2'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {encodePreamble} from '../../../src/daemon/common/proxy-preamble.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {openAgentOnlySession} from '../../../src/ssh/client-internals.js'
import {certAuthOptions, hostCertVerifier} from '../../../src/ssh/index.js'
import {TIMEOUT_MS, knownHostsFile, memoryLogger, nodeIdentity, run, sshOptions, startCluster, tempDir, userCert, type TestCluster, type UserKey} from './helpers.js'

// What OpenSSH's command line cannot drive precisely, driven with an ssh2 client: window-change,
// signal requests, exit-signal, EOF in both directions; and the proxy's signed preamble in front
// of the SSH bytes.

const HOST_ID = '7a1b2c3d-0000-4111-8222-933344445555'

describe('node service: session details and the proxy preamble', {timeout: 10 * TIMEOUT_MS}, () => {
  let cluster: TestCluster
  let node: RunningNodeService
  let nodeApi: AuthApi
  let dir: string
  let nodeData: string | undefined
  let alice: UserKey
  const log = memoryLogger()

  before(async () => {
    cluster = await startCluster()
    dir = tempDir('ssh2')
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {options: {forward_agent: true}, allow: {logins: ['root'], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    alice = await userCert(cluster, dir, 'alice')
    const handed = await nodeIdentity(cluster, HOST_ID, 'node-2')
    nodeApi = handed.authApi
    node = await startNodeService({dataDir: (nodeData = tempDir('nodedata2')), nodeName: 'node-2', listen: {host: '127.0.0.1', port: 0}, log, cluster: handed})
  })

  after(async () => {
    await node?.close()
    await nodeApi?.close()
    await cluster?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
    if (nodeData) rmSync(nodeData, {recursive: true, force: true})
  })

  async function connect(port = node.address.port, agent?: ssh2.BaseAgent): Promise<ssh2.Client> {
    const client = new ssh2.Client()
    const verifier = hostCertVerifier({trustedHostCAs: [cluster.hostCA], hostname: '127.0.0.1'})
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve())
      client.once('error', reject)
      client.connect({host: '127.0.0.1', port, readyTimeout: TIMEOUT_MS, ...verifier.connectOptions(), ...certAuthOptions({username: 'root', privateKey: alice.privateKey, certificate: alice.certificate}), ...(agent ? {agent} : {})})
    })
    return client
  }

  function exec(client: ssh2.Client, command: string, options: ssh2.ExecOptions = {}): Promise<ClientChannel> {
    return new Promise((resolve, reject) => client.exec(command, options, (err, channel) => (err ? reject(err) : resolve(channel))))
  }

  interface Outcome {
    stdout: string
    code: number | null | undefined
    signal: string | undefined
    sawEof: boolean
  }

  function collect(channel: ClientChannel): {outcome: Promise<Outcome>; waitFor: (re: RegExp) => Promise<void>} {
    let stdout = ''
    let sawEof = false
    const waiters: {re: RegExp; resolve: () => void}[] = []
    let exit: {code: number | null | undefined; signal: string | undefined} = {code: undefined, signal: undefined}
    channel.on('data', (d: Buffer) => {
      stdout += d.toString()
      for (const w of [...waiters]) if (w.re.test(stdout)) w.resolve()
    })
    channel.stderr.on('data', () => {})
    channel.on('end', () => (sawEof = true))
    channel.on('exit', (code: number | null, signal?: string) => (exit = {code, signal}))
    const outcome = new Promise<Outcome>((resolve) => channel.on('close', () => resolve({stdout, ...exit, sawEof})))
    return {
      outcome,
      waitFor: (re) => (re.test(stdout) ? Promise.resolve() : new Promise((resolve) => waiters.push({re, resolve}))),
    }
  }

  test('window-change resizes the terminal', async () => {
    const client = await connect()
    try {
      const channel = await exec(client, 'stty size; read line; stty size', {pty: {rows: 24, cols: 80, term: 'xterm'}})
      const out = collect(channel)
      await out.waitFor(/24 80/)
      channel.setWindow(50, 132, 0, 0)
      channel.write('\n')
      const result = await out.outcome
      assert.match(result.stdout, /24 80[\s\S]*50 132/)
      assert.equal(result.code, 0)
    } finally {
      client.end()
    }
  })

  test('a signal request reaches the program; exit-signal comes back', async () => {
    const client = await connect()
    try {
      const channel = await exec(client, 'echo ready; exec sleep 60')
      const out = collect(channel)
      await out.waitFor(/ready/)
      channel.signal('TERM')
      const result = await out.outcome
      assert.equal(result.signal, 'SIGTERM') // ssh2's client prefixes the wire name (TERM)
    } finally {
      client.end()
    }
  })

  test('a session channel that only asks for agent forwarding (tsh -N through a recording proxy) runs nothing; other sessions go on without its agent', async () => {
    const client = await connect(undefined, new ssh2.OpenSSHAgent(`${dir}/no-agent.sock`))
    try {
      const agentOnly = await openAgentOnlySession(client)
      let heard = ''
      agentOnly.on('data', (d: Buffer) => (heard += d.toString()))
      agentOnly.stderr.on('data', (d: Buffer) => (heard += d.toString()))
      const result = await collect(await exec(client, 'echo "agent=${SSH_AUTH_SOCK:-none}"')).outcome
      assert.equal(result.stdout, 'agent=none\n', 'the agent is the agent-only session\'s, not another\'s')
      assert.equal(result.code, 0)
      assert.equal(heard, '', 'nothing ran on it')
    } finally {
      client.end()
    }
  })

  test('EOF both ways: stdin EOF ends cat, its output ends with EOF, then exit 0 and close', async () => {
    const client = await connect()
    try {
      const channel = await exec(client, 'cat')
      const out = collect(channel)
      channel.end('through cat\n')
      const result = await out.outcome
      assert.equal(result.stdout, 'through cat\n')
      assert.equal(result.sawEof, true)
      assert.equal(result.code, 0)
    } finally {
      client.end()
    }
  })

  describe('behind a proxy', () => {
    let relay: Server
    let relayPort: number
    let preambleFor: (socket: Socket) => Buffer
    before(async () => {
      const proxyKey = generateKeyPair()
      const proxyCert = await cluster.service.auth.issueHostCert({hostId: 'proxy-host-uuid', nodeName: 'proxy', role: 'Proxy', publicKey: proxyKey.publicKey})
      const nodeKey = generateKeyPair()
      const nodeCert = await cluster.service.auth.issueHostCert({hostId: 'other-node', nodeName: 'impostor', role: 'Node', publicKey: nodeKey.publicKey})
      const good = {privateKey: proxyKey.privateKey, certificate: proxyCert}
      const bad = {privateKey: nodeKey.privateKey, certificate: nodeCert}
      let signer = good
      preambleFor = () => encodePreamble({src: '203.0.113.7:4242', dst: `127.0.0.1:${node.address.port}`}, signer)
      relay = createServer((socket) => {
        const upstream = netConnect(node.address.port, '127.0.0.1', () => {
          upstream.write(preambleFor(socket))
          socket.pipe(upstream).pipe(socket)
        })
        upstream.on('error', () => socket.destroy())
        socket.on('error', () => upstream.destroy())
        upstream.on('close', () => socket.destroy())
      })
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
      relayPort = (relay.address() as {port: number}).port
      useSigner = (which) => (signer = which === 'good' ? good : bad)
    })
    let useSigner: (which: 'good' | 'bad') => void
    after(() => relay?.close())

    test('the preamble\'s client address is the session\'s SSH_CLIENT and the audit address', async () => {
      useSigner('good')
      const knownHosts = knownHostsFile(dir, cluster.hostCA)
      const r = await run('ssh', [...sshOptions(alice, knownHosts, relayPort), 'root@127.0.0.1', 'echo "$SSH_CLIENT"'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^203\.0\.113\.7 4242 \d+$/m)
      await node.flushAudit()
      const starts = (await cluster.admin.searchEvents({from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), types: ['session.start']})).events
      assert.ok(starts.some((e) => e['addr.remote'] === '203.0.113.7:4242'), JSON.stringify(starts))
    })

    test('a preamble not signed by a proxy closes the connection', async () => {
      useSigner('bad')
      const knownHosts = knownHostsFile(dir, cluster.hostCA)
      const r = await run('ssh', [...sshOptions(alice, knownHosts, relayPort), 'root@127.0.0.1', 'true'])
      assert.equal(r.code, 255)
      assert.match(r.stderr, /closed|reset|kex_exchange_identification/i)
      assert.ok(log.lines.some((l) => /bad proxy preamble/.test(l)), log.lines.join('\n'))
    })
  })
})
