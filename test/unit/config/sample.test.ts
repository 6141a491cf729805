import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {isMap, isScalar, isSeq, parseDocument, type Node} from 'yaml'
import {mergeConfig, parseConfig, sampleConfig, schemaKeyPaths} from '../../../src/config/index.js'

/** The sample with each `#key: value` example switched on in place of the key's own line. */
function withExamples(sample: string): string {
  const lines = sample.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const example = /^(\s*)#([a-z_]+): (.*)$/.exec(lines[i]!)
    if (!example) continue
    const [, indent, key, value] = example
    let active = i - 1
    while (active >= 0 && !lines[active]!.startsWith(`${indent}${key}: `)) active--
    assert.ok(active >= 0, `example for ${key} has no key line above it`)
    lines[active] = `${indent}${key}: ${value}`
    lines[i] = ''
  }
  return lines.join('\n')
}

/** Every key path written in a YAML text, in the schema's notation (`[]` for list items). */
function writtenKeyPaths(text: string): Set<string> {
  const out = new Set<string>()
  const walk = (node: Node | null, prefix: string) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = String((pair.key as {value: unknown}).value)
        const path = prefix === '' ? key : `${prefix}.${key}`
        out.add(path)
        walk(pair.value as Node | null, path)
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item as Node, `${prefix}[]`)
    } else assert.ok(node === null || isScalar(node))
  }
  walk(parseDocument(text).contents as Node | null, '')
  return out
}

describe('sampleConfig', () => {
  const sample = sampleConfig()

  test('is a valid config, and runs all three services with the defaults', () => {
    const fc = parseConfig(sample, 'sample.yaml')
    const cfg = mergeConfig(fc, {}, {hostname: 'h'})
    assert.deepEqual(cfg.roles, ['auth', 'proxy', 'node'])
    assert.deepEqual(cfg.auth.listenAddr, {host: '0.0.0.0', port: 3025})
    assert.equal(cfg.authToken, undefined, 'no token switched on')
    assert.deepEqual(cfg.auth.staticTokens, [], 'no static token switched on')
    assert.deepEqual(cfg.proxy.httpsKeyPairs, [])
  })

  test('is still valid with every example switched on', () => {
    const fc = parseConfig(withExamples(sample), 'sample-with-examples.yaml')
    assert.equal(fc.teleport.auth_token, '/var/lib/teleport/join-token')
    assert.equal(fc.proxy_service.https_keypairs.length, 1)
  })

  test('names every key the schema knows, each under a comment giving its default', () => {
    const written = writtenKeyPaths(withExamples(sample))
    const missing = schemaKeyPaths().filter((path) => !written.has(path))
    assert.deepEqual(missing, [])
    const lines = sample.split('\n')
    lines.forEach((line, i) => {
      if (!/^\s*[a-z_]+:( |$)/.test(line)) return
      assert.match(lines[i - 1]!, /^\s*#/, `no comment above: ${line}`)
    })
    for (const path of schemaKeyPaths().filter((p) => !p.includes('[]'))) {
      const key = path.split('.').at(-1)!
      const at = lines.findIndex((line) => new RegExp(`^\\s*${key}:`).test(line))
      const comment: string[] = []
      for (let i = at - 1; i >= 0 && /^\s*#/.test(lines[i]!); i--) comment.unshift(lines[i]!)
      const isSection = /:$/.test(lines[at]!)
      if (!isSection) assert.match(comment.join(' '), /Default: /, `no default named for ${path}`)
    }
  })

  test('lists of maps document their entry keys in the comment', () => {
    // Comments wrap: read them as one line each.
    const prose = sample.replace(/\n\s*# /g, ' ')
    assert.match(prose, /Each entry: key_file, the PEM private key file; cert_file, the PEM certificate chain file\./)
    assert.match(prose, /Each entry: name, the label's name; command, .*; period, how often to re-run it, at least 1s \(default 1h\)/)
  })

  test('values can be set by key path, for `teleport configure` flags', () => {
    const text = sampleConfig({
      values: {
        'teleport.nodename': 'node-7',
        'auth_service.cluster_name': 'example.com',
        'proxy_service.enabled': 'no',
        'teleport.auth_servers': ['10.0.0.1:3025'],
        'ssh_service.labels': {env: 'staging'},
      },
    })
    assert.doesNotMatch(text, /#auth_servers:/, 'the example is dropped once the key is set')
    const fc = parseConfig(text, 'configured.yaml')
    assert.equal(fc.teleport.nodename, 'node-7')
    assert.equal(fc.auth_service.cluster_name, 'example.com')
    assert.equal(fc.proxy_service.enabled, false)
    assert.deepEqual(fc.teleport.auth_servers, [{host: '10.0.0.1', port: 3025}])
    assert.deepEqual(fc.ssh_service.labels, {env: 'staging'})
  })

  test('setting an unknown key path is refused', () => {
    assert.throws(() => sampleConfig({values: {'auth_service.listen_adr': 'x'}}), {name: 'BadParameterError', message: 'sampleConfig: unknown key "auth_service.listen_adr"'})
  })
})

describe('schemaKeyPaths', () => {
  test('covers REFERENCE.md\'s keys', () => {
    const paths = schemaKeyPaths()
    for (const path of [
      'version',
      'teleport.nodename',
      'teleport.data_dir',
      'teleport.auth_token',
      'teleport.ca_pin',
      'teleport.auth_servers',
      'teleport.log.output',
      'teleport.log.severity',
      'auth_service.enabled',
      'auth_service.listen_addr',
      'auth_service.cluster_name',
      'auth_service.tokens',
      'auth_service.authentication.type',
      'auth_service.authentication.second_factor',
      'auth_service.session_recording',
      'auth_service.web_idle_timeout',
      'proxy_service.enabled',
      'proxy_service.listen_addr',
      'proxy_service.web_listen_addr',
      'proxy_service.tunnel_listen_addr',
      'proxy_service.public_addr',
      'proxy_service.https_keypairs[].key_file',
      'proxy_service.https_keypairs[].cert_file',
      'ssh_service.enabled',
      'ssh_service.listen_addr',
      'ssh_service.labels',
      'ssh_service.commands[].name',
      'ssh_service.commands[].command',
      'ssh_service.commands[].period',
    ]) {
      assert.ok(paths.includes(path), path)
    }
  })
})
