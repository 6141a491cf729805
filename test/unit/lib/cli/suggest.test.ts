import assert from 'node:assert/strict'
import {test} from 'node:test'
import {closestMatch} from '../../../../src/lib/cli/suggest.js'

test('suggests the nearest command, a prefix first, nothing when far', () => {
  assert.equal(closestMatch('vershun', ['version', 'login', 'logout']), 'version')
  assert.equal(closestMatch('logi', ['version', 'login', 'logout']), 'login')
  assert.equal(closestMatch('proxy sssh', ['proxy ssh', 'ssh']), 'proxy ssh')
  assert.equal(closestMatch('frobnicate', ['version', 'login']), undefined)
})
