import assert from 'node:assert/strict'
import {test} from 'node:test'
import {helpBelongsToRemote, hoistLeadingFlags} from '../../../../src/lib/cli/global-flags.js'

const ids = ['users:add', 'users:ls', 'ssh', 'proxy:ssh', 'status']

test('flags before the command move to just after its words', () => {
  assert.deepEqual(hoistLeadingFlags('tctl', ['-c', 'f.yaml', 'users', 'add', 'alice'], ids), ['users', 'add', '-c', 'f.yaml', 'alice'])
  assert.deepEqual(hoistLeadingFlags('tctl', ['--config=f.yaml', '-d', 'status'], ids), ['status', '--config=f.yaml', '-d'])
})

test('never after a remote command: tsh --proxy=p ssh host ls -l', () => {
  assert.deepEqual(hoistLeadingFlags('tsh', ['--proxy', 'p', 'ssh', 'host', 'ls', '-l'], ids), ['ssh', '--proxy', 'p', 'host', 'ls', '-l'])
})

test('nothing to move, or no command found: argv unchanged', () => {
  assert.deepEqual(hoistLeadingFlags('tsh', ['ssh', 'host'], ids), ['ssh', 'host'])
  assert.deepEqual(hoistLeadingFlags('tsh', ['--help'], ids), ['--help'])
  assert.deepEqual(hoistLeadingFlags('tsh', ['--proxy=p', 'bogus'], ids), ['--proxy=p', 'bogus'])
})

test('a help flag after the host belongs to the remote command', () => {
  assert.equal(helpBelongsToRemote(['host', 'ls', '--help']), true)
  assert.equal(helpBelongsToRemote(['--help']), false)
  assert.equal(helpBelongsToRemote(['-p', '22', 'host']), false)
  assert.equal(helpBelongsToRemote(['host', '--', 'ls']), false)
})
