import assert from 'node:assert/strict'
import {once} from 'node:events'
import net from 'node:net'
import type {Duplex} from 'node:stream'
import {after, before, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import {ApiClient} from '../../../src/api/client.js'
import type {NodeInfo} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {verifyPreamble} from '../../../src/daemon/common/proxy-preamble.js'
import {generateKeyPair, signUserCert} from '../../../src/sshca/index.js'
import {eventually} from '../node/helpers.js'
import {CLUSTER, connectToProxy, openSubsystem, runSubsystem, startTestCluster, type TestCluster, type UserCredentials} from './helpers.js'

// The proxy's SSH side: certificate authentication (user and host certificates, nothing else),
// the proxy: subsystem's node lookup, the signed preamble to our nodes, direct dial of other SSH
// servers, the pipe to the auth API, and the errors a client sees.

/** Stands in for one of our nodes: records the preamble line, then echoes what follows. */
class PreambleEchoNode {
  readonly preambles: string[] = []
  private readonly server: net.Server
  port = 0

  constructor() {
    this.server = net.createServer((socket) => {
      let buffered = Buffer.alloc(0)
      let preambleRead = false
      socket.on('data', (chunk: Buffer) => {
        if (preambleRead) return void socket.write(chunk)
        buffered = Buffer.concat([buffered, chunk])
        const end = buffered.indexOf('\r\n')
        if (end < 0) return
        this.preambles.push(buffered.subarray(0, end).toString())
        preambleRead = true
        const rest = buffered.subarray(end + 2)
        if (rest.length) socket.write(rest)
      })
      socket.on('end', () => socket.end())
      socket.on('error', () => {})
    })
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as net.AddressInfo).port
    return this
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** A plain SSH server (not ours: no preamble, any client accepted) answering exec with the command. */
async function startPlainSshServer(): Promise<{port: number; close: () => Promise<void>; firstBytes: string[]}> {
  const firstBytes: string[] = []
  const server = new ssh2.Server({hostKeys: [generateKeyPair().privateKey]}, (client) => {
    client.on('error', () => {})
    client.on('authentication', (ctx) => ctx.accept())
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          const channel = acceptExec()
          channel.write(`ran: ${info.command}\n`)
          channel.exit(0)
          channel.end()
        })
      })
    })
  })
  // Record what arrives first on the TCP connection: it must be the SSH banner, not a preamble.
  const raw = (server as unknown as {_srv: net.Server})._srv
  raw.prependListener('connection', (socket: net.Socket) => socket.once('data', (d: Buffer) => firstBytes.push(d.toString('latin1', 0, 8))))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {port: (server.address() as net.AddressInfo).port, firstBytes, close: () => new Promise((resolve) => server.close(() => resolve()))}
}

/** SSH over a proxy channel: exec `command` on the server at the other end. */
function execThrough(channel: Duplex, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    client.once('error', reject)
    client.once('ready', () => {
      client.exec(command, (err, stream) => {
        if (err) return reject(err)
        let out = ''
        stream.on('data', (d: Buffer) => (out += d.toString()))
        stream.on('close', () => {
          client.end()
          resolve(out)
        })
      })
    })
    client.connect({sock: channel as never, username: 'anyone', hostVerifier: () => true, readyTimeout: 20_000})
  })
}

