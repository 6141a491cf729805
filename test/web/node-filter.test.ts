import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {WebNode} from '../../src/api/web-ui-routes.js'
import {matchesNode} from '../../web/src/node-filter.js'

// The node list's search box: text matches hostname, address, id or a label; `key=value` words
// are label filters; every word must match.

const node = (hostname: string, labels: Record<string, string>): WebNode => ({
  id: `${hostname}-id`,
  hostname,
  addr: '10.1.2.3:3022',
  labels: Object.entries(labels).map(([name, value]) => ({name, value})),
  logins: ['root'],
})
const db = node('db-01', {env: 'prod', role: 'db'})
const web = node('Web-01', {env: 'staging'})
const shown = (search: string) => [db, web].filter((n) => matchesNode(n, search)).map((n) => n.hostname)

test('an empty search shows every node', () => {
  assert.deepEqual(shown('  '), ['db-01', 'Web-01'])
})

test('text matches part of the hostname, address or a label, ignoring case', () => {
  assert.deepEqual(shown('web'), ['Web-01'])
  assert.deepEqual(shown('10.1.2'), ['db-01', 'Web-01'])
  assert.deepEqual(shown('STAG'), ['Web-01'])
  assert.deepEqual(shown('nothing-like-it'), [])
})

test('key=value matches a label exactly; key= any value of that label', () => {
  assert.deepEqual(shown('env=prod'), ['db-01'])
  assert.deepEqual(shown('env=pro'), [], 'a label filter is not a prefix match')
  assert.deepEqual(shown('role='), ['db-01'])
  assert.deepEqual(shown('Env=prod'), [], 'label names are case-sensitive, as in role rules')
})

test('every word must match', () => {
  assert.deepEqual(shown('env=prod db'), ['db-01'])
  assert.deepEqual(shown('env=prod web'), [])
})
