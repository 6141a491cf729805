import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {isProxySubsystem, parseProxySubsystem} from '../../../../src/daemon/proxy/subsystem-request.js'
import {BadParameterError} from '../../../../src/lib/errors.js'

describe('proxy subsystem names', () => {
  test('every form REFERENCE.md lists', () => {
    assert.deepEqual(parseProxySubsystem('proxy:node1:3022@example.com'), {kind: 'node', host: 'node1', port: 3022, cluster: 'example.com'})
    assert.deepEqual(parseProxySubsystem('proxy:node1:3022'), {kind: 'node', host: 'node1', port: 3022})
    assert.deepEqual(parseProxySubsystem('proxy:node1'), {kind: 'node', host: 'node1'})
    assert.deepEqual(parseProxySubsystem('proxy:node1@example.com'), {kind: 'node', host: 'node1', cluster: 'example.com'})
    assert.deepEqual(parseProxySubsystem('proxy:@example.com'), {kind: 'auth', cluster: 'example.com'})
  })

  test('port 0 means none; IPv6 in brackets or bare; label selectors keep their = and ,', () => {
    assert.deepEqual(parseProxySubsystem('proxy:node1:0@c'), {kind: 'node', host: 'node1', cluster: 'c'})
    assert.deepEqual(parseProxySubsystem('proxy:[::1]:3022@c'), {kind: 'node', host: '::1', port: 3022, cluster: 'c'})
    assert.deepEqual(parseProxySubsystem('proxy:[fe80::1]'), {kind: 'node', host: 'fe80::1'})
    assert.deepEqual(parseProxySubsystem('proxy:fe80::1'), {kind: 'node', host: 'fe80::1'})
    assert.deepEqual(parseProxySubsystem('proxy:env=prod,team=db:3022@c'), {kind: 'node', host: 'env=prod,team=db', port: 3022, cluster: 'c'})
  })

  test('the cluster is what follows the last @', () => {
    assert.deepEqual(parseProxySubsystem('proxy:a@b:22@c'), {kind: 'node', host: 'a@b', port: 22, cluster: 'c'})
  })

  test('malformed names are refused with a reason', () => {
    for (const bad of ['proxy:', 'proxy:node:99999', 'proxy:node:ssh', 'proxy:@', 'proxy:node@', 'proxy:[::1', 'proxy:[::1]x', 'proxy::22', 'proxy:no de', 'sftp']) {
      assert.throws(() => parseProxySubsystem(bad), BadParameterError, bad)
    }
  })

  test('isProxySubsystem', () => {
    assert.equal(isProxySubsystem('proxy:x'), true)
    assert.equal(isProxySubsystem('sftp'), false)
    assert.equal(isProxySubsystem('teleport-api'), false)
  })
})
