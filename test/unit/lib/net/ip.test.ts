import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {BadParameterError} from '../../../../src/lib/errors.js'
import {joinHostPort, parseEndpoint, plainIp, splitHostPort} from '../../../../src/lib/net/ip.js'

describe('host:port', () => {
  test('split: brackets, bare IPv6, last colon; the port stays text', () => {
    assert.deepEqual(splitHostPort('node1:3022'), {host: 'node1', port: '3022'})
    assert.deepEqual(splitHostPort('[::1]:3022'), {host: '::1', port: '3022'})
    assert.deepEqual(splitHostPort('[fe80::1]'), {host: 'fe80::1'})
    assert.deepEqual(splitHostPort('fe80::1'), {host: 'fe80::1'})
    assert.deepEqual(splitHostPort('node1'), {host: 'node1'})
    assert.deepEqual(splitHostPort(':22'), {host: '', port: '22'})
    assert.throws(() => splitHostPort('[::1:3022'), BadParameterError)
    assert.throws(() => splitHostPort('[::1]3022'), BadParameterError)
  })
  test('join brackets IPv6; parseEndpoint is its inverse and wants a port', () => {
    assert.equal(joinHostPort('::1', 22), '[::1]:22')
    assert.equal(joinHostPort('10.0.0.1', 22), '10.0.0.1:22')
    for (const [host, port] of [['::1', 22], ['10.0.0.1', 3022], ['', 3022]] as const) assert.deepEqual(parseEndpoint(joinHostPort(host, port)), {host, port})
    for (const bad of ['', 'node1', 'node1:x', 'node1:70000', '[::1']) assert.equal(parseEndpoint(bad), undefined, bad)
  })
  test('plainIp strips the IPv4-mapped prefix only', () => {
    assert.equal(plainIp('::ffff:10.1.2.3'), '10.1.2.3')
    assert.equal(plainIp('::FFFF:10.1.2.3'), '10.1.2.3')
    assert.equal(plainIp('::ffff:a:b'), '::ffff:a:b')
    assert.equal(plainIp(undefined), '')
  })
})