describe('proxy SSH routing', {timeout: 120_000}, () => {
  let cluster: TestCluster
  let user: UserCredentials
  let hostCAs: string[]
  let nodeA: PreambleEchoNode
  let nodeB: PreambleEchoNode
  let plain: Awaited<ReturnType<typeof startPlainSshServer>>
  const uuidA = '6f1c2d3e-0000-4000-8000-00000000000a'
  const uuidB = '6f1c2d3e-0000-4000-8000-00000000000b'
  const uuidC = '6f1c2d3e-0000-4000-8000-00000000000c'
  const node = (name: string, hostname: string, addr: string, labels: Record<string, string>): Omit<NodeInfo, 'expires'> => ({name, hostname, addr, labels, cmdLabels: {}, version: '0.1.0'})

  before(async () => {
    cluster = await startTestCluster()
    hostCAs = (await cluster.admin.getCAKeys()).host
    await cluster.admin.createUser({name: 'alice', roles: ['access'], traits: {logins: ['alice', 'root']}})
    const key = generateKeyPair()
    const signed = await cluster.admin.signUserCert({username: 'alice', publicKey: key.publicKey, ttlMs: 3600_000})
    user = {username: 'root', privateKey: key.privateKey, certificate: signed.certificate}

    nodeA = await new PreambleEchoNode().start()
    nodeB = await new PreambleEchoNode().start()
    plain = await startPlainSshServer()
    await cluster.admin.upsertNode(node(uuidA, 'node-a', `127.0.0.1:${nodeA.port}`, {env: 'solo'}))
    // Two nodes share a hostname; one announced a wildcard address (dialled on loopback).
    await cluster.admin.upsertNode(node(uuidB, 'dup', `0.0.0.0:${nodeB.port}`, {env: 'dup', team: 'b'}))
    await cluster.admin.upsertNode(node(uuidC, 'dup', `127.0.0.1:1`, {env: 'dup', team: 'c'}))
  })
  after(async () => {
    await nodeA?.close()
    await nodeB?.close()
    await plain?.close()
    await cluster?.close()
  })

  test('proxy:<hostname>:<port>@<cluster> reaches our node: the signed preamble first, then the bytes both ways', async () => {
    const client = await connectToProxy(cluster.proxy.sshAddress.port, user, hostCAs)
    try {
      const localPort = (client as unknown as {_sock: net.Socket})._sock.localPort
      const before = nodeA.preambles.length
      const result = await runSubsystem(client, `proxy:node-a:3022@${CLUSTER}`, 'hello through the proxy')
      assert.equal(result.stdout.toString(), 'hello through the proxy')
      assert.equal(result.exitCode, 0)
      assert.equal(nodeA.preambles.length, before + 1)
      const address = verifyPreamble(nodeA.preambles.at(-1)!, {hostCAs, clusterName: CLUSTER})
      assert.equal(address.src, `127.0.0.1:${localPort}`)
      assert.equal(address.dst, `127.0.0.1:${nodeA.port}`)
    } finally {
      client.end()
    }
  })

  test('lookup by UUID, by address, by IP of a name, and by label selector', async () => {
    const client = await connectToProxy(cluster.proxy.sshAddress.port, user, hostCAs)
    try {
      for (const name of [`proxy:${uuidA}@${CLUSTER}`, `proxy:127.0.0.1:${nodeA.port}`, `proxy:localhost:${nodeA.port}@${CLUSTER}`, 'proxy:env=solo', `proxy:${uuidB}:22`]) {
        const result = await runSubsystem(client, name, 'ping')
        assert.equal(result.stdout.toString(), 'ping', `${name}: ${result.stderr}`)
      }
      assert.ok(verifyPreamble(nodeB.preambles.at(-1)!, {hostCAs, clusterName: CLUSTER}).dst === `127.0.0.1:${nodeB.port}`, 'a 0.0.0.0 address is dialled on loopback')
    } finally {
      client.end()
    }
  })

  test('a hostname shared by two nodes: the ambiguity error with a table of the matches, exit status 1', async () => {
    const client = await connectToProxy(cluster.proxy.sshAddress.port, user, hostCAs)
    try {
      const result = await runSubsystem(client, `proxy:dup:3022@${CLUSTER}`)
      assert.equal(result.exitCode, 1)
      const lines = result.stderr.split('\n')
      assert.equal(lines[0], 'error: ambiguous host could match multiple nodes')
      assert.match(result.stderr, /^Node Name +Address +Labels$/m)
      // Auth completes a wildcard address with the address the node called from.
      assert.match(result.stderr, new RegExp(`^dup +(0\\.0\\.0\\.0|127\\.0\\.0\\.1):${nodeB.port} +env=dup,team=b$`, 'm'))
      assert.match(result.stderr, /^dup +127\.0\.0\.1:1 +env=dup,team=c$/m)
      assert.ok(lines.includes('Hint: try addressing the node by unique id (ex: tsh ssh user@node-id)'))
      assert.equal(result.stdout.length, 0)
    } finally {
      client.end()
    }
  })

  test('an unknown host is dialled directly (a plain SSH server gets plain SSH, no preamble)', async () => {
    const client = await connectToProxy(cluster.proxy.sshAddress.port, user, hostCAs)
    try {
      const channel = await openSubsystem(client, `proxy:127.0.0.1:${plain.port}@${CLUSTER}`)
      assert.equal(await execThrough(channel as unknown as Duplex, 'uname'), 'ran: uname\n')
      assert.equal(plain.firstBytes.at(-1), 'SSH-2.0-')
    } finally {
      client.end()
    }
  })

  test('unreachable targets, a wrong cluster and a malformed request: a message on stderr and exit status 1', async () => {
    const closed = net.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))

    const client = await connectToProxy(cluster.proxy.sshAddress.port, user, hostCAs)
    try {
      const refused = await runSubsystem(client, `proxy:127.0.0.1:${port}@${CLUSTER}`)
      assert.equal(refused.exitCode, 1)
      assert.equal(refused.stderr, `failed to connect to 127.0.0.1:${port}: connection refused\n`)

      const ours = await runSubsystem(client, `proxy:${uuidC}`)
      assert.equal(ours.stderr, 'failed to connect to 127.0.0.1:1: connection refused\n')

      const other = await runSubsystem(client, 'proxy:node-a:3022@other.example.com')
      assert.equal(other.exitCode, 1)
      assert.match(other.stderr, /cluster "other.example.com" is not found/)

      const bad = await runSubsystem(client, 'proxy:node-a:notaport')
      assert.equal(bad.exitCode, 1)
      assert.match(bad.stderr, /invalid port/)

      await assert.rejects(openSubsystem(client, 'sftp'))
      await assert.rejects(
        new Promise((resolve, reject) => client.exec('id', (err, stream) => (err ? reject(err) : resolve(stream)))),
        'no exec on the proxy',
      )
      await assert.rejects(
        new Promise((resolve, reject) => client.shell((err, stream) => (err ? reject(err) : resolve(stream)))),
        'no shell on the proxy',
      )
      // direct-tcpip is ProxyJump: routed as the subsystem is, so an unknown host is refused the same way.
      await assert.rejects(
        new Promise((resolve, reject) => client.forwardOut('127.0.0.1', 0, 'no-such-host.invalid', 22, (err, stream) => (err ? reject(err) : resolve(stream)))),
        'an unknown host is not reached through the proxy',
      )
    } finally {
      client.end()
    }
  })

  test('proxy:@<cluster> pipes to the auth API: for users (tsh ls) and for hosts that joined through the proxy', async () => {
    const dialVia = (credentials: UserCredentials) => async (): Promise<Duplex> => {
      const client = await connectToProxy(cluster.proxy.sshAddress.port, credentials, hostCAs)
      const channel = await openSubsystem(client, `proxy:@${CLUSTER}`)
      channel.once('close', () => client.end())
      return channel as unknown as Duplex
    }
    const asUser = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.proxy.sshAddress.port, credentials: user, trust: {hostCAs}, dial: dialVia(user)}))
    try {
      assert.equal((await asUser.ping()).clusterName, CLUSTER)
      assert.ok((await asUser.listNodes()).some((n) => n.hostname === 'node-a'))
    } finally {
      await asUser.close()
    }

    const key = generateKeyPair()
    const certificate = await cluster.auth.auth.issueHostCert({hostId: 'joined-through-proxy', nodeName: 'node-p', role: 'Node', publicKey: key.publicKey})
    const host = {username: 'joined-through-proxy', privateKey: key.privateKey, certificate}
    const asNode = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.proxy.sshAddress.port, credentials: host, trust: {hostCAs}, dial: dialVia(host)}))
    try {
      assert.deepEqual((await asNode.getCAKeys()).host, hostCAs)
    } finally {
      await asNode.close()
    }

    // A host may not use the proxy to reach nodes.
    const client = await connectToProxy(cluster.proxy.sshAddress.port, host, hostCAs)
    try {
      const result = await runSubsystem(client, 'proxy:node-a')
      assert.equal(result.exitCode, 1)
      assert.match(result.stderr, /hosts may only open proxy:@<cluster>/)
    } finally {
      client.end()
    }
  })

  test('refused: a plain key, a certificate from another CA, an expired certificate', async () => {
    const port = cluster.proxy.sshAddress.port
    const plainKey = generateKeyPair()
    await assert.rejects(
      new Promise((resolve, reject) => {
        const client = new ssh2.Client()
        client.once('ready', () => resolve(client.end()))
        client.once('error', reject)
        client.connect({host: '127.0.0.1', port, username: 'root', privateKey: plainKey.privateKey, hostVerifier: () => true, readyTimeout: 20_000})
      }),
      /authentication methods failed/,
    )

    const rogueCa = generateKeyPair()
    const key = generateKeyPair()
    const sign = (caPrivateKey: string, now = new Date()) =>
      signUserCert({caPrivateKey, publicKey: key.publicKey, keyId: 'alice', principals: ['root'], ttlMs: 60_000, now, roles: ['access'], traits: {}, routeToCluster: CLUSTER})
    await assert.rejects(connectToProxy(port, {username: 'root', privateKey: key.privateKey, certificate: sign(rogueCa.privateKey)}, hostCAs), /authentication methods failed/)

    const userCa = (await cluster.auth.auth.cas.get('user', CLUSTER, {withSecrets: true})).activeKeys[0].privateKey!
    const expired = sign(userCa, new Date(Date.now() - 3600_000))
    await assert.rejects(connectToProxy(port, {username: 'root', privateKey: key.privateKey, certificate: expired}, hostCAs), /authentication methods failed/)
    // The same CA, in date: accepted (the refusals above are about trust and validity).
    const client = await connectToProxy(port, {username: 'root', privateKey: key.privateKey, certificate: sign(userCa)}, hostCAs)
    client.end()

    // Each refused connection is audited once, as it ends: user = the certificate's key id, login = the login asked for.
    const refusals = async () => (await cluster.admin.searchEvents({from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000), types: ['auth']})).events.filter((e) => e.login === 'root')
    const all = await eventually(async () => {
      const found = await refusals()
      return found.length >= 3 ? found : undefined
    }, 'three refusals')
    assert.equal(all.length, 3, JSON.stringify(all))
    assert.ok(all.every((e) => e.code === 'T3007W'), JSON.stringify(all))
    assert.ok(all.some((e) => e.user === '' && /plain ssh-ed25519 key/.test(String(e.error))), JSON.stringify(all))
    assert.ok(all.some((e) => e.user === 'alice' && /expired/.test(String(e.error))), JSON.stringify(all))
    assert.equal(all.filter((e) => e.user === 'alice').length, 2, JSON.stringify(all))
  })

  test('password and keyboard-interactive are refused and audited once per connection', async () => {
    const client = new ssh2.Client()
    const failed = once(client, 'error')
    const password = {type: 'password', username: 'pw-proxy', password: 'hunter2'}
    client.connect({host: '127.0.0.1', port: cluster.proxy.sshAddress.port, username: 'pw-proxy', hostVerifier: () => true, readyTimeout: 20_000, authHandler: [{type: 'none', username: 'pw-proxy'}, password, password, {type: 'keyboard-interactive', username: 'pw-proxy', prompt: (...args: unknown[]) => (args.at(-1) as (a: string[]) => void)([])}] as never})
    assert.match(((await failed) as [Error])[0].message, /authentication methods failed/)
    client.end()
    const found = await eventually(async () => {
      const events = (await cluster.admin.searchEvents({from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000), types: ['auth']})).events
      const mine = events.filter((e) => e.login === 'pw-proxy')
      return mine.length ? mine : undefined
    }, 'the refusal')
    assert.equal(found.length, 1, JSON.stringify(found))
    assert.equal(found[0]!.user, '')
    assert.match(String(found[0]!.error), /"password" method is not accepted/)
  })

  test('routing is audited as subsystem events with the user, client address and target', async () => {
    const events = (await cluster.admin.searchEvents({from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000), types: ['subsystem']})).events
    const ok = events.find((e) => e.code === 'T3001I' && e.node_id === uuidA)
    assert.ok(ok, JSON.stringify(events))
    assert.equal(ok.user, 'alice')
    assert.equal(ok.login, 'root')
    assert.match(String(ok['addr.remote']), /^127\.0\.0\.1:\d+$/)
    assert.equal(ok['addr.local'], `127.0.0.1:${nodeA.port}`)
    assert.ok(events.some((e) => e.code === 'T3001E' && String(e.exitError).startsWith('failed to connect to 127.0.0.1:')))
  })

  test('streams in both directions keep their order and size (1 MiB echo)', async () => {
    const client = await connectToProxy(cluster.proxy.sshAddress.port, user, hostCAs)
    try {
      const payload = Buffer.alloc(1 << 20)
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 8)) & 0xff
      const result = await runSubsystem(client, `proxy:node-a@${CLUSTER}`, payload)
      assert.equal(result.stdout.length, payload.length)
      assert.ok(result.stdout.equals(payload))
    } finally {
      client.end()
    }
  })

  test('stateless: after a restart of the proxy, routing works at once', async () => {
    await cluster.restartProxy()
    const client = await connectToProxy(cluster.proxy.sshAddress.port, user, hostCAs)
    try {
      const result = await runSubsystem(client, `proxy:node-a@${CLUSTER}`, 'again')
      assert.equal(result.stdout.toString(), 'again')
    } finally {
      client.end()
    }
  })
})
