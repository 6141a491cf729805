import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, chmodSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {LOGIN, LOGIN_HOME, startTshCluster, tempDir, TIMEOUT_MS, tsh, type TshCluster} from './helpers.js'

// tsh scp over SFTP through the proxy to a node in this process; the node runs as the test's own user, so
// "remote" paths are on this machine too, which lets the test compare bytes directly.

describe('tsh scp', {timeout: 10 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let home: string
  let local: string
  let remote: string

  before(async () => {
    cluster = await startTshCluster([{name: 'node-1', labels: {env: 'test'}}])
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    home = await cluster.login('alice')
    local = tempDir('scp-local')
    remote = tempDir('scp-remote')
  })
  after(async () => {
    await cluster?.close()
    rmSync(local, {recursive: true, force: true})
    rmSync(remote, {recursive: true, force: true})
  })

  test('upload and download are byte-exact (a large file, an empty file)', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 17)
    writeFileSync(path.join(local, 'big.bin'), data)
    writeFileSync(path.join(local, 'empty'), '')
    const up = await tsh(home, ['scp', path.join(local, 'big.bin'), path.join(local, 'empty'), `${LOGIN}@node-1:${remote}/`])
    assert.equal(up.code, 0, up.stderr)
    assert.equal(up.stderr, '', 'no progress bar when stderr is not a terminal')
    assert.ok(readFileSync(path.join(remote, 'big.bin')).equals(data))
    assert.equal(readFileSync(path.join(remote, 'empty')).length, 0)

    const back = path.join(local, 'back.bin')
    const down = await tsh(home, ['scp', `${LOGIN}@node-1:${remote}/big.bin`, back])
    assert.equal(down.code, 0, down.stderr)
    assert.ok(readFileSync(back).equals(data))
  })

  test('-r copies directory trees both ways; -p keeps times and modes', async () => {
    const tree = path.join(local, 'tree')
    mkdirSync(path.join(tree, 'sub', 'deeper'), {recursive: true})
    writeFileSync(path.join(tree, 'a.txt'), 'alpha\n')
    writeFileSync(path.join(tree, 'sub', 'b.bin'), randomBytes(70_000))
    writeFileSync(path.join(tree, 'sub', 'deeper', 'run.sh'), '#!/bin/sh\necho hi\n')
    chmodSync(path.join(tree, 'sub', 'deeper', 'run.sh'), 0o751)
    const old = new Date('2020-02-03T04:05:06Z')
    utimesSync(path.join(tree, 'a.txt'), old, old)
    utimesSync(path.join(tree, 'sub'), old, old)

    const up = await tsh(home, ['scp', '-r', '-p', tree, `${LOGIN}@node-1:${remote}/`])
    assert.equal(up.code, 0, up.stderr)
    const rtree = path.join(remote, 'tree')
    assert.equal(readFileSync(path.join(rtree, 'a.txt'), 'utf8'), 'alpha\n')
    assert.ok(readFileSync(path.join(rtree, 'sub', 'b.bin')).equals(readFileSync(path.join(tree, 'sub', 'b.bin'))))
    assert.equal(statSync(path.join(rtree, 'sub', 'deeper', 'run.sh')).mode & 0o777, 0o751)
    assert.equal(statSync(path.join(rtree, 'a.txt')).mtime.getTime(), old.getTime())
    assert.equal(statSync(path.join(rtree, 'sub')).mtime.getTime(), old.getTime())

    // To a destination that does not exist: it becomes the copy.
    const copy = path.join(local, 'tree-copy')
    const down = await tsh(home, ['scp', '-rp', `${LOGIN}@node-1:${rtree}`, copy])
    assert.equal(down.code, 0, down.stderr)
    assert.equal(readFileSync(path.join(copy, 'sub', 'deeper', 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n')
    assert.equal(statSync(path.join(copy, 'sub', 'deeper', 'run.sh')).mode & 0o777, 0o751)
    assert.equal(statSync(path.join(copy, 'a.txt')).mtime.getTime(), old.getTime())
  })

  test('errors name the path; other sources are still copied; exit 1', async () => {
    writeFileSync(path.join(local, 'ok.txt'), 'fine\n')
    const r = await tsh(home, ['scp', path.join(local, 'missing.txt'), path.join(local, 'ok.txt'), `${LOGIN}@node-1:${remote}/`])
    assert.equal(r.code, 1)
    assert.equal(r.stderr, `ERROR: ${path.join(local, 'missing.txt')}: No such file or directory\n`)
    assert.equal(readFileSync(path.join(remote, 'ok.txt'), 'utf8'), 'fine\n')

    const noDir = await tsh(home, ['scp', path.join(local, 'tree'), `${LOGIN}@node-1:${remote}/x`])
    assert.equal(noDir.code, 1)
    assert.match(noDir.stderr, /tree: not a regular file \(use -r to copy directories\)/)

    const remoteMissing = await tsh(home, ['scp', `${LOGIN}@node-1:${remote}/nope`, local])
    assert.equal(remoteMissing.code, 1)
    assert.equal(remoteMissing.stderr, `ERROR: node-1:${remote}/nope: No such file or directory\n`)
  })

  test('relative remote paths are in the login\'s home directory', async () => {
    const name = `tsh-scp-test-${process.pid}.txt`
    writeFileSync(path.join(local, name), 'home\n')
    try {
      const up = await tsh(home, ['scp', path.join(local, name), `${LOGIN}@node-1:`])
      assert.equal(up.code, 0, up.stderr)
      assert.equal(readFileSync(path.join(LOGIN_HOME, name), 'utf8'), 'home\n')
    } finally {
      rmSync(path.join(LOGIN_HOME, name), {force: true})
    }
  })
})
