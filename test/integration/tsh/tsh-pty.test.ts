import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {inPty, type Pty} from '../../helpers/pty.js'
import {LOGIN, startTshCluster, tempDir, TIMEOUT_MS, TSH, type TshCluster} from './helpers.js'

// Interactive sessions in a real pseudo-terminal (node-pty runs bin/tsh as a terminal would):
// the remote shell gets a pty of our size, resizes follow, and the ~ escapes work at line start.

function startTerm(home: string, args: string[]): Pty {
  return inPty(TSH, args, {...process.env, TELEPORT_HOME: home}, {cols: 100, rows: 30, term: 'xterm-256color'})
}

describe('tsh ssh on a terminal', {timeout: 5 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let home: string

  before(async () => {
    cluster = await startTshCluster([{name: 'node-1', labels: {env: 'test'}}])
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    home = await cluster.login('alice')
  })
  after(async () => {
    await cluster?.close()
  })

  test('a shell with our terminal size and TERM; resizes follow; ~? helps; ~. disconnects with 255', async () => {
    const term = startTerm(home, ['ssh', `${LOGIN}@node-1`])
    try {
      term.write('echo "MARK$((40+2)) $(stty size) $TERM"\r')
      await term.waitFor(/MARK42 30 100 xterm-256color/)
      await term.resizeRemote(120, 40)
      // A ~ inside a line is typed through at once.
      term.write('echo in~line\r')
      await term.waitFor(/\rin~line\r\n/)
      term.write('~?')
      await term.waitFor(/Supported escape sequences:\r\n/)
      term.write('~.')
      assert.equal(await term.exit, 255)
      assert.match(term.output(), /Connection to node-1 closed\.\r\n$/)
      // Output processing is off as with OpenSSH: no "\r\r\n" from the remote's "\r\n".
      assert.doesNotMatch(term.output(), /\r\r\n/)
    } finally {
      term.write('exit\r')
    }
  })

  test('the shell\'s exit status is tsh\'s', async () => {
    const term = startTerm(home, ['ssh', `${LOGIN}@node-1`])
    term.write('exit 5\r')
    assert.equal(await term.exit, 5)
  })

  test('-t gives a command a pty; without it, none', async () => {
    const withPty = startTerm(home, ['ssh', '-t', `${LOGIN}@node-1`, 'tty'])
    await withPty.waitFor(/\/dev\/pts\/\d+/)
    assert.equal(await withPty.exit, 0)
    const without = startTerm(home, ['ssh', `${LOGIN}@node-1`, 'tty'])
    await without.waitFor(/not a tty/)
    assert.equal(await without.exit, 1)
  })

  test('tsh scp shows a progress line on a terminal, and none with -q', async () => {
    const dir = tempDir('pty-scp')
    try {
      const data = randomBytes(2 * 1024 * 1024)
      writeFileSync(path.join(dir, 'blob.bin'), data)
      const withBar = startTerm(home, ['scp', path.join(dir, 'blob.bin'), `${LOGIN}@node-1:${dir}/copy.bin`])
      assert.equal(await withBar.exit, 0, withBar.output())
      assert.match(withBar.output(), /\rblob\.bin\s+100%\s+2MB\s+\S+\/s\s+\d\d:\d\d\s*\r?\n/)
      assert.ok(readFileSync(path.join(dir, 'copy.bin')).equals(data))
      const quiet = startTerm(home, ['scp', '-q', path.join(dir, 'blob.bin'), `${LOGIN}@node-1:${dir}/copy2.bin`])
      assert.equal(await quiet.exit, 0, quiet.output())
      assert.doesNotMatch(quiet.output(), /%/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
