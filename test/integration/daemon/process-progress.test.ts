import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, test} from 'node:test'
import {mergeConfig} from '../../../src/config/merge.js'
import type {TeleportConfig} from '../../../src/config/teleport-config.js'
import {startProcess, type TeleportProcess} from '../../../src/daemon/process.js'
import {systemClock} from '../../../src/lib/clock.js'
import type {ShowWaiting} from '../../../src/lib/progress/spinner.js'
import {memoryLogger} from '../../helpers/memory-logger.js'

// What `teleport start` says it is doing while it is slow (its spinner's text): generating keys
// on a first start, joining through the auth server it names; plainer words once keys exist.

const TOKEN = 'node-join-token-0123456789abcdef'
const loopback = {host: '127.0.0.1', port: 0}

function onLoopback(config: TeleportConfig): TeleportConfig {
  config.auth.listenAddr = loopback
  config.proxy.sshListenAddr = loopback
  config.proxy.webListenAddr = loopback
  config.proxy.tunnelListenAddr = loopback
  config.ssh.listenAddr = loopback
  return config
}

function recorder(): {steps: string[]; waiting: ShowWaiting} {
  const steps: string[] = []
  return {steps, waiting: async (text, work) => (steps.push(text), work())}
}

describe('teleport start: the steps its spinner shows', {timeout: 120_000}, () => {
  const root = mkdtempSync(path.join(tmpdir(), 'process-progress-'))
  const running: TeleportProcess[] = []
  after(async () => {
    for (const p of running) await p.stop()
    rmSync(root, {recursive: true, force: true})
  })

  test('first start generates keys, a restart does not, a node from elsewhere joins via the auth server', async () => {
    const dataDir = path.join(root, 'all')
    const config = onLoopback(mergeConfig(undefined, {roles: 'auth,proxy,node', dataDir, nodename: 'all-in-one'}))
    config.auth.staticTokens = [{roles: ['node'], token: TOKEN}]
    const log = memoryLogger()
    const first = recorder()
    const all = await startProcess(config, log, systemClock, first.waiting)
    running.push(all)
    assert.deepEqual(first.steps, [
      "Generating the cluster's certificate authorities and host keys…",
      'Generating host keys…',
      'Starting the proxy service…',
      'Generating host keys…',
      'Starting the node service…',
    ])

    const pin = /CA pin: (\S+)/.exec(log.lines.join('\n'))![1]!
    const auth = `127.0.0.1:${all.authAddress!.port}`
    const nodeConfig = onLoopback(mergeConfig(undefined, {roles: 'node', dataDir: path.join(root, 'node'), nodename: 'joiner', token: TOKEN, authServer: auth, caPin: pin}))
    const joining = recorder()
    running.push(await startProcess(nodeConfig, memoryLogger(), systemClock, joining.waiting))
    assert.deepEqual(joining.steps, [`Joining the cluster via ${auth}…`])

    await running.pop()!.stop()
    await running.pop()!.stop()
    const again = recorder()
    running.push(await startProcess(config, memoryLogger(), systemClock, again.waiting))
    assert.deepEqual(again.steps, ['Starting the auth service…', 'Starting the proxy service…', 'Starting the node service…'])
  })
})
