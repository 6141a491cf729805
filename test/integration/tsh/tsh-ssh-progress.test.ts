import assert from 'node:assert/strict'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {inPty} from '../../helpers/pty.js'
import {LOGIN, startTshCluster, tempDir, TIMEOUT_MS, TSH, type TshCluster} from './helpers.js'

// `tsh ssh login@env=test cmd` on a terminal counts the nodes done on stderr ("1 of 2 nodes
// done") and erases that line before each node's output. The command on each node waits for a
// file named after its node's port, so the test decides when each node finishes.

describe('tsh ssh on a label selector shows how many nodes are done', {timeout: 3 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let home: string
  const gates = tempDir('gates')

  before(async () => {
    cluster = await startTshCluster([{name: 'node-1', labels: {env: 'test'}}, {name: 'node-2', labels: {env: 'test'}}])
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    home = await cluster.login('alice')
  })
  after(async () => {
    await cluster?.close()
    rmSync(gates, {recursive: true, force: true})
  })

  test('"n of m nodes done" as nodes finish, never mixed into their output', async () => {
    const command = `port=\${SSH_CONNECTION##* }; until [ -e ${gates}/$port ]; do sleep 0.05; done; echo finished-$port`
    const env: NodeJS.ProcessEnv = {...process.env, TELEPORT_HOME: home, TERM: 'xterm'}
    delete env.NO_COLOR
    const term = inPty(TSH, ['ssh', `${LOGIN}@env=test`, command], env, {timeoutMs: TIMEOUT_MS})
    const [first, second] = cluster.nodes.map((n) => n.service.address.port)
    await term.waitFor(/[-\\|/] 0 of 2 nodes done/)
    writeFileSync(path.join(gates, String(first)), '')
    await term.waitFor(/[-\\|/] 1 of 2 nodes done/)
    writeFileSync(path.join(gates, String(second)), '')
    assert.equal(await term.exit, 0, term.output())
    const out = term.output()
    // Each node's line starts on a cleared line: the spinner was erased, not written over.
    assert.match(out, new RegExp(`\\r\\x1b\\[K\\[node-1\\] finished-${first}\\r\\n`))
    assert.match(out, new RegExp(`\\r\\x1b\\[K\\[node-2\\] finished-${second}\\r\\n`))
    assert.doesNotMatch(out.split('\r\x1b[K').at(-1)!, /nodes done/, 'the spinner is gone at the end')
  })
})
