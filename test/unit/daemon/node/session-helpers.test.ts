import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {announcedAddr} from '../../../../src/daemon/auth/api-routes.js'
import {lookupLogin, loginRefusal, parsePasswdLine} from '../../../../src/daemon/node/os-login.js'
import {parseScpCommand} from '../../../../src/daemon/node/session/scp-command.js'
import {isAcceptedEnv, JOIN_SESSION_ENV, PARTICIPANT_MODE_ENV, sessionEnv} from '../../../../src/daemon/node/session-env.js'

describe('legacy scp commands', () => {
  test('upload (-t) and download (-f) with the path', () => {
    assert.deepEqual(parseScpCommand('scp -t /tmp/x'), {action: 'upload', path: '/tmp/x'})
    assert.deepEqual(parseScpCommand('scp -v -r -p -t -- /srv/dir'), {action: 'upload', path: '/srv/dir'})
    assert.deepEqual(parseScpCommand('/usr/bin/scp -f file.txt'), {action: 'download', path: 'file.txt'})
    assert.deepEqual(parseScpCommand('scp -pf file.txt'), {action: 'download', path: 'file.txt'})
  })
  test('anything else is not scp', () => {
    assert.equal(parseScpCommand('ls -t'), undefined)
    assert.equal(parseScpCommand('scp'), undefined)
    assert.equal(parseScpCommand('scpx -t a'), undefined)
  })
})

describe('session environment', () => {
  test('env requests: TERM, LANG, LC_*, TELEPORT_* only', () => {
    for (const ok of ['TERM', 'LANG', 'LC_ALL', 'LC_TIME', 'TELEPORT_LOGIN']) assert.equal(isAcceptedEnv(ok), true, ok)
    for (const join of [JOIN_SESSION_ENV, PARTICIPANT_MODE_ENV]) assert.equal(isAcceptedEnv(join), true, join) // tsh join's requests
    for (const no of ['PATH', 'LD_PRELOAD', 'HOME', 'LANGUAGE', 'lc_all', 'TELEPORT_', 'BASH_ENV']) assert.equal(isAcceptedEnv(no), false, no)
  })
  test('built whole: login variables, SSH_* and accepted requests; requests cannot override the login', () => {
    const env = sessionEnv({
      login: {name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', shell: '/bin/zsh'},
      endpoints: {remoteIp: '203.0.113.7', remotePort: 4242, localIp: '10.0.0.5', localPort: 3022},
      requested: {LANG: 'C.UTF-8', HOME: '/evil', LD_PRELOAD: '/evil.so', SSH_TELEPORT_USER: 'root', SSH_SESSION_ID: 'forged'},
      term: 'xterm-256color',
      agentSocket: '/tmp/teleport-agent-x/agent.1',
      teleport: {user: 'alice@example.com', sessionId: 'b1c0e0a4-3d2f-4f5e-9a8b-7c6d5e4f3a2b', hostUuid: 'node-uuid', clusterName: 'example.com', webProxyAddr: 'proxy.example.com:3080'},
    })
    assert.deepEqual(env, {
      HOME: '/home/alice',
      USER: 'alice',
      LOGNAME: 'alice',
      SHELL: '/bin/zsh',
      PATH: '/usr/local/bin:/usr/bin:/bin:/usr/games',
      MAIL: '/var/mail/alice',
      LANG: 'C.UTF-8',
      TERM: 'xterm-256color',
      SSH_CLIENT: '203.0.113.7 4242 3022',
      SSH_CONNECTION: '203.0.113.7 4242 10.0.0.5 3022',
      SSH_AUTH_SOCK: '/tmp/teleport-agent-x/agent.1',
      SSH_TELEPORT_USER: 'alice@example.com',
      SSH_SESSION_ID: 'b1c0e0a4-3d2f-4f5e-9a8b-7c6d5e4f3a2b',
      SSH_TELEPORT_HOST_UUID: 'node-uuid',
      SSH_TELEPORT_CLUSTER_NAME: 'example.com',
      SSH_SESSION_WEBPROXY_ADDR: 'proxy.example.com:3080',
    })
  })
})

describe('OS logins', () => {
  test('passwd lines', () => {
    assert.deepEqual(parsePasswdLine('alice:x:1000:1001:Alice,,,:/home/alice:/bin/bash'), {name: 'alice', uid: 1000, gid: 1001, home: '/home/alice', shell: '/bin/bash'})
    assert.deepEqual(parsePasswdLine('svc:x:5:5::/:'), {name: 'svc', uid: 5, gid: 5, home: '/', shell: '/bin/sh'})
    assert.equal(parsePasswdLine('garbage'), undefined)
  })
  test('lookup through NSS; unknown users and option-looking names are not found', async () => {
    const root = await lookupLogin('root')
    assert.equal(root?.uid, 0)
    assert.equal(await lookupLogin('no-such-user-teleport-test'), undefined)
    assert.equal(await lookupLogin('--help'), undefined)
    assert.equal(await lookupLogin('a b'), undefined)
  })
  test('lookups at once for one login share one answer, each caller with its own copy', async () => {
    const entries = await Promise.all(Array.from({length: 20}, () => lookupLogin('root')))
    for (const entry of entries) assert.deepEqual(entry, entries[0])
    assert.equal(new Set(entries).size, 20)
    entries[0]!.home = '/changed'
    assert.notEqual(entries[1]!.home, '/changed')
  })
  test('root may start sessions as anyone; otherwise only as itself', () => {
    const self = {name: 'me', uid: process.getuid!(), gid: 0, home: '/', shell: '/bin/sh'}
    assert.equal(loginRefusal(self), undefined)
    const other = {name: 'other', uid: process.getuid!() + 1, gid: 0, home: '/', shell: '/bin/sh'}
    if (process.getuid!() === 0) assert.equal(loginRefusal(other), undefined)
    else assert.match(loginRefusal(other)!, /not running as root/)
  })
})

describe('announced node address (auth side)', () => {
  test('a wildcard host becomes the caller\'s IP; a real address stays', () => {
    assert.equal(announcedAddr('0.0.0.0:3022', '10.1.2.3'), '10.1.2.3:3022')
    assert.equal(announcedAddr('0.0.0.0:3022', '::ffff:10.1.2.3'), '10.1.2.3:3022')
    assert.equal(announcedAddr('[::]:3022', 'fd00::5'), '[fd00::5]:3022')
    assert.equal(announcedAddr(':3022', '10.1.2.3'), '10.1.2.3:3022')
    assert.equal(announcedAddr('192.168.1.10:3022', '10.1.2.3'), '192.168.1.10:3022')
    assert.equal(announcedAddr('node.example.com:3022', '10.1.2.3'), 'node.example.com:3022')
    assert.equal(announcedAddr('', '10.1.2.3'), '')
  })
})
