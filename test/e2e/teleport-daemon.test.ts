import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {runTool, tctlOk} from '../helpers/cli.js'
import {addJoinTokenInThePast} from '../helpers/cluster-backend.js'
import {freePort, startTeleport, writeAuthConfig, type TeleportDaemon} from '../helpers/daemon.js'
import {tempDir} from '../interop/helpers.js'

// `teleport start` as a process: bad configuration refused before anything is written, state
// kept across a restart, clean stop on SIGTERM, and a join with an expired token refused.

describe('teleport start', () => {
  const dir = tempDir('daemon-e2e-')
  let config: string
  let teleport: TeleportDaemon
  const tctl = (...args: string[]) => tctlOk(config, ...args)

  before(async () => {
    config = writeAuthConfig(dir.path, await freePort())
  })
  after(async () => {
    await teleport?.stop()
    dir.cleanup()
  })

  test('a typo in the config is one line naming the file, the line and the key; nothing is created', () => {
    const bad = path.join(dir.path, 'typo.yaml')
    writeFileSync(bad, `teleport:\n  data_dir: ${path.join(dir.path, 'typo-data')}\nauth_service:\n  listen_adr: 127.0.0.1:3025\n`)
    const r = runTool('teleport', ['start', '-c', bad])
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /typo\.yaml:4: unknown key "auth_service\.listen_adr" \(did you mean "listen_addr"\?\)/)
    assert.equal(existsSync(path.join(dir.path, 'typo-data')), false)
  })

  test('auth_service.proxy_checks_host_keys takes yes or no: anything else is one line naming the key; nothing is created', () => {
    const proxyMode = path.join(dir.path, 'proxy-mode.yaml')
    writeFileSync(proxyMode, `teleport:\n  data_dir: ${path.join(dir.path, 'proxy-mode-data')}\nauth_service:\n  session_recording: proxy\n  proxy_checks_host_keys: maybe\n`)
    const r = runTool('teleport', ['start', '-c', proxyMode])
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /proxy-mode\.yaml:5: auth_service\.proxy_checks_host_keys: /)
    assert.equal(existsSync(path.join(dir.path, 'proxy-mode-data')), false)
  })

  test('a YAML alias bomb in the config is one line, at once, not a hang', () => {
    const bomb = path.join(dir.path, 'bomb.yaml')
    const levels = ['l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]', ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => `l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]`)]
    writeFileSync(bomb, `${levels.join('\n')}\nteleport:\n  nodename: *l8\n`)
    const r = runTool('teleport', ['start', '-c', bomb], {timeout: 60_000})
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.stderr.trim(), `ERROR: ${bomb}: YAML aliases expand to too many values (more than 100 copies) (write the values out instead of repeating anchors)`)
  })

  test('a restart keeps users, tokens, the CAs and the audit log; SIGTERM stops cleanly', async () => {
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Auth service is starting on/)
    tctl('users', 'add', 'carol', '--roles=access', '--logins=carol')
    const token = /The invite token: ([0-9a-f]{32})/.exec(tctl('tokens', 'add', '--type=proxy', '--ttl=10m'))![1]
    const status = tctl('status')
    assert.equal(await teleport.stop(), 0)
    assert.match(teleport.logs(), /Auth service stopped/)

    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Auth service is starting on/)
    assert.match(tctl('users', 'ls'), /^carol\s/m)
    assert.ok(tctl('tokens', 'ls').includes(token))
    const pin = (text: string) => /sha256:[0-9a-f]{64}/.exec(text)![0]
    assert.equal(pin(tctl('status')), pin(status))
    const logDir = path.join(dir.path, 'data', 'log')
    const events = readdirSync(logDir).map((f) => readFileSync(path.join(logDir, f), 'utf8')).join('')
    assert.match(events, /"event":"user.create"[^\n]*"name":"carol"|"name":"carol"[^\n]*"event":"user.create"/)
  })

  test('joining with an expired token fails with one clear line', async () => {
    // A 1 s token made a minute ago (as `tctl tokens add --ttl=1s` would have made it then),
    // written to the running cluster's backend: nothing waits for it to expire.
    const token = randomBytes(16).toString('hex')
    await addJoinTokenInThePast(path.join(dir.path, 'data'), {token, type: 'node', ttlMs: 1000, agoMs: 60_000})
    const pin = /sha256:[0-9a-f]{64}/.exec(tctl('status'))![0]
    const authAddr = /Auth service is starting on (\S+),/.exec(teleport.logs())![1]
    const nodeDir = path.join(dir.path, 'late-node')
    const r = runTool('teleport', ['start', '--roles=node', `--data-dir=${nodeDir}`, `--token=${token}`, `--ca-pin=${pin}`, `--auth-server=${authAddr}`, '--nodename=late'], {env: {TELEPORT_CONFIG_FILE: ''}})
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^ERROR: .*join token expired/m)
    assert.doesNotMatch(r.stderr, /\bat \S+:\d+:\d+/)
    assert.equal(existsSync(path.join(nodeDir, 'keys', 'node.identity')), false)
  })
})
