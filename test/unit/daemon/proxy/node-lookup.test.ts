import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {NodeInfo} from '../../../../src/api/auth-api.js'
import {ambiguousHostMessage, dialAddress, findNodes, type Resolver} from '../../../../src/daemon/proxy/node-lookup.js'
import {parseEndpoint} from '../../../../src/lib/net/ip.js'
import {selectorOfHost} from '../../../../src/services/models/label-selector.js'

function node(name: string, hostname: string, addr: string, labels: Record<string, string> = {}, cmd: Record<string, string> = {}): NodeInfo {
  const cmdLabels = Object.fromEntries(Object.entries(cmd).map(([k, result]) => [k, {command: ['true'], result}]))
  return {name, hostname, addr, labels, cmdLabels, version: '0.1.0', expires: new Date().toISOString()}
}

const nodes = [
  node('uuid-1', 'web', '10.0.0.1:3022', {env: 'prod'}),
  node('uuid-2', 'db', '10.0.0.2:3022', {env: 'prod', role: 'db'}, {arch: 'x86_64'}),
  node('uuid-3', 'dup', '10.0.0.3:3022', {env: 'dev'}),
  node('uuid-4', 'dup', '10.0.0.4:3022', {env: 'dev'}),
  node('uuid-5', 'uuid-1', '10.0.0.5:3022'),
  node('uuid-6', 'wild', '0.0.0.0:4022'),
]
const dns: Record<string, string[]> = {'web.lan': ['10.0.0.1'], 'both.lan': ['10.0.0.3', '10.0.0.4'], 'v6.lan': ['::ffff:10.0.0.2']}
const resolve: Resolver = async (host) => dns[host] ?? []
const names = async (host: string, port?: number) => (await findNodes(nodes, {host, ...(port ? {port} : {})}, resolve)).map((n) => n.name)

describe('node lookup', () => {
  test('1: the UUID wins, even over a hostname that equals it, whatever the port', async () => {
    assert.deepEqual(await names('uuid-1'), ['uuid-1'])
    assert.deepEqual(await names('UUID-2', 22), ['uuid-2'])
  })

  test('2: hostnames, the port not compared; several are ambiguous', async () => {
    assert.deepEqual(await names('web', 22), ['uuid-1'])
    assert.deepEqual(await names('dup'), ['uuid-3', 'uuid-4'])
  })

  test('3: the address, or the IP a name resolves to, with the port when one is given', async () => {
    assert.deepEqual(await names('10.0.0.2', 3022), ['uuid-2'])
    assert.deepEqual(await names('10.0.0.2'), ['uuid-2'])
    assert.deepEqual(await names('10.0.0.2', 22), [], 'another port on that machine is another server')
    assert.deepEqual(await names('web.lan', 3022), ['uuid-1'])
    assert.deepEqual(await names('v6.lan'), ['uuid-2'])
    assert.deepEqual(await names('both.lan'), ['uuid-3', 'uuid-4'])
    assert.deepEqual(await names('127.0.0.1', 4022), ['uuid-6'], 'a wildcard address is this machine')
  })

  test('4: label selectors, static and command labels', async () => {
    assert.deepEqual(await names('env=prod'), ['uuid-1', 'uuid-2'])
    assert.deepEqual(await names('env=prod,arch=x86_64'), ['uuid-2'])
    assert.deepEqual(await names('env=none'), [])
  })

  test('no match: nothing (the caller dials directly)', async () => {
    assert.deepEqual(await names('elsewhere.example.com', 22), [])
  })

  test('addresses: split, and wildcard hosts dialled on loopback', () => {
    assert.deepEqual(parseEndpoint('[::1]:3022'), {host: '::1', port: 3022})
    assert.deepEqual(parseEndpoint('10.0.0.1:22'), {host: '10.0.0.1', port: 22})
    assert.equal(parseEndpoint(''), undefined)
    assert.deepEqual(dialAddress({addr: '0.0.0.0:3022'}), {host: '127.0.0.1', port: 3022})
    assert.deepEqual(dialAddress({addr: '[::]:3022'}), {host: '127.0.0.1', port: 3022})
    assert.deepEqual(dialAddress({addr: '10.1.1.1:3022'}), {host: '10.1.1.1', port: 3022})
    assert.equal(dialAddress({addr: ''}), undefined)
  })

  test('label selector parsing', () => {
    assert.deepEqual(selectorOfHost('a=1,b=2'), {a: '1', b: '2'})
    assert.equal(selectorOfHost('plainhost'), undefined)
    assert.equal(selectorOfHost('=x'), undefined)
  })

  test('the ambiguity message: error line, table, hint', () => {
    const text = ambiguousHostMessage([nodes[3], nodes[2]])
    assert.equal(
      text,
      [
        'error: ambiguous host could match multiple nodes',
        '',
        'Node Name Address       Labels',
        '--------- ------------- -------',
        'dup       10.0.0.3:3022 env=dev',
        'dup       10.0.0.4:3022 env=dev',
        '',
        'Hint: try addressing the node by unique id (ex: tsh ssh user@node-id)',
        "Hint: use 'tsh ls -v' to list all nodes with their unique ids",
        '',
      ].join('\n'),
    )
  })
})
