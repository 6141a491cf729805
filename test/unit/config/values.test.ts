import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {
  formatHostPort,
  parseHostPort,
  parseLabelSpec,
  parseRoles,
  readValueOrFile,
} from '../../../src/config/index.js'
import {BadParameterError} from '../../../src/lib/errors.js'

describe('parseHostPort', () => {
  test('host:port, IPv6 in brackets, and a default port for a bare host', () => {
    assert.deepEqual(parseHostPort('auth.example.com:3025'), {host: 'auth.example.com', port: 3025})
    assert.deepEqual(parseHostPort('10.0.0.1:1'), {host: '10.0.0.1', port: 1})
    assert.deepEqual(parseHostPort('[::1]:3022'), {host: '::1', port: 3022})
    assert.deepEqual(parseHostPort('fe80::1', {defaultPort: 3022}), {host: 'fe80::1', port: 3022})
    assert.deepEqual(parseHostPort('auth', {defaultPort: 3025}), {host: 'auth', port: 3025})
    assert.deepEqual(parseHostPort('127.0.0.1:0', {allowPortZero: true}), {host: '127.0.0.1', port: 0})
  })
  test('each kind of bad address is named', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /expected host:port/],
      ['auth', /missing port/],
      ['auth:', /port must be a number from 1 to 65535/],
      ['auth:0', /port must be a number from 1 to 65535/],
      ['auth:65536', /port must be a number/],
      ['auth:30x', /port must be a number/],
      ['tcp://auth:3025', /not a URL/],
      ['[::1:3022', /missing "\]"/],
      ['[::1]3022', /expected ":" and a port/],
      ['[nope]:1', /is not an IPv6 address/],
      ['a:b:c', /is not a valid host name/],
      ['-bad-:1', /is not a valid host name/],
    ]
    for (const [text, reason] of cases) {
      assert.throws(() => parseHostPort(text), (err: unknown) => err instanceof BadParameterError && err.message.startsWith(`invalid address ${JSON.stringify(text)}: `) && reason.test(err.message), text)
    }
  })
  test('formatHostPort brackets IPv6', () => {
    assert.equal(formatHostPort({host: '::1', port: 3022}), '[::1]:3022')
    assert.equal(formatHostPort({host: 'a.example.com', port: 443}), 'a.example.com:443')
  })
})

describe('parseRoles', () => {
  test('any order and case, repeats ignored, canonical order out', () => {
    assert.deepEqual(parseRoles('node,auth'), ['auth', 'node'])
    assert.deepEqual(parseRoles(' Proxy , node,proxy'), ['proxy', 'node'])
    assert.deepEqual(parseRoles('auth,proxy,node'), ['auth', 'proxy', 'node'])
  })
  test('an unknown or empty role list is refused', () => {
    assert.throws(() => parseRoles('auth,prxy'), {name: 'BadParameterError', message: 'unknown role "prxy"; expected auth, proxy, node'})
    assert.throws(() => parseRoles('db'), {message: 'unknown role "db"; expected auth, proxy, node'})
    assert.throws(() => parseRoles(' , '), {message: 'no roles given; expected one or more of auth, proxy, node'})
  })
})

describe('parseLabelSpec', () => {
  test('key=value pairs', () => {
    assert.deepEqual(parseLabelSpec('env=staging,team=db'), {labels: {env: 'staging', team: 'db'}, commands: []})
    assert.deepEqual(parseLabelSpec(' env = staging , empty= ,'), {labels: {env: 'staging', empty: ''}, commands: []})
    assert.deepEqual(parseLabelSpec('url=a=b'), {labels: {url: 'a=b'}, commands: []}, 'only the first = splits')
    assert.deepEqual(parseLabelSpec(''), {labels: {}, commands: []})
  })
  test("Teleport's command labels, commas inside brackets kept", () => {
    assert.deepEqual(parseLabelSpec('env=prod,arch=[1h:uname -p],x=[30s:echo a,b]'), {
      labels: {env: 'prod'},
      commands: [
        {name: 'arch', command: ['uname', '-p'], periodMs: 3_600_000},
        {name: 'x', command: ['echo', 'a,b'], periodMs: 30_000},
      ],
    })
  })
  test('bad syntax is named', () => {
    assert.throws(() => parseLabelSpec('env=prod,team'), {name: 'BadParameterError', message: 'invalid label "team": expected key=value'})
    assert.throws(() => parseLabelSpec('=x'), {message: /invalid label key "": use at most 128 letters/})
    assert.throws(() => parseLabelSpec('my key=x'), {message: /invalid label key "my key"/})
    assert.throws(() => parseLabelSpec('arch=[1h]'), {message: /invalid command label "arch=\[1h\]": expected arch=\[period:command\]/})
    assert.throws(() => parseLabelSpec('arch=[1h:uname'), {message: /invalid command label/})
    assert.throws(() => parseLabelSpec('arch=[soon:uname]'), {message: /invalid duration "soon"/})
  })
})

describe('readValueOrFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'teleport-token-'))
  test('an absolute path to an existing file is read and trimmed', () => {
    const file = join(dir, 'token')
    writeFileSync(file, '  s3cret\n\n')
    assert.equal(readValueOrFile(file), 's3cret')
  })
  test('anything else is the value itself', () => {
    assert.equal(readValueOrFile('s3cret'), 's3cret')
    assert.equal(readValueOrFile(join(dir, 'missing')), join(dir, 'missing'))
    assert.equal(readValueOrFile('token'), 'token', 'relative paths are values')
    assert.equal(readValueOrFile(dir), dir, 'a directory is not a token file')
  })
  test('an empty or unreadable file is refused', () => {
    const empty = join(dir, 'empty')
    writeFileSync(empty, '\n')
    assert.throws(() => readValueOrFile(empty), {name: 'BadParameterError', message: `${empty} is empty; expected it to hold a token`})
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked')
      writeFileSync(locked, 'x')
      chmodSync(locked, 0o000)
      assert.throws(() => readValueOrFile(locked), {name: 'BadParameterError', message: `cannot read ${locked}: EACCES`})
    }
  })
})
