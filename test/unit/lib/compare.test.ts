import assert from 'node:assert/strict'
import {test} from 'node:test'
import {compareCodeUnits} from '../../../src/lib/compare.js'

test('compareCodeUnits orders as < does, equal strings as 0', () => {
  assert.deepEqual(['tsh:ls', 'tsh', 'b', 'B', 'a:b', 'a'].sort(compareCodeUnits), ['B', 'a', 'a:b', 'b', 'tsh', 'tsh:ls'])
  assert.equal(compareCodeUnits('x', 'x'), 0)
})
