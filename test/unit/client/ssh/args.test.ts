import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {parseEscapeChar, parseSshArgs, splitLoginHost, wantPty} from '../../../../src/client/ssh/args.js'
import {parseDynamicSpec, parseForwardSpec} from '../../../../src/client/ssh/forward-spec.js'
import {parseSshOptions, splitOption} from '../../../../src/client/ssh/ssh-options.js'
import {UsageError} from '../../../../src/lib/errors.js'

const env = {USER: 'osuser'} as NodeJS.ProcessEnv

describe('splitLoginHost', () => {
  test('splits on the last @', () => {
    assert.deepEqual(splitLoginHost('root@node-1'), {login: 'root', host: 'node-1'})
    assert.deepEqual(splitLoginHost('alice@corp.com@node-1'), {login: 'alice@corp.com', host: 'node-1'})
    assert.deepEqual(splitLoginHost('node-1'), {host: 'node-1'})
    assert.deepEqual(splitLoginHost('root@env=prod,team=db'), {login: 'root', host: 'env=prod,team=db'})
  })
  test('an empty login is refused', () => {
    assert.throws(() => splitLoginHost('@node'), UsageError)
  })
})

describe('parseSshArgs', () => {
  test('options stop at the host; the command is never parsed', () => {
    const a = parseSshArgs(['root@node', 'ls', '-l', '-p', '22'], env)
    assert.equal(a.login, 'root')
    assert.equal(a.host, 'node')
    assert.deepEqual(a.command, ['ls', '-l', '-p', '22'])
    assert.equal(a.port, undefined)
  })
  test('options may follow the host, before the command (as OpenSSH)', () => {
    const a = parseSshArgs(['node', '-p', '2222', '-l', 'bob', 'id', '-un'], env)
    assert.equal(a.port, 2222)
    assert.equal(a.login, 'bob')
    assert.deepEqual(a.command, ['id', '-un'])
  })
  test('-- ends options before the host: everything after it is the command', () => {
    const a = parseSshArgs(['-p', '3022', '--', 'node', '-l', 'x'], env)
    assert.equal(a.host, 'node')
    assert.deepEqual(a.command, ['-l', 'x'])
    const b = parseSshArgs(['node', '--', '-weird'], env)
    assert.deepEqual(b.command, ['-weird'])
  })
  test('login: user@host, then -l, then -o User, then TELEPORT_LOGIN, then the OS user', () => {
    assert.equal(parseSshArgs(['-l', 'bob', 'alice@node'], env).login, 'alice')
    assert.equal(parseSshArgs(['-l', 'bob', 'node'], env).login, 'bob')
    assert.equal(parseSshArgs(['--login=carol', 'node'], env).login, 'carol')
    assert.equal(parseSshArgs(['-o', 'User=dave', 'node'], env).login, 'dave')
    assert.equal(parseSshArgs(['node'], {...env, TELEPORT_LOGIN: 'erin'}).login, 'erin')
    assert.equal(typeof parseSshArgs(['node'], env).login, 'string')
  })
  test('clustered short options and attached values', () => {
    const a = parseSshArgs(['-NL', '8080:localhost:80', '-p3022', '-tt', 'node'], env)
    assert.equal(a.noCommand, true)
    assert.equal(a.port, 3022)
    assert.equal(a.tty, 'force')
    assert.deepEqual(a.localForwards.map((f) => f.text), ['8080:localhost:80'])
  })
  test('forwards, agent, tty, globals', () => {
    const a = parseSshArgs(['-A', '-t', '-L', '1:h:2', '-L', '127.0.0.1:3:h:4', '-R', '5:h:6', '-D', '1080', '--cluster', 'leaf', '--proxy=p:3080', '--user', 'alice', '--insecure', '-d', 'n'], env)
    assert.equal(a.forwardAgent, 'local')
    assert.equal(a.tty, 'yes')
    assert.equal(a.localForwards.length, 2)
    assert.equal(a.remoteForwards[0]!.destPort, 6)
    assert.equal(a.dynamicForwards[0]!.bindPort, 1080)
    assert.equal(a.cluster, 'leaf')
    assert.equal(a.proxy, 'p:3080')
    assert.equal(a.user, 'alice')
    assert.equal(a.insecure, true)
    assert.equal(a.debug, true)
  })
  test('environment twins for cluster, proxy and user', () => {
    const a = parseSshArgs(['n'], {...env, TELEPORT_CLUSTER: 'c1', TELEPORT_PROXY: 'p1', TELEPORT_USER: 'u1'})
    assert.deepEqual([a.cluster, a.proxy, a.user], ['c1', 'p1', 'u1'])
  })
  test('-T and -o RequestTTY; -a beats -A', () => {
    assert.equal(parseSshArgs(['-T', 'n'], env).tty, 'no')
    assert.equal(parseSshArgs(['-o', 'RequestTTY=force', 'n'], env).tty, 'force')
    assert.equal(parseSshArgs(['-A', '-a', 'n'], env).forwardAgent, 'no')
    assert.equal(parseSshArgs(['n'], env).forwardAgent, 'no')
    assert.equal(parseSshArgs(['-o', 'ForwardAgent=yes', 'n'], env).forwardAgent, 'system', 'OpenSSH\'s meaning: the agent at $SSH_AUTH_SOCK')
    assert.equal(parseSshArgs(['-A', '-o', 'ForwardAgent=yes', 'n'], env).forwardAgent, 'system')
    assert.equal(parseSshArgs(['-o', 'ForwardAgent=local', 'n'], env).forwardAgent, 'local')
    assert.equal(parseSshArgs(['-A', '-o', 'ForwardAgent=no', 'n'], env).forwardAgent, 'no')
  })
  test('harmless OpenSSH options are accepted silently; unsupported ones warn', () => {
    const a = parseSshArgs(['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-q', '-4', 'n'], env)
    assert.deepEqual(a.warnings, [])
    const b = parseSshArgs(['-o', 'ProxyJump=bastion', 'n'], env)
    assert.match(b.warnings[0]!, /ProxyJump is not supported/)
  })
  test('errors: no host, unknown and unsupported flags, -N with a command, bad port', () => {
    assert.throws(() => parseSshArgs([], env), /missing the host/)
    assert.throws(() => parseSshArgs(['-Z', 'n'], env), /unknown flag -Z/)
    assert.throws(() => parseSshArgs(['-J', 'b', 'n'], env), /-J is not supported/)
    assert.throws(() => parseSshArgs(['-N', 'n', 'ls'], env), /-N runs no command/)
    assert.throws(() => parseSshArgs(['-p', 'x', 'n'], env), /not a port number/)
    assert.throws(() => parseSshArgs(['-p'], env), /-p needs a value/)
  })
  test('an unsupported letter inside the remote command is not ours to judge', () => {
    assert.deepEqual(parseSshArgs(['n', 'ssh-keygen', '-i', '-f', 'x'], env).command, ['ssh-keygen', '-i', '-f', 'x'])
  })
  test('escape character', () => {
    assert.equal(parseSshArgs(['n'], env).escapeChar, '~')
    assert.equal(parseSshArgs(['-e', 'none', 'n'], env).escapeChar, undefined)
    assert.equal(parseEscapeChar('^]'), '\x1d')
    assert.equal(parseEscapeChar('%'), '%')
    assert.throws(() => parseEscapeChar('ab'), UsageError)
  })
})

