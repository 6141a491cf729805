import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {BadParameterError} from '../../../src/lib/errors.js'
import {checkJoinerPrincipals, hostIdCandidates, MAX_JOINER_PRINCIPALS} from '../../../src/services/host-principals.js'

const names = (nodeName: string, additionalPrincipals: string[] = []) => ({nodeName, additionalPrincipals, clusterName: 'example.com', reserved: ['proxy.example.org']})

describe('names a joining host may ask for', () => {
  test('its own DNS names and IP addresses, deduplicated', () => {
    assert.deepEqual(checkJoinerPrincipals(names('node-1', ['node-1.lan', '10.0.0.7', '10.0.0.7', 'fe80::1', 'build_box.corp.example.net'])), ['node-1.lan', '10.0.0.7', 'fe80::1', 'build_box.corp.example.net'])
    // A host under the cluster's domain is fine; the cluster name itself is not.
    assert.deepEqual(checkJoinerPrincipals(names('node-1.example.com')), [])
  })

  test('wildcards, reserved names, the cluster name, another service\'s name and junk are refused, naming the culprit', () => {
    const cases: [string, string[], RegExp][] = [
      ['node-1', ['*'], /^principal "\*" is a wildcard$/],
      ['*', [], /^node name "\*" is a wildcard$/],
      ['node-1', ['web?.lan'], /is a wildcard/],
      ['node-1', ['auth.teleport.cluster.local'], /^principal "auth\.teleport\.cluster\.local" is reserved for the cluster's own services$/],
      ['node-1', ['TELEPORT.CLUSTER.LOCAL'], /reserved/],
      ['node-1', ['example.com'], /is the cluster name/],
      ['node-1', ['Proxy.Example.org'], /belongs to another service of the cluster/],
      ['node-1', ['bad name'], /is not a DNS name or IP address/],
      ['node-1', ['a..b'], /is not a DNS name or IP address/],
      ['node-1', ['-leading.dash'], /is not a DNS name or IP address/],
      ['node-1', ['x'.repeat(64)], /is not a DNS name or IP address/],
      ['node\u001b[2J', [], /is not a DNS name or IP address/],
      ['', [], /^node name "" is not a DNS name or IP address$/],
    ]
    for (const [nodeName, extra, message] of cases) {
      assert.throws(() => checkJoinerPrincipals(names(nodeName, extra)), (err) => err instanceof BadParameterError && message.test(err.message), `${nodeName} ${extra.join(',')}`)
    }
  })

  test('at most MAX_JOINER_PRINCIPALS extra names', () => {
    const many = Array.from({length: MAX_JOINER_PRINCIPALS + 1}, (_, i) => `n${i}.lan`)
    assert.throws(() => checkJoinerPrincipals(names('node-1', many)), /at most 32 additional principals, not 33/)
    assert.equal(checkJoinerPrincipals(names('node-1', many.slice(1))).length, MAX_JOINER_PRINCIPALS)
  })

  test('<id> and <id>.<cluster> both stand for host <id>', () => {
    assert.deepEqual(hostIdCandidates('abc.example.com', 'example.com'), ['abc.example.com', 'abc'])
    assert.deepEqual(hostIdCandidates('abc.lan', 'example.com'), ['abc.lan'])
  })
})
