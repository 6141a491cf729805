import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {eventually, exited, run, spawnTsh, LOGIN, startTshCluster, tempDir, TIMEOUT_MS, tsh, type TshCluster} from './helpers.js'
import {repoRoot} from '../../helpers/cli.js'

// The real bin/tsh against a one-process cluster (auth + proxy + two nodes in this process):
// commands, exit statuses, label selectors, port forwarding, and the errors users see.

describe('tsh ssh', {timeout: 10 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let home: string
  let bobHome: string
  let web: http.Server
  let webPort: number

  before(async () => {
    cluster = await startTshCluster([
      {name: 'node-1', labels: {env: 'test', role: 'web'}},
      {name: 'node-2', labels: {env: 'test', role: 'db'}},
    ])
    await cluster.admin.upsertRole(
      {kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {options: {port_forwarding: true, forward_agent: true}, allow: {logins: [LOGIN], node_labels: {'*': '*'}}}},
      {create: true},
    )
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    home = await cluster.login('alice')
    // bob may log in, but neither forward ports nor his agent.
    await cluster.admin.upsertRole(
      {kind: 'role', version: 'v5', metadata: {name: 'noforward'}, spec: {options: {port_forwarding: false, forward_agent: false}, allow: {logins: [LOGIN], node_labels: {'*': '*'}}}},
      {create: true},
    )
    await cluster.admin.createUser({name: 'bob', roles: ['noforward'], traits: {}})
    bobHome = await cluster.login('bob')
    web = http.createServer((req, res) => res.end(`hello from ${req.url}`))
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve))
    webPort = (web.address() as net.AddressInfo).port
  })
  after(async () => {
    web?.close()
    await cluster?.close()
  })

  test('runs a command as the login', async () => {
    const r = await tsh(home, ['ssh', `${LOGIN}@node-1`, 'id', '-un'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${LOGIN}\n`)
  })

  test('the remote exit status is tsh\'s', async () => {
    const r = await tsh(home, ['ssh', `${LOGIN}@node-1`, 'exit 7'])
    assert.equal(r.code, 7, r.stderr)
  })

  test('stdin goes to the command, stderr stays separate, the remote command is not parsed', async () => {
    const r = await tsh(home, ['ssh', `${LOGIN}@node-2`, 'cat', '-n', ';', 'echo', 'to-stderr', '>&2'], {input: 'a\nb\n'})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '     1\ta\n     2\tb\n')
    assert.equal(r.stderr, 'to-stderr\n')
  })

  test('when our stdout goes away (| head -1), tsh stops', async () => {
    const child = spawnTsh(home, ['ssh', `${LOGIN}@node-1`, 'yes'])
    child.stdout!.once('data', () => child.stdout!.destroy())
    assert.equal(await exited(child), 255)
  })

  test('a node addressed by its ID; -l and -p after the host', async () => {
    const node = cluster.nodes[1]!
    const r = await tsh(home, ['ssh', node.hostUuid, '-l', LOGIN, '-p', String(node.service.address.port), 'hostname >/dev/null && echo ok'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'ok\n')
  })

  test('a label selector with a command runs on every match, lines prefixed', async () => {
    const r = await tsh(home, ['ssh', `${LOGIN}@env=test`, 'echo', 'hi'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^Multiple nodes matched label selector, running command on all\.$/m)
    assert.deepEqual(r.stdout.split('\n').filter(Boolean).sort(), ['[node-1] hi', '[node-2] hi'])
    const one = await tsh(home, ['ssh', `${LOGIN}@role=db`, 'echo', 'only'])
    assert.equal(one.code, 0, one.stderr)
    assert.equal(one.stdout, 'only\n')
    assert.doesNotMatch(one.stderr, /Multiple nodes/)
  })

  test('a label selector without a command takes the first match (by name)', async () => {
    const r = await tsh(home, ['ssh', `${LOGIN}@env=test`], {input: 'echo "$SSH_CONNECTION"\n'})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(` ${cluster.nodes[0]!.service.address.port}\n$`))
  })

  test('with several matches, a failure on any node fails tsh', async () => {
    const r = await tsh(home, ['ssh', `${LOGIN}@env=test`, 'test "$(hostname)" = never || exit 3'])
    assert.equal(r.code, 3, r.stderr)
  })

  test('no node matching the labels', async () => {
    const r = await tsh(home, ['ssh', `${LOGIN}@env=nowhere`, 'true'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^ERROR: no nodes match the labels "env=nowhere"/)
  })

  test('-L carries an HTTP request through the node', async () => {
    const port = await freePort()
    const child = spawnTsh(home, ['ssh', '-N', '-L', `${port}:127.0.0.1:${webPort}`, `${LOGIN}@node-1`])
    try {
      const body = await eventuallyGet(`http://127.0.0.1:${port}/through-tsh`)
      assert.equal(body, 'hello from /through-tsh')
    } finally {
      child.kill('SIGTERM')
      assert.equal(await exited(child), 0, child.output())
    }
  })

  test('-D is a SOCKS5 proxy through the node', async () => {
    const port = await freePort()
    const child = spawnTsh(home, ['ssh', '-N', '-D', String(port), `${LOGIN}@node-2`])
    try {
      let reply = ''
      await eventually(async () => {
        reply = await socksGet(port, '127.0.0.1', webPort, '/socks')
        return true
      }, 'the SOCKS listener')
      assert.match(reply, /^HTTP\/1\.1 200 OK/)
      assert.match(reply, /hello from \/socks$/)
    } finally {
      child.kill('SIGTERM')
      await exited(child)
    }
  })

  test('-R: the node listens and its connections come back here (port 0: the node picks, tsh says which)', async () => {
    const child = spawnTsh(home, ['ssh', '-N', '-R', `0:127.0.0.1:${webPort}`, `${LOGIN}@node-1`])
    try {
      let port = 0
      await eventually(async () => {
        port = Number(/Allocated port (\d+) for remote forward to 127\.0\.0\.1:\d+/.exec(child.output())?.[1] ?? 0)
        return port > 0
      }, 'the allocated port')
      // The node runs on this machine: its loopback listener is ours to dial.
      assert.equal(await eventuallyGet(`http://127.0.0.1:${port}/reverse`), 'hello from /reverse')
    } finally {
      child.kill('SIGTERM')
      await exited(child)
    }
  })

  test('a role without port_forwarding: each forwarded connection is refused, and said so', async () => {
    const port = await freePort()
    const child = spawnTsh(bobHome, ['ssh', '-N', '-L', `${port}:127.0.0.1:${webPort}`, `${LOGIN}@node-1`])
    try {
      await eventually(async () => {
        await assert.rejects(getOnce(`http://127.0.0.1:${port}/`))
        return /channel open failed: connect to 127\.0\.0\.1:\d+ \(-L [^)]+\): /.test(child.output())
      }, 'the refusal')
    } finally {
      child.kill('SIGTERM')
      await exited(child)
    }
  })

  test('-o ForwardAgent=yes forwards the agent at $SSH_AUTH_SOCK, -A only tsh\'s own key; refused by the role: a warning and the command still runs', async () => {
    const dir = tempDir('agent')
    const socket = path.join(dir, 'agent.sock')
    const agent = spawn('ssh-agent', ['-D', '-a', socket], {stdio: 'ignore'})
    try {
      await eventually(async () => existsSync(socket), 'the agent socket')
      const keyPath = path.join(dir, 'id')
      assert.equal((await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'forwarded-key', '-f', keyPath])).code, 0)
      assert.equal((await run('ssh-add', ['-q', keyPath], {env: {SSH_AUTH_SOCK: socket}})).code, 0)
      const r = await tsh(home, ['ssh', '-o', 'ForwardAgent=yes', `${LOGIN}@node-1`, 'ssh-add -l'], {env: {SSH_AUTH_SOCK: socket}})
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /forwarded-key \(ED25519\)/)
      const own = await tsh(home, ['ssh', '-A', `${LOGIN}@node-1`, 'ssh-add -l'], {env: {SSH_AUTH_SOCK: socket}})
      assert.equal(own.code, 0, own.stderr)
      assert.doesNotMatch(own.stdout, /forwarded-key/, 'an unrelated key of the system agent stays home')
      assert.match(own.stdout, /teleport:alice \(ED25519-CERT\)/)
      const refused = await tsh(bobHome, ['ssh', '-A', `${LOGIN}@node-1`, 'echo ran; ssh-add -l >/dev/null 2>&1; echo agent=$?'], {env: {SSH_AUTH_SOCK: socket}})
      assert.equal(refused.code, 0, refused.stderr)
      assert.equal(refused.stdout, 'ran\nagent=2\n')
      assert.equal(refused.stderr, 'WARNING: node-1 refused agent forwarding; continuing without it\n')

      // A login whose key lives only in the agent authenticates through it, to proxy and node.
      const agentHome = await cluster.login('alice', {agentOnly: socket})
      const viaAgent = await tsh(agentHome, ['ssh', `${LOGIN}@node-2`, 'echo', 'agent-only'], {env: {SSH_AUTH_SOCK: socket}})
      assert.equal(viaAgent.code, 0, viaAgent.stderr)
      assert.equal(viaAgent.stdout, 'agent-only\n')
    } finally {
      agent.kill()
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('-A with no SSH agent running forwards tsh\'s own key and certificate', async () => {
    const script = 'ssh-add -L; d=$(mktemp -d); ssh-add -L | head -1 > "$d/id.pub"; echo data | ssh-keygen -Y sign -f "$d/id.pub" -n test >/dev/null 2>&1 && echo signed; rm -rf "$d"'
    const r = await tsh(home, ['ssh', '-A', `${LOGIN}@node-1`, script], {env: {SSH_AUTH_SOCK: ''}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    const lines = r.stdout.trim().split('\n')
    assert.match(lines[0]!, /^ssh-ed25519-cert-v01@openssh\.com AAAA\S+ teleport:alice$/)
    assert.equal(lines.length, 2, r.stdout)
    assert.equal(lines[1], 'signed')
  })

  test('through links named ssh and scp, OpenSSH-style command lines work', async () => {
    const dir = tempDir('alias')
    try {
      for (const name of ['ssh', 'scp']) symlinkSync(path.join(repoRoot, 'bin', 'run.js'), path.join(dir, name))
      const env = {TELEPORT_HOME: home}
      const r = await run(path.join(dir, 'ssh'), ['-o', 'StrictHostKeyChecking=no', '-q', '-l', LOGIN, '-p', String(cluster.nodes[0]!.service.address.port), 'node-1', 'echo', 'via-alias'], {env})
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'via-alias\n')
      writeFileSync(path.join(dir, 'f.txt'), 'copied via alias\n')
      const c = await run(path.join(dir, 'scp'), ['-q', '-p', '-o', 'BatchMode=yes', path.join(dir, 'f.txt'), `${LOGIN}@node-2:${dir}/g.txt`], {env})
      assert.equal(c.code, 0, c.stderr)
      assert.equal(readFileSync(path.join(dir, 'g.txt'), 'utf8'), 'copied via alias\n')
      const v = await run(path.join(dir, 'ssh'), ['-V'], {env})
      assert.equal(v.code, 0)
      assert.match(v.stderr, /^Teleport v/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('a login the certificate does not allow is refused by the node', async () => {
    const r = await tsh(home, ['ssh', 'nobody@node-1', 'true'])
    assert.equal(r.code, 1)
    assert.equal(r.stderr, 'ERROR: access denied to nobody connecting to node-1\n')
    // A node picked by label is named by its host name, not its ID.
    const byLabel = await tsh(home, ['ssh', 'nobody@role=db', 'true'])
    assert.equal(byLabel.stderr, 'ERROR: access denied to nobody connecting to node-2\n')
    const several = await tsh(home, ['ssh', 'nobody@env=test', 'true'])
    assert.equal(several.code, 1)
    assert.deepEqual(several.stderr.split('\n').filter(Boolean).slice(1).sort(), ['[node-1] ERROR: access denied to nobody connecting to node-1', '[node-2] ERROR: access denied to nobody connecting to node-2'])
  })

  test('an ambiguous host prints the proxy\'s table and hint as they are', async () => {
    await cluster.admin.upsertNode({name: 'twin-a', hostname: 'twin', addr: '127.0.0.1:1', labels: {}, cmdLabels: {}, version: ''})
    await cluster.admin.upsertNode({name: 'twin-b', hostname: 'twin', addr: '127.0.0.1:2', labels: {}, cmdLabels: {}, version: ''})
    const r = await tsh(home, ['ssh', `${LOGIN}@twin`, 'true'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^error: ambiguous host could match multiple nodes\n/)
    assert.match(r.stderr, /^Hint: try addressing the node by unique id \(ex: tsh ssh user@node-id\)$/m)
    assert.doesNotMatch(r.stderr, /ERROR:/)
  })

  test('not logged in; an expired certificate', async () => {
    const nobody = await tsh('/nonexistent-home', ['ssh', 'node-1', 'true'])
    assert.equal(nobody.code, 1)
    assert.match(nobody.stderr, /^ERROR: Not logged in\./)
    const expiredHome = await cluster.login('alice', {expired: true})
    const expired = await tsh(expiredHome, ['ssh', `${LOGIN}@node-1`, 'true'])
    assert.equal(expired.code, 1)
    assert.match(expired.stderr, /^ERROR: the certificate for alice@127\.0\.0\.1 expired at .* \(log in again: tsh login /)
    assert.equal(expired.stderr.split('\n').length, 2, 'one line')
  })

  test('options: -o accepted, unsupported ones warned about; unknown flags refused', async () => {
    const r = await tsh(home, ['ssh', '-o', 'StrictHostKeyChecking=no', '-o', 'Tunnel=yes', '-q', `${LOGIN}@node-1`, 'echo', 'ok'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'ok\n')
    assert.equal(r.stderr, 'WARNING: option Tunnel is not supported by tsh and was ignored\n')
    const bad = await tsh(home, ['ssh', '-J', 'jump', 'node-1'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /-J is not supported/)
  })
})

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

function getOnce(url: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    http
      .get(url, (res) => {
        let data = ''
        res.on('data', (d) => (data += d))
        res.on('end', () => resolve(data))
      })
      .on('error', reject)
  })
}

async function eventuallyGet(url: string): Promise<string> {
  let body = ''
  await eventually(async () => {
    body = await getOnce(url)
    return true
  }, `GET ${url}`)
  return body
}

/** A raw SOCKS5 CONNECT (domain-less, IPv4) and an HTTP/1.1 GET through it. */
function socksGet(socksPort: number, host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socksPort, '127.0.0.1')
    let stage = 0
    let buf = Buffer.alloc(0)
    s.on('error', reject)
    s.on('connect', () => s.write(Buffer.from([5, 1, 0])))
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      if (stage === 0 && buf.length >= 2) {
        buf = buf.subarray(2)
        stage = 1
        const portBytes = Buffer.alloc(2)
        portBytes.writeUInt16BE(port)
        s.write(Buffer.concat([Buffer.from([5, 1, 0, 1, ...host.split('.').map(Number)]), portBytes]))
      }
      if (stage === 1 && buf.length >= 10) {
        if (buf[1] !== 0) return reject(new Error(`SOCKS reply ${buf[1]}`))
        buf = buf.subarray(10)
        stage = 2
        s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
      }
    })
    s.on('end', () => (stage === 2 ? resolve(buf.toString()) : reject(new Error('closed early'))))
  })
}