describe('wantPty', () => {
  test('OpenSSH rules', () => {
    assert.equal(wantPty('auto', false, true), true)
    assert.equal(wantPty('auto', false, false), false)
    assert.equal(wantPty('auto', true, true), false)
    assert.equal(wantPty('yes', true, true), true)
    assert.equal(wantPty('yes', true, false), false)
    assert.equal(wantPty('force', true, false), true)
    assert.equal(wantPty('no', false, true), false)
  })
})

describe('forward specs', () => {
  test('-L port:host:hostport binds loopback', () => {
    assert.deepEqual(parseForwardSpec('8080:web:80', '-L'), {bindHost: '127.0.0.1', bindPort: 8080, destHost: 'web', destPort: 80, text: '8080:web:80'})
  })
  test('-L with a bind address, * and empty', () => {
    assert.equal(parseForwardSpec('0.0.0.0:8080:web:80', '-L').bindHost, '0.0.0.0')
    assert.equal(parseForwardSpec('*:8080:web:80', '-L').bindHost, '0.0.0.0')
    assert.equal(parseForwardSpec(':8080:web:80', '-L').bindHost, '0.0.0.0')
  })
  test('IPv6 in brackets', () => {
    const f = parseForwardSpec('[::1]:8080:[fd00::2]:80', '-L')
    assert.deepEqual([f.bindHost, f.bindPort, f.destHost, f.destPort], ['::1', 8080, 'fd00::2', 80])
  })
  test('-R defaults to localhost on the node and allows port 0', () => {
    const f = parseForwardSpec('0:localhost:3000', '-R')
    assert.deepEqual([f.bindHost, f.bindPort], ['localhost', 0])
    assert.throws(() => parseForwardSpec('0:localhost:3000', '-L'), /out of range/)
  })
  test('malformed specs', () => {
    assert.throws(() => parseForwardSpec('8080:web', '-L'), /expected \[bind_address:\]port:host:hostport/)
    assert.throws(() => parseForwardSpec('8080:web:99999', '-L'), /out of range/)
    assert.throws(() => parseForwardSpec('a:web:80', '-L'), /not a port number/)
    assert.throws(() => parseForwardSpec('[::1:8080:web:80', '-L'), /unbalanced/)
  })
  test('-D [bind:]port', () => {
    assert.deepEqual(parseDynamicSpec('1080'), {bindHost: '127.0.0.1', bindPort: 1080, text: '1080'})
    assert.deepEqual(parseDynamicSpec('0.0.0.0:1080'), {bindHost: '0.0.0.0', bindPort: 1080, text: '0.0.0.0:1080'})
    assert.throws(() => parseDynamicSpec('a:b:c'), /expected \[bind_address:\]port/)
  })
})

describe('-o options', () => {
  test('Key=Value, Key Value, case-insensitive keys, first value wins', () => {
    assert.deepEqual(splitOption('ForwardAgent=yes'), {key: 'ForwardAgent', value: 'yes'})
    assert.deepEqual(splitOption('ForwardAgent yes'), {key: 'ForwardAgent', value: 'yes'})
    assert.deepEqual(splitOption('Port = 22'), {key: 'Port', value: '22'})
    const {effects} = parseSshOptions(['forwardagent=no', 'ForwardAgent=yes', 'port=1'])
    assert.equal(effects.forwardAgent, 'no')
    assert.equal(effects.port, '1')
  })
  test('bad values', () => {
    assert.throws(() => parseSshOptions(['ForwardAgent=maybe']), /expected yes, no or local/)
    assert.throws(() => splitOption('NoValue'), /expected Key=Value/)
  })
})
