import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, describe, test} from 'node:test'
import {loadTshConfig, readTshConfigFile} from '../../../../src/client/config/load.js'
import {existingTshConfigFiles, tshConfigPaths} from '../../../../src/client/config/paths.js'
import {extraHeadersFor} from '../../../../src/client/config/extra-headers.js'
import {BadParameterError} from '../../../../src/lib/errors.js'
import {tempDir} from '../helpers.js'

const dirs: {cleanup: () => void}[] = []
after(() => dirs.forEach((d) => d.cleanup()))

/** A HOME with ~/.tsh/config/config.yaml and a site-wide file, as given (undefined: no file). */
function setup(user?: string, global?: string): NodeJS.ProcessEnv {
  const d = tempDir()
  dirs.push(d)
  const env: NodeJS.ProcessEnv = {HOME: d.path, TELEPORT_GLOBAL_TSH_CONFIG: path.join(d.path, 'etc', 'tsh.yaml')}
  const paths = tshConfigPaths(env)
  if (user !== undefined) {
    mkdirSync(path.dirname(paths.user), {recursive: true})
    writeFileSync(paths.user, user)
  }
  if (global !== undefined) {
    mkdirSync(path.dirname(paths.global), {recursive: true})
    writeFileSync(paths.global, global)
  }
  return env
}

function refusal(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof BadParameterError, String(err))
    return err.message
  }
  assert.fail('expected a refusal')
}

describe('tsh config file', () => {
  test('paths: ~/.tsh/config/config.yaml ($TELEPORT_HOME moves it) and /etc/tsh.yaml unless $TELEPORT_GLOBAL_TSH_CONFIG', () => {
    assert.deepEqual(tshConfigPaths({HOME: '/home/a'}), {global: '/etc/tsh.yaml', user: '/home/a/.tsh/config/config.yaml'})
    assert.deepEqual(tshConfigPaths({HOME: '/home/a', TELEPORT_HOME: '/t', TELEPORT_GLOBAL_TSH_CONFIG: '/site/tsh.yaml'}), {global: '/site/tsh.yaml', user: '/t/config/config.yaml'})
  })

  test('no file: the empty config, and nothing is created', () => {
    const env = setup()
    assert.deepEqual(existingTshConfigFiles(env), [])
    assert.deepEqual(loadTshConfig(env), {aliases: {}, extraHeaders: []})
    assert.deepEqual(existingTshConfigFiles(env), [])
  })

  test('every key read, in Teleport\'s form', () => {
    const env = setup(
      [
        'proxy: proxy.example.com:3080',
        'user: alice',
        'add_keys_to_agent: only',
        'key_store: keychain',
        'aliases:',
        '  l: "tsh login --proxy=p.example.com"',
        '  connect: "$TSH ssh -A $0"',
        'extra_headers:',
        '  - proxy: "*.example.com"',
        '    headers: {X-Foo: bar, X-Num: 1}',
        '',
      ].join('\n'),
    )
    assert.deepEqual(loadTshConfig(env), {
      proxy: 'proxy.example.com:3080',
      user: 'alice',
      addKeysToAgent: 'only',
      keyStore: 'keychain',
      aliases: {l: 'tsh login --proxy=p.example.com', connect: '$TSH ssh -A $0'},
      extraHeaders: [{proxy: '*.example.com', headers: {'X-Foo': 'bar', 'X-Num': '1'}}],
    })
  })

  test('the site-wide file is merged under the user\'s: scalars and aliases by name, header rules user\'s first', () => {
    const env = setup(
      'user: bob\naliases: {l: "tsh login --user=bob"}\nextra_headers: [{proxy: "a.example.com", headers: {X-Who: user}}]\n',
      'proxy: site.example.com\nuser: nobody\nkey_store: file\naliases: {l: "tsh login", s: "tsh status"}\nextra_headers: [{proxy: "*", headers: {X-Who: site, X-Site: "1"}}]\n',
    )
    const config = loadTshConfig(env)
    assert.equal(config.proxy, 'site.example.com')
    assert.equal(config.user, 'bob')
    assert.equal(config.keyStore, 'file')
    assert.deepEqual(config.aliases, {l: 'tsh login --user=bob', s: 'tsh status'})
    assert.deepEqual(extraHeadersFor(config, 'a.example.com:3080'), {'X-Who': 'user', 'X-Site': '1'})
    assert.deepEqual(extraHeadersFor(config, 'b.example.com'), {'X-Who': 'site', 'X-Site': '1'})
  })

  test('a typo: one line with the file, the line and the key, and a suggestion', () => {
    const env = setup('proxy: p.example.com\nuser: alice\nadd_key_to_agent: yes\n')
    const file = tshConfigPaths(env).user
    assert.equal(refusal(() => loadTshConfig(env)), `${file}:3: unknown key "add_key_to_agent" (did you mean "add_keys_to_agent"?)`)
  })

  test('bad values name their line and key', () => {
    const cases: [string, RegExp][] = [
      ['key_store: vault\n', /:1: key_store: invalid value "vault"; expected one of auto, file, keychain$/],
      ['\n\nadd_keys_to_agent: maybe\n', /:3: add_keys_to_agent: invalid value "maybe"; expected one of auto, no, yes, only/],
      ['aliases:\n  "-x": "tsh ls"\n', /:2: aliases: invalid alias name "-x"/],
      ['aliases:\n  l: [tsh, login]\n', /:2: aliases\.l: expected a string, got a list$/],
      ['extra_headers:\n  - headers: {X-A: b}\n', /:2: extra_headers\[0\]: missing key "proxy"$/],
      ['extra_headers:\n  - proxy: x\n    headers: {"bad header": b}\n', /:3: extra_headers\[0\]\.headers: invalid HTTP header name "bad header"$/],
      ['proxy: [a\n', /:2: invalid YAML/],
      ['- a\n- b\n', /:1: top level: expected a map, got a list$/],
    ]
    for (const [text, expected] of cases) {
      const env = setup(text)
      assert.match(refusal(() => readTshConfigFile(tshConfigPaths(env).user)), expected, text)
    }
  })

  test('a bad site-wide file is named as such', () => {
    const env = setup('user: alice\n', 'proxi: p\n')
    assert.match(refusal(() => loadTshConfig(env)), new RegExp(`^${tshConfigPaths(env).global.replace(/[.]/g, '\\.')}:1: unknown key "proxi" \\(did you mean "proxy"\\?\\)$`))
  })
})
