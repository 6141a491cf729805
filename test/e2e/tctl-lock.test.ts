import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {runTool, tctlOk} from '../helpers/cli.js'
import {freePort, startTeleport, writeAuthConfig, type TeleportDaemon} from '../helpers/daemon.js'

// tctl lock, tctl get locks, tctl create of a lock and tctl rm lock/<id> through the real bin/
// programs against `teleport start --roles=auth` in its own process; every change audited.

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/

describe('tctl locks', {timeout: 180_000}, () => {
  let dir: string
  let config: string
  let daemon: TeleportDaemon

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tctl-lock-'))
    config = writeAuthConfig(dir, await freePort())
    daemon = startTeleport([`--config=${config}`])
    await daemon.waitForLog(/Auth service is starting/)
  })
  after(async () => {
    await daemon?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  const tctl = (...args: string[]) => runTool('tctl', ['-c', config, ...args], {env: {TELEPORT_CONFIG_FILE: ''}})

  test('lock, list in every format, create from a file, remove', () => {
    const created = tctlOk(config, 'lock', '--user=alice', '--message=Suspicious activity', '--ttl=1h')
    assert.match(created, new RegExp(`^Created a lock with name "(${UUID.source})"\\.\\n$`))
    const id = UUID.exec(created)![0]

    const yaml = tctlOk(config, 'get', 'locks')
    assert.match(yaml, /^kind: lock\n/m)
    assert.match(yaml, new RegExp(`name: ${id}`))
    assert.match(yaml, /target:\n\s+user: alice/)
    assert.match(yaml, /message: Suspicious activity/)

    const [lock] = JSON.parse(tctlOk(config, 'get', `lock/${id}`, '--format', 'json')) as Array<{spec: {expires: string; target: object}}>
    assert.deepEqual(lock!.spec.target, {user: 'alice'})
    const left = new Date(lock!.spec.expires).getTime() - Date.now()
    assert.ok(left > 55 * 60_000 && left <= 3600_000, `expires in ${left} ms`)

    const table = tctlOk(config, 'get', 'locks', '--format', 'text').split('\n')
    assert.match(table[0]!, /^ID\s+Target\s+Message\s+Expires$/)
    assert.match(table[2]!, new RegExp(`^${id}\\s+User:"alice"\\s+Suspicious activity\\s+\\d{4}-\\d\\d-\\d\\dT`))

    const file = path.join(dir, 'lock.yaml')
    writeFileSync(file, 'kind: lock\nversion: v2\nmetadata:\n  name: contractors\nspec:\n  target:\n    role: contractor\n  message: contract ended\n')
    assert.equal(tctlOk(config, 'create', '-f', file), 'lock "contractors" has been created\n')
    assert.deepEqual((JSON.parse(tctlOk(config, 'get', 'locks', '--format', 'json')) as Array<{metadata: {name: string}}>).map((l) => l.metadata.name).sort(), [id, 'contractors'].sort())

    assert.equal(tctlOk(config, 'rm', `lock/${id}`), `lock "${id}" has been deleted\n`)
    assert.equal(tctlOk(config, 'rm', 'lock/contractors'), 'lock "contractors" has been deleted\n')
    assert.equal(tctlOk(config, 'get', 'locks', '--format', 'json').trim(), '[]')

    const audit = readdirSync(path.join(dir, 'data', 'log')).map((f) => readFileSync(path.join(dir, 'data', 'log', f), 'utf8')).join('')
    const events = audit.trim().split('\n').map((l) => JSON.parse(l) as {event: string; code: string; name?: string})
    assert.deepEqual(events.filter((e) => e.event.startsWith('lock.')).map((e) => `${e.code} ${e.name}`), [`T9006I ${id}`, 'T9006I contractors', `T9007I ${id}`, 'T9007I contractors'])
  })

  test('mistakes: one line on stderr, no stack trace', () => {
    const none = tctl('lock', '--message=x')
    assert.equal(none.code, 2)
    assert.match(none.stderr, /^ERROR: name what to lock: --user, --role or --node/)
    const ttl = tctl('lock', '--user=alice', '--ttl=forever')
    assert.equal(ttl.code, 2)
    assert.match(ttl.stderr, /^ERROR: --ttl: /)
    const missing = tctl('rm', 'lock/no-such-lock')
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^ERROR: lock "no-such-lock" is not found/)
    const text = tctl('get', 'users', '--format', 'text')
    assert.equal(text.code, 2)
    assert.match(text.stderr, /--format text is only available for locks/)
    for (const r of [none, ttl, missing, text]) assert.doesNotMatch(r.stderr, /\bat \S+:\d+:\d+/)
  })
})
