import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {expandAliases, splitWords, substitute, type AliasContext} from '../../../../src/client/config/aliases.js'
import {UserError} from '../../../../src/lib/errors.js'

const TSH = ['/opt/teleport/bin/tsh']
const IDS = ['login', 'ssh', 'ls', 'proxy:ssh', 'status']
const ctx = (aliases: Record<string, string>, extra: Partial<AliasContext> = {}): AliasContext => ({aliases, commandIds: IDS, tsh: TSH, files: ['/home/a/.tsh/config/config.yaml'], ...extra})

describe('tsh aliases', () => {
  test('words split as a shell splits them, without expansion', () => {
    assert.deepEqual(splitWords(`ssh -o 'A B' "c \\"d\\"" e\\ f $0`, 'x'), ['ssh', '-o', 'A B', 'c "d"', 'e f', '$0'])
    assert.deepEqual(splitWords(`a '' ""`, 'x'), ['a', '', ''])
    assert.throws(() => splitWords(`a "b`, 'alias "x"'), /^UserError: alias "x": unterminated double quote$/)
  })

  test('$0..$9 are the arguments after the alias; those not named are appended; $TSH is this tsh', () => {
    assert.deepEqual(substitute(['ssh', '-A', '$0'], ['node-1', 'uptime'], TSH), ['ssh', '-A', 'node-1', 'uptime'])
    assert.deepEqual(substitute(['ssh', '$1@$0'], ['node-1', 'root'], TSH), ['ssh', 'root@node-1'])
    assert.deepEqual(substitute(['$9', 'x'], ['a'], TSH), ['x', 'a'])
    assert.deepEqual(substitute(['sh', '-c', '$TSH ls $0'], ['env=prod'], TSH), ['sh', '-c', '/opt/teleport/bin/tsh ls env=prod'])
    assert.deepEqual(substitute(['$TSH', 'status'], [], ['/x/run.js', 'tsh']), ['/x/run.js', 'tsh', 'status'])
  })

  test('no alias: the command line is left alone', () => {
    assert.deepEqual(expandAliases(['ssh', 'node-1'], ctx({l: 'tsh login'})), {kind: 'argv', argv: ['ssh', 'node-1']})
    assert.deepEqual(expandAliases([], ctx({l: 'tsh login'})), {kind: 'argv', argv: []})
  })

  test('Teleport\'s examples run in this tsh', () => {
    const aliases = {l: 'tsh login --proxy=p.example.com', connect: '$TSH ssh -A $0'}
    assert.deepEqual(expandAliases(['l', '--user=alice'], ctx(aliases)), {kind: 'argv', argv: ['login', '--proxy=p.example.com', '--user=alice']})
    assert.deepEqual(expandAliases(['connect', 'root@node-1', 'id'], ctx(aliases)), {kind: 'argv', argv: ['ssh', '-A', 'root@node-1', 'id']})
  })

  test('aliases may call aliases, and one may call the built-in command it shadows', () => {
    const aliases = {ssh: 'tsh ssh -A', p: 'tsh ssh root@$0', pp: 'tsh p prod-1'}
    assert.deepEqual(expandAliases(['pp', 'uptime'], ctx(aliases)), {kind: 'argv', argv: ['ssh', '-A', 'root@prod-1', 'uptime']})
  })

  test('a loop is refused with its chain and where the aliases are', () => {
    const err = (() => {
      try {
        expandAliases(['a', 'x'], ctx({a: 'tsh b $0', b: '$TSH c', c: 'tsh a'}))
      } catch (e) {
        return e
      }
    })()
    assert.ok(err instanceof UserError)
    assert.equal(err.message, 'alias loop: a -> b -> c -> a')
    assert.equal(err.hint, 'fix the aliases in /home/a/.tsh/config/config.yaml')
    assert.throws(() => expandAliases(['self'], ctx({self: 'tsh self'})), /alias loop: self -> self/)
  })

  test('another program is run with $TSH and the chain in its environment, so a loop through it is caught too', () => {
    const outcome = expandAliases(['report', 'env=prod'], ctx({report: `sh -c '$TSH ls $0 | wc -l'`}))
    assert.deepEqual(outcome, {
      kind: 'exec',
      file: 'sh',
      args: ['-c', '/opt/teleport/bin/tsh ls env=prod | wc -l'],
      env: {TSH: '/opt/teleport/bin/tsh', TSH_ALIAS_STACK: 'report'},
    })
    assert.throws(() => expandAliases(['report'], ctx({report: 'sh -c "$TSH report"'}, {stack: ['report']})), /alias loop: report -> report/)
  })

  test('an empty alias is refused', () => {
    assert.throws(() => expandAliases(['e'], ctx({e: '  '})), /alias "e" is empty/)
  })
})
