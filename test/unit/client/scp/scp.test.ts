import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type ssh2 from 'ssh2'
import {describe, test} from 'node:test'
import {parseLocation, parseScpArgs} from '../../../../src/client/scp/args.js'
import {download, normalizeRemotePath} from '../../../../src/client/scp/transfer.js'

const env = {USER: 'osuser'} as NodeJS.ProcessEnv

describe('scp locations', () => {
  test('a colon before any slash makes it remote', () => {
    assert.deepEqual(parseLocation('node:/tmp/x'), {kind: 'remote', host: 'node', path: '/tmp/x'})
    assert.deepEqual(parseLocation('root@node:x'), {kind: 'remote', login: 'root', host: 'node', path: 'x'})
    assert.deepEqual(parseLocation('a@b@node:'), {kind: 'remote', login: 'a@b', host: 'node', path: ''})
    assert.deepEqual(parseLocation('./a:b'), {kind: 'local', path: './a:b'})
    assert.deepEqual(parseLocation('/abs/x:y'), {kind: 'local', path: '/abs/x:y'})
    assert.deepEqual(parseLocation('plain.txt'), {kind: 'local', path: 'plain.txt'})
    assert.deepEqual(parseLocation(':odd'), {kind: 'local', path: ':odd'})
  })
  test('bracketed IPv6 hosts', () => {
    assert.deepEqual(parseLocation('[::1]:/tmp'), {kind: 'remote', host: '::1', path: '/tmp'})
    assert.deepEqual(parseLocation('root@[fd00::2]:f'), {kind: 'remote', login: 'root', host: 'fd00::2', path: 'f'})
  })
})

describe('parseScpArgs', () => {
  test('upload with flags', () => {
    const a = parseScpArgs(['-rpq', '-P', '3022', 'a', 'b', 'root@node:/dst'], env)
    assert.equal(a.direction, 'upload')
    assert.deepEqual(a.sources, [{kind: 'local', path: 'a'}, {kind: 'local', path: 'b'}])
    assert.deepEqual([a.host, a.login, a.port, a.recursive, a.preserve, a.quiet], ['node', 'root', 3022, true, true, true])
  })
  test('download; login from --login when the path names none', () => {
    const a = parseScpArgs(['--login', 'bob', 'node:/etc/hosts', '.'], env)
    assert.equal(a.direction, 'download')
    assert.equal(a.login, 'bob')
  })
  test('accepted OpenSSH switches', () => {
    const a = parseScpArgs(['-C', '-4', '-O', '-o', 'StrictHostKeyChecking=no', 'f', 'n:'], env)
    assert.deepEqual(a.warnings, [])
  })
  test('refusals', () => {
    assert.throws(() => parseScpArgs(['a'], env), /expected a source and a destination/)
    assert.throws(() => parseScpArgs(['a', 'b'], env), /neither side is remote/)
    assert.throws(() => parseScpArgs(['n1:a', 'n2:b'], env), /from one remote host to another/)
    assert.throws(() => parseScpArgs(['n1:a', 'local', 'dst'], env), /every source must be remote/)
    assert.throws(() => parseScpArgs(['n1:a', 'n2:b', 'dst'], env), /same host/)
    assert.throws(() => parseScpArgs(['-3', 'n1:a', 'n2:b'], env), /-3 is not supported/)
    assert.throws(() => parseScpArgs(['-P', 'x', 'a', 'n:'], env), /not a port number/)
  })
  test('remote paths: host: and ~ are the home directory', () => {
    assert.equal(normalizeRemotePath(''), '.')
    assert.equal(normalizeRemotePath('~'), '.')
    assert.equal(normalizeRemotePath('~/docs/a'), 'docs/a')
    assert.equal(normalizeRemotePath('/etc'), '/etc')
  })
})

describe('scp -r from a hostile node', () => {
  // A node's SFTP server names the files of a directory it lists. No real server can list a name
  // holding "/", so a stand-in plays the hostile one.
  const attrs = (kind: 'dir' | 'file') => ({mode: kind === 'dir' ? 0o40755 : 0o100644, size: 1, atime: 0, mtime: 0, isDirectory: () => kind === 'dir', isFile: () => kind === 'file', isSymbolicLink: () => false})
  const hostile = {
    stat: (_p: string, cb: (err: null, a: unknown) => void) => cb(null, attrs('dir')),
    readdir: (_p: string, cb: (err: null, list: unknown[]) => void) => cb(null, ['ok.txt', '../escaped.txt', 'sub/../../escaped2.txt'].map((filename) => ({filename, longname: filename, attrs: attrs('file')}))),
    fastGet: (_remote: string, local: string, _opts: unknown, cb: (err: null) => void) => {
      writeFileSync(local, 'x')
      cb(null)
    },
  } as unknown as ssh2.SFTPWrapper

  test('names with "/" are refused and nothing is written outside the target', async (t) => {
    const root = mkdtempSync(path.join(tmpdir(), 'scp-hostile-'))
    t.after(() => rmSync(root, {recursive: true, force: true}))
    mkdirSync(path.join(root, 'a'))
    const target = path.join(root, 'a', 'target')
    const errors = await download(hostile, ['/d'], target, {recursive: true, preserve: false, remoteName: (p) => `node:${p}`})
    assert.deepEqual(readdirSync(target), ['ok.txt'])
    assert.equal(existsSync(path.join(root, 'a', 'escaped.txt')), false)
    assert.equal(existsSync(path.join(root, 'a', 'escaped2.txt')), false)
    assert.deepEqual(errors, ['node:/d: server sent a suspicious file name "../escaped.txt"', 'node:/d: server sent a suspicious file name "sub/../../escaped2.txt"'])
  })
})
