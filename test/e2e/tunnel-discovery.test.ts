// Proxy discovery for a tunnelled node, with real processes: one auth server, two proxies
// (`teleport start`, proxy role only, proxy_listener_mode multiplex) behind one round-robin TCP
// balancer whose address is their public_addr, and a node without a listener that is given only
// the balancer's address. The proxies announce themselves (`tctl get proxies`) and tell the node
// about each other over its tunnel; the node keeps dialling the balancer until it has a tunnel
// to each, so `tsh ssh` through either proxy reaches it. Proxy B stopped: its record goes, the
// node drops it and keeps working through A.
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Agent} from 'undici'
import {repoRoot, run, tctlOk} from '../helpers/cli.js'
import {freePort, startJoinableAuth, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {eventually} from '../helpers/eventually.js'
import {acceptUserToken, webCaller} from '../helpers/invite-page.js'
import {inPty} from '../helpers/pty.js'
import {startTcpBalancer, type TcpBalancer} from '../helpers/tcp-balancer.js'
import {tshEnv} from '../helpers/tsh-pty-login.js'
import {LOGIN, tempDir} from '../interop/helpers.js'

const CLUSTER = 'discovery.test'
const TOKEN = 'tunnel-discovery-join-token-0123456789'
const PASSWORD = 'a long enough password'
const NODE = 'discovered-node'
const TSH = path.join(repoRoot, 'bin', 'tsh')

interface ProxyResource {
  kind: string
  metadata: {name: string; expires: string}
  spec: {hostname: string; addr: string; public_addr: string; version: string}
}

describe('a tunnelled node given one balanced address finds every proxy', {timeout: 180_000}, () => {
  const dir = tempDir('tunnel-discovery-')
  const at = (...parts: string[]) => path.join(dir.path, ...parts)
  let auth: TeleportDaemon
  let authConfig: string
  let node: TeleportDaemon
  let balancer: TcpBalancer
  const proxies: Record<'a' | 'b', {webPort: number; daemon?: TeleportDaemon; id: string}> = {a: {webPort: 0, id: ''}, b: {webPort: 0, id: ''}}
  const home = (name: 'a' | 'b') => at(`home-${name}`)
  const tshThrough = (name: 'a' | 'b', ...args: string[]) => run(TSH, args, {env: tshEnv(home(name))})
  const listProxies = () => JSON.parse(tctlOk(authConfig, 'get', 'proxies', '--format', 'json')) as ProxyResource[]
  const tunnelUp = (id: string) => new RegExp(`Reverse tunnel to proxy ${id} \\(\\S+\\) is up\\.`).test(node.logs())

  before(async () => {
    const started = await startJoinableAuth({dir: dir.path, cluster: CLUSTER, token: TOKEN})
    auth = started.daemon
    authConfig = started.config
    const authPort = started.port
    const joining = (port: number) => started.joining(`127.0.0.1:${port}`)

    proxies.a.webPort = await freePort()
    proxies.b.webPort = await freePort()
    balancer = await startTcpBalancer([proxies.a.webPort, proxies.b.webPort])
    for (const name of ['a', 'b'] as const) {
      const config = at(`proxy-${name}.yaml`)
      writeFileSync(config, [
        ...joining(authPort), `  nodename: proxy-${name}`, `  data_dir: ${at(`proxy-${name}`)}`,
        'auth_service: {enabled: no}', 'ssh_service: {enabled: no}',
        'proxy_service:', `  web_listen_addr: 127.0.0.1:${proxies[name].webPort}`, `  public_addr: 127.0.0.1:${balancer.port}`, '',
      ].join('\n'))
      proxies[name].daemon = startTeleport(['-c', config])
    }
    await Promise.all([proxies.a.daemon!.waitForLog(/Web proxy service is starting/), proxies.b.daemon!.waitForLog(/Web proxy service is starting/)])

    // No listen_addr, joined through the balancer: a reverse tunnel, and the balancer's address is all it knows.
    const nodeConfig = at('node.yaml')
    writeFileSync(nodeConfig, [...joining(balancer.port), `  nodename: ${NODE}`, `  data_dir: ${at('node')}`, 'auth_service: {enabled: no}', 'proxy_service: {enabled: no}', ''].join('\n'))
    node = startTeleport(['-c', nodeConfig])
    await node.waitForLog(/Node service is starting without a listener/)

    const added = tctlOk(authConfig, 'users', 'add', 'alice', '--roles=access', `--logins=${LOGIN}`)
    const url = /https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(added)![0].replace(/https:\/\/[^/]+/, `https://127.0.0.1:${proxies.a.webPort}`)
    await acceptUserToken(webCaller(url, new Agent({connect: {rejectUnauthorized: false}})), url, PASSWORD, {otp: false})
    for (const name of ['a', 'b'] as const) {
      mkdirSync(home(name), {recursive: true})
      const term = inPty(TSH, ['login', `--proxy=127.0.0.1:${proxies[name].webPort}`, '--user=alice', '--insecure', '--add-keys-to-agent=no'], tshEnv(home(name)))
      await term.waitFor(/[Pp]assword/)
      term.write(`${PASSWORD}\r`)
      assert.equal(await term.exit, 0, term.output())
    }
  })
  after(async () => {
    for (const daemon of [node, proxies.a.daemon, proxies.b.daemon, auth]) await daemon?.stop()
    await balancer?.close()
    dir.cleanup()
  })

  test('tctl get proxies lists both proxies with the balancer as their public address', async () => {
    const listed = await eventually(() => {
      const all = listProxies()
      return all.length === 2 && all
    }, 'both proxies announced')
    assert.deepEqual(listed.map((p) => [p.kind, p.spec.hostname, p.spec.public_addr]), [
      ['proxy', 'proxy-a', `127.0.0.1:${balancer.port}`],
      ['proxy', 'proxy-b', `127.0.0.1:${balancer.port}`],
    ])
    for (const p of listed) assert.ok(Date.parse(p.metadata.expires) > Date.now(), 'a live record expires in the future')
    proxies.a.id = listed[0]!.metadata.name
    proxies.b.id = listed[1]!.metadata.name
    const yaml = tctlOk(authConfig, 'get', `proxy/${proxies.a.id}`)
    assert.match(yaml, /^kind: proxy$/m)
    assert.match(yaml, /^ {2}hostname: proxy-a$/m)
  })

  test('the node has a tunnel to each proxy, and tsh ssh through either proxy reaches it', async () => {
    await eventually(() => tunnelUp(proxies.a.id) && tunnelUp(proxies.b.id), 'a tunnel to each proxy', {timeoutMs: 90_000}).catch((err: Error) => {
      throw new Error(`${err.message}\nnode:\n${node.logs()}\nproxy a:\n${proxies.a.daemon?.logs()}\nproxy b:\n${proxies.b.daemon?.logs()}`)
    })
    for (const name of ['a', 'b'] as const) {
      const r = await tshThrough(name, 'ssh', `${LOGIN}@${NODE}`, `echo via-${name}`)
      assert.equal(r.code, 0, `tsh ssh through proxy ${name}: ${r.stderr}\nnode:\n${node.logs()}\nproxy ${name}:\n${proxies[name].daemon?.logs()}`)
      assert.equal(r.stdout, `via-${name}\n`)
    }
  })

  test('proxy B stopped: its record goes, the node drops it and keeps working through A', async () => {
    assert.equal(await proxies.b.daemon!.stop(), 0)
    proxies.b.daemon = undefined
    assert.deepEqual(listProxies().map((p) => p.spec.hostname), ['proxy-a'])
    await eventually(() => node.logs().includes(`Proxy ${proxies.b.id} is no longer in the cluster`), 'the node to drop proxy B', {timeoutMs: 60_000})
    const r = await tshThrough('a', 'ssh', `${LOGIN}@${NODE}`, 'echo still-here')
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'still-here\n')
  })
})
