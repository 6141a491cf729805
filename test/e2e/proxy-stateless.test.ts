// Proxies are stateless: two proxies (`teleport start`, proxy role only) in front of one auth
// server, behind one address, as a load balancer puts them (a TCP forwarder here, both proxies
// with the same HTTPS key pair, proxy_listener_mode multiplex so tsh needs only the web port).
// A user logs in through proxy A; with A stopped, tsh ls and tsh ssh work through proxy B on the
// same login; A restarted (B stopped) serves the same login again, no new tsh login, and a web
// session made through A works through B and through A after its restart.
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {createServer, connect, type Server, type Socket} from 'node:net'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Agent, request} from 'undici'
import {repoRoot, run, tctlOk} from '../helpers/cli.js'
import {freePort, startJoinableAuth, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {makeCertificates} from '../helpers/etcd.js'
import {redeemUserToken, tokenOf, webCaller} from '../helpers/invite-page.js'
import {inPty} from '../helpers/pty.js'
import {tshEnv} from '../helpers/tsh-pty-login.js'
import {LOGIN, tempDir} from '../interop/helpers.js'

const CLUSTER = 'stateless.test'
const TOKEN = 'proxy-stateless-join-token-0123456789'
const PASSWORD = 'a long enough password'
const NODE = 'stateless-node'

/** One listening address that forwards each new connection to whichever proxy is `target` now. */
async function startBalancer(): Promise<{port: number; target: number; close(): Promise<void>}> {
  const sockets = new Set<Socket>()
  const balancer = {port: 0, target: 0, close: async () => {}}
  const server: Server = createServer((client) => {
    const upstream = connect(balancer.target, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.once('close', () => sockets.delete(s))
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
  })
  balancer.port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as {port: number}).port)))
  balancer.close = () => {
    for (const s of sockets) s.destroy()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return balancer
}

