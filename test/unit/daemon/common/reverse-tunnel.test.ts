import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {decodeDiscovery, encodeDiscovery} from '../../../../src/daemon/common/reverse-tunnel.js'

// The discovery message as the node reads it: what a proxy writes comes back whole; another
// cluster's message, a malformed line and entries that are not proxies are left out.

describe('reverse tunnel discovery message', () => {
  const proxies = [{id: 'p1', hostname: 'proxy-1', addr: 'proxies.example.com:443'}, {id: 'p2', hostname: 'proxy-2', addr: '10.0.0.2:3080'}]

  test('a message round-trips as one line', () => {
    const line = encodeDiscovery({type: 'discovery', clusterName: 'example.com', proxies})
    assert.equal(line.indexOf('\n'), line.length - 1)
    assert.deepEqual(decodeDiscovery(line.trim(), 'example.com'), proxies)
  })

  test("another cluster's message, a malformed line or another type is no discovery; bad entries are dropped", () => {
    assert.equal(decodeDiscovery(encodeDiscovery({type: 'discovery', clusterName: 'other.com', proxies}), 'example.com'), undefined)
    assert.equal(decodeDiscovery('{"type":"discovery",', 'example.com'), undefined)
    assert.equal(decodeDiscovery(JSON.stringify({type: 'other', clusterName: 'example.com', proxies}), 'example.com'), undefined)
    const mixed = JSON.stringify({type: 'discovery', clusterName: 'example.com', proxies: [proxies[0], {id: 'a/b', hostname: 'x', addr: 'y:1'}, {id: 'p3'}, null, 'p4', {...proxies[1], extra: 'dropped'}]})
    assert.deepEqual(decodeDiscovery(mixed, 'example.com'), proxies)
  })
})
