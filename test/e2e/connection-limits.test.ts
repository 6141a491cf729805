import assert from 'node:assert/strict'
import {existsSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {runTool} from '../helpers/cli.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {openIdle, untilClosed} from '../helpers/idle-connections.js'
import {tempDir} from '../interop/helpers.js'

// `connection_limits` in teleport.yaml reaches the listeners of a real `teleport start`: on the
// auth API port, 2 connections from one address in their handshake, 1 waiting, the next closed at
// once, the held ones closed at the configured login deadline. A bad value is one line.

describe('teleport.yaml connection_limits', () => {
  const dir = tempDir('connection-limits-')
  let teleport: TeleportDaemon
  let port: number

  function writeConfig(name: string, limits: string[]): string {
    const file = path.join(dir.path, name)
    writeFileSync(file, [
      'teleport:', `  data_dir: ${path.join(dir.path, `${name}-data`)}`, '  nodename: limits-test',
      'auth_service:', `  listen_addr: 127.0.0.1:${port}`, '  cluster_name: limits.example.com', '  connection_limits:', ...limits.map((l) => `    ${l}`),
      'proxy_service:', '  enabled: no', 'ssh_service:', '  enabled: no', '',
    ].join('\n'))
    return file
  }

  before(async () => {
    port = await freePort()
  })
  after(async () => {
    await teleport?.stop()
    dir.cleanup()
  })

  test('a count that is not a whole number is one line naming the key; nothing is created', () => {
    const bad = writeConfig('bad.yaml', ['per_source_max_startups: many'])
    const r = runTool('teleport', ['start', '-c', bad])
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /bad\.yaml:8: auth_service\.connection_limits\.per_source_max_startups: invalid count "many": expected a whole number, at least 1/)
    assert.equal(existsSync(path.join(dir.path, 'bad.yaml-data')), false)
  })

  test('the configured caps and deadline hold on the auth API port', async () => {
    const config = writeConfig('teleport.yaml', ['login_grace_time: 3s', 'per_source_max_startups: 2', 'per_source_max_waiting: 1'])
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Auth service is starting on/)
    const idle = await openIdle(port, 4)
    const held = await untilClosed(idle, 1)
    assert.deepEqual(held, idle.slice(0, 3), 'past 2 in their handshake and 1 waiting, the 4th is closed at once (a deadline would close the 1st first)')
    await Promise.all(held.map((c) => c.closed))
  })
})