describe('two proxies in front of one auth server: stateless', {timeout: 120_000}, () => {
  const dir = tempDir('proxy-stateless-')
  const at = (...parts: string[]) => path.join(dir.path, ...parts)
  let auth: TeleportDaemon
  let node: TeleportDaemon
  const proxies: Record<'a' | 'b', {config: string; webPort: number; daemon?: TeleportDaemon}> = {a: {config: '', webPort: 0}, b: {config: '', webPort: 0}}
  let balancer: Awaited<ReturnType<typeof startBalancer>>
  const web = new Agent({connect: {rejectUnauthorized: false}})
  const home = at('home')
  const env = () => tshEnv(home)
  const tsh = (...args: string[]) => run(path.join(repoRoot, 'bin', 'tsh'), args, {env: env()})
  const balancerUrl = () => `https://127.0.0.1:${balancer.port}`

  async function startProxy(name: 'a' | 'b'): Promise<void> {
    const daemon = startTeleport(['-c', proxies[name].config])
    proxies[name].daemon = daemon
    await daemon.waitForLog(/Web proxy service is starting/)
  }
  async function stopProxy(name: 'a' | 'b'): Promise<void> {
    await proxies[name].daemon?.stop()
    proxies[name].daemon = undefined
  }
  /** tsh ls and tsh ssh through the balancer, which sends everything to `name` (the other is stopped). */
  async function worksThrough(name: 'a' | 'b'): Promise<void> {
    balancer.target = proxies[name].webPort
    const ls = await tsh('ls', '-f', 'json')
    assert.equal(ls.code, 0, `tsh ls through proxy ${name}: ${ls.stderr}`)
    assert.deepEqual((JSON.parse(ls.stdout) as Array<{hostname: string}>).map((n) => n.hostname), [NODE])
    const ssh = await tsh('ssh', `${LOGIN}@${NODE}`, `echo via-${name}`)
    assert.equal(ssh.code, 0, `tsh ssh through proxy ${name}: ${ssh.stderr}`)
    assert.equal(ssh.stdout, `via-${name}\n`)
  }

  before(async () => {
    mkdirSync(home, {recursive: true})
    const started = await startJoinableAuth({dir: dir.path, cluster: CLUSTER, token: TOKEN})
    auth = started.daemon
    const authConfig = started.config
    const joining = started.joining(`127.0.0.1:${started.port}`)

    balancer = await startBalancer()
    // The certificate users see at the balancer's address, whichever proxy answers.
    const https = makeCertificates(dir.path)
    for (const name of ['a', 'b'] as const) {
      proxies[name].webPort = await freePort()
      proxies[name].config = at(`proxy-${name}.yaml`)
      writeFileSync(proxies[name].config, [
        ...joining, `  nodename: proxy-${name}`, `  data_dir: ${at(`proxy-${name}`)}`,
        'auth_service: {enabled: no}', 'ssh_service: {enabled: no}',
        'proxy_service:', `  web_listen_addr: 127.0.0.1:${proxies[name].webPort}`, `  public_addr: 127.0.0.1:${balancer.port}`,
        `  listen_addr: 127.0.0.1:${await freePort()}`, `  tunnel_listen_addr: 127.0.0.1:${await freePort()}`,
        `  https_keypairs: [{key_file: ${https.serverKeyFile}, cert_file: ${https.serverCertFile}}]`, '',
      ].join('\n'))
    }
    const nodeConfig = at('node.yaml')
    writeFileSync(nodeConfig, [
      ...joining, `  nodename: ${NODE}`, `  data_dir: ${at('node')}`,
      'auth_service: {enabled: no}', 'proxy_service: {enabled: no}', 'ssh_service:', `  listen_addr: 127.0.0.1:${await freePort()}`, '',
    ].join('\n'))
    node = startTeleport(['-c', nodeConfig])
    await Promise.all([startProxy('a'), startProxy('b'), node.waitForLog(/Node service is starting/)])

    const added = tctlOk(authConfig, 'users', 'add', 'alice', '--roles=access', `--logins=${LOGIN}`)
    const invite = /https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(added)?.[0] ?? assert.fail(added)
    balancer.target = proxies.a.webPort
    const done = await redeemUserToken(webCaller(balancerUrl(), web), {token: tokenOf(invite), password: PASSWORD})
    assert.equal(done.status, 200, done.text)
  })
  after(async () => {
    for (const daemon of [node, proxies.a.daemon, proxies.b.daemon, auth]) await daemon?.stop()
    await balancer?.close()
    await web.close()
    dir.cleanup()
  })

  test('tsh login through A; tsh ls and ssh through B; A restarted serves the same login', async () => {
    balancer.target = proxies.a.webPort
    const term = inPty(path.join(repoRoot, 'bin', 'tsh'), ['login', `--proxy=127.0.0.1:${balancer.port}`, '--user=alice', '--insecure', '--add-keys-to-agent=no'], env())
    await term.waitFor(/Enter password for Teleport user alice:/)
    term.write(`${PASSWORD}\r`)
    assert.equal(await term.exit, 0, term.output())

    await stopProxy('a')
    await worksThrough('b')

    await startProxy('a')
    await stopProxy('b')
    await worksThrough('a')
    await startProxy('b')
  })

  test('a web session made through A works through B, and through A after its restart', async () => {
    balancer.target = proxies.a.webPort
    const signIn = await request(`${balancerUrl()}/v1/webapi/sessions/web`, {method: 'POST', dispatcher: web, headers: {'content-type': 'application/json'}, body: JSON.stringify({user: 'alice', pass: PASSWORD})})
    const signedIn = await signIn.body.text()
    assert.equal(signIn.statusCode, 200, signedIn)
    const {token} = JSON.parse(signedIn) as {token: string}
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!
    const nodes = async (name: 'a' | 'b') => {
      balancer.target = proxies[name].webPort
      const response = await request(`${balancerUrl()}/v1/webapi/sites/${CLUSTER}/nodes`, {dispatcher: web, headers: {authorization: `Bearer ${token}`, cookie}})
      const text = await response.body.text()
      assert.equal(response.statusCode, 200, `through proxy ${name}: ${text}`)
      assert.deepEqual((JSON.parse(text) as {items: Array<{hostname: string}>}).items.map((n) => n.hostname), [NODE])
    }
    await stopProxy('a')
    await nodes('b')
    await startProxy('a')
    await stopProxy('b')
    await nodes('a')
  })
})
