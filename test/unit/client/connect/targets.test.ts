import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {proxySshAddress, proxyHost} from '../../../../src/client/connect/identity.js'
import {authSubsystem, nodeSubsystem} from '../../../../src/client/connect/node-stream.js'
import {ProxyRouteError, NodeAccessDeniedError} from '../../../../src/client/connect/errors.js'
import {parseProxyTarget, stripClusterSuffixes} from '../../../../src/client/connect/proxy-command.js'

describe('tsh proxy ssh target', () => {
  test('[login@]host[:port], login split on the last @', () => {
    assert.deepEqual(parseProxyTarget('root@node-1:3022'), {login: 'root', host: 'node-1', port: 3022})
    assert.deepEqual(parseProxyTarget('a@b@node-1:22'), {login: 'a@b', host: 'node-1', port: 22})
    assert.deepEqual(parseProxyTarget('node-1'), {host: 'node-1'})
    assert.deepEqual(parseProxyTarget('root@[::1]:3022'), {login: 'root', host: '::1', port: 3022})
    assert.deepEqual(parseProxyTarget('fd00::1'), {host: 'fd00::1'})
  })
  test('bad targets', () => {
    assert.throws(() => parseProxyTarget('root@:22'), /the host is empty/)
    assert.throws(() => parseProxyTarget('@node'), /login before "@" is empty/)
    assert.throws(() => parseProxyTarget('node:99999'), /not a port number/)
    assert.throws(() => parseProxyTarget('node:ssh'), /not a port number/)
  })
  test('strips .<proxy host> and .<cluster> suffixes', () => {
    assert.equal(stripClusterSuffixes('node-1.proxy.example.com', 'proxy.example.com', 'example.com'), 'node-1')
    assert.equal(stripClusterSuffixes('node-1.example.com', 'proxy.example.com', 'example.com'), 'node-1')
    assert.equal(stripClusterSuffixes('node-1', 'proxy.example.com', 'example.com'), 'node-1')
    // Only a whole-label suffix goes.
    assert.equal(stripClusterSuffixes('node-1example.com', 'proxy.example.com', 'example.com'), 'node-1example.com')
    assert.equal(stripClusterSuffixes('example.com', 'proxy.example.com', 'example.com'), 'example.com')
    assert.equal(stripClusterSuffixes('db.localhost', 'localhost', 'cluster.local'), 'db')
  })
})

describe('routing subsystems', () => {
  test('proxy:<host>:<port>@<cluster>; 0 for "the node\'s own port"; IPv6 bracketed', () => {
    assert.equal(nodeSubsystem('node-1', 3022, 'example.com'), 'proxy:node-1:3022@example.com')
    assert.equal(nodeSubsystem('node-1', undefined, 'example.com'), 'proxy:node-1:0@example.com')
    assert.equal(nodeSubsystem('env=prod', undefined, 'c'), 'proxy:env=prod:0@c')
    assert.equal(nodeSubsystem('::1', 22, 'c'), 'proxy:[::1]:22@c')
    assert.equal(authSubsystem('example.com'), 'proxy:@example.com')
  })
})

describe('proxy addresses from the profile', () => {
  test('the SSH address, a wildcard host replaced by the web host', () => {
    assert.deepEqual(proxySshAddress({webProxyAddr: 'proxy.example.com:3080', sshProxyAddr: 'proxy.example.com:3023'}), {host: 'proxy.example.com', port: 3023})
    assert.deepEqual(proxySshAddress({webProxyAddr: 'proxy.example.com:3080', sshProxyAddr: '0.0.0.0:4023'}), {host: 'proxy.example.com', port: 4023})
    assert.deepEqual(proxySshAddress({webProxyAddr: 'proxy.example.com:3080', sshProxyAddr: ':4023'}), {host: 'proxy.example.com', port: 4023})
    assert.deepEqual(proxySshAddress({webProxyAddr: 'proxy.example.com', sshProxyAddr: ''}), {host: 'proxy.example.com', port: 3023})
    assert.deepEqual(proxySshAddress({webProxyAddr: '[::1]:3080', sshProxyAddr: '[::1]:3023'}), {host: '::1', port: 3023})
    assert.equal(proxyHost({webProxyAddr: 'https://proxy.example.com:3080/'}), 'proxy.example.com')
  })
})

describe('errors', () => {
  test('the proxy\'s multi-line routing error keeps its text whole as details; the message is its first line', () => {
    const text = 'error: ambiguous host could match multiple nodes\n\nHostname UUID\n-------- ----\nn1       a\nn1       b\n\nHint: try addressing the node by unique id (ex: tsh ssh user@node-id)\n'
    const err = new ProxyRouteError(text)
    assert.equal(err.details, text)
    assert.equal(err.message, 'ambiguous host could match multiple nodes')
    assert.equal(err.exitCode, 1)
  })
  test('a one-line routing error is an ordinary error, without details', () => {
    const err = new ProxyRouteError('failed to connect to 127.0.0.1:1: connection refused\n')
    assert.equal(err.message, 'failed to connect to 127.0.0.1:1: connection refused')
    assert.equal(err.details, undefined)
  })
  test('the details are escaped: node hostnames in the table cannot drive the terminal', () => {
    const err = new ProxyRouteError('error: ambiguous host could match multiple nodes\n\nevil\x1b[2J a\n')
    assert.equal(err.details, 'error: ambiguous host could match multiple nodes\n\nevil\\x1b[2J a\n')
  })
  test('access denied names the login and the host', () => {
    assert.equal(new NodeAccessDeniedError('root', 'node-1').message, 'access denied to root connecting to node-1')
  })
})
