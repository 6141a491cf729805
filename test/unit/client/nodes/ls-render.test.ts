import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {NodeInfo} from '../../../../src/api/auth-api.js'
import {formatLabels, nodeLabels, isLabelSelector, matchesSelector, parseLabelSelector} from '../../../../src/client/nodes/labels.js'
import {nodesData, nodesNames, nodesText, TUNNEL_ADDRESS} from '../../../../src/client/nodes/render.js'

function node(hostname: string, name: string, extra: Partial<NodeInfo> = {}): NodeInfo {
  return {name, hostname, addr: '10.0.0.1:3022', labels: {}, cmdLabels: {}, version: '0.1.0', expires: '2030-01-01T00:00:00.000Z', ...extra}
}

const nodes: NodeInfo[] = [
  node('web-2', 'uuid-w2', {labels: {env: 'prod', role: 'web'}, cmdLabels: {arch: {command: ['uname', '-m'], result: 'x86_64'}}}),
  node('db-1', 'uuid-d1', {addr: '10.0.0.9:3022', labels: {env: 'prod', role: 'db'}}),
  node('edge', 'uuid-e', {addr: '', tunnel: true, labels: {}}),
  node('web-1', 'uuid-w1', {labels: {role: 'web', env: 'staging'}}),
]

describe('label selectors', () => {
  test('a host with "=" is a selector', () => {
    assert.equal(isLabelSelector('env=prod'), true)
    assert.equal(isLabelSelector('node-1'), false)
  })
  test('parse comma-separated or separate arguments', () => {
    assert.deepEqual(parseLabelSelector('env=prod,role=web'), {env: 'prod', role: 'web'})
    assert.deepEqual(parseLabelSelector(['env=prod', 'role=web']), {env: 'prod', role: 'web'})
    assert.deepEqual(parseLabelSelector(['a=b=c']), {a: 'b=c'})
    assert.deepEqual(parseLabelSelector([]), {})
    assert.throws(() => parseLabelSelector('env'), /not a label selector/)
    assert.throws(() => parseLabelSelector('=x'), /not a label selector/)
  })
  test('every selector label must match exactly; command labels count; empty matches all', () => {
    assert.deepEqual(nodes.filter((n) => matchesSelector(n, {env: 'prod'})).map((n) => n.hostname), ['web-2', 'db-1'])
    assert.deepEqual(nodes.filter((n) => matchesSelector(n, {env: 'prod', role: 'web'})).map((n) => n.hostname), ['web-2'])
    assert.deepEqual(nodes.filter((n) => matchesSelector(n, {arch: 'x86_64'})).map((n) => n.hostname), ['web-2'])
    assert.equal(nodes.filter((n) => matchesSelector(n, {})).length, 4)
    assert.equal(nodes.filter((n) => matchesSelector(n, {env: 'pro'})).length, 0)
  })
  test('labels shown k=v sorted by key, command labels merged', () => {
    assert.equal(formatLabels(nodeLabels(nodes[0]!)), 'arch=x86_64,env=prod,role=web')
  })
})

describe('tsh ls rendering', () => {
  test('text: Node Name | Address | Labels, sorted by name, tunnel nodes marked', () => {
    assert.equal(
      nodesText(nodes),
      [
        'Node Name Address       Labels',
        '--------- ------------- -----------------------------',
        'db-1      10.0.0.9:3022 env=prod,role=db',
        'edge      ⟵ Tunnel',
        'web-1     10.0.0.1:3022 env=staging,role=web',
        'web-2     10.0.0.1:3022 arch=x86_64,env=prod,role=web',
        '',
      ].join('\n'),
    )
  })
  test('-v adds the node ID and type after the name and the open sessions before the labels, empty when unknown', () => {
    const lines = nodesText(nodes, {verbose: true, sessions: new Map([['uuid-d1', 2]])}).split('\n')
    assert.match(lines[0]!, /^Node Name Node ID\s+Type\s+Address\s+Sessions\s+Labels$/)
    assert.match(lines[2]!, /^db-1\s+uuid-d1\s+Teleport\s+10\.0\.0\.9:3022\s+2\s+env=prod,role=db$/)
    assert.match(lines[4]!, /^web-1\s+uuid-w1\s+Teleport\s+10\.0\.0\.1:3022\s+0\s+env=staging,role=web$/)
    const unknown = nodesText(nodes, {verbose: true}).split('\n')
    assert.match(unknown[2]!, /^db-1\s+uuid-d1\s+Teleport\s+10\.0\.0\.9:3022\s+env=prod,role=db$/)
    const sshd = nodesText([{name: 'bastion', hostname: 'bastion', addr: '10.0.0.7:22', labels: {}, cmdLabels: {}, version: '', subKind: 'openssh'}], {verbose: true}).split('\n')
    assert.match(sshd[2]!, /^bastion\s+bastion\s+OpenSSH\s+10\.0\.0\.7:22\s*$/)
  })
  test('names: one host name per line, sorted', () => {
    assert.equal(nodesNames(nodes), 'db-1\nedge\nweb-1\nweb-2\n')
  })
  test('data: sorted snake_case records, static, command and merged labels', () => {
    const data = nodesData(nodes) as Array<Record<string, unknown>>
    assert.deepEqual(data.map((d) => d.hostname), ['db-1', 'edge', 'web-1', 'web-2'])
    assert.deepEqual(Object.keys(data[3]!), ['name', 'hostname', 'addr', 'labels', 'cmd_labels', 'all_labels', 'version', 'expires'])
    assert.deepEqual(data[3]!.labels, {env: 'prod', role: 'web'})
    assert.deepEqual(data[3]!.cmd_labels, {arch: {command: ['uname', '-m'], result: 'x86_64'}})
    assert.deepEqual(data[3]!.all_labels, {env: 'prod', role: 'web', arch: 'x86_64'})
    assert.equal(data[1]!.tunnel, true)
    assert.equal(TUNNEL_ADDRESS, '⟵ Tunnel')
  })
  test('no nodes: just the header', () => {
    assert.equal(nodesText([]).split('\n').length, 3)
  })
})
