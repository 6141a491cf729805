import assert from 'node:assert/strict'
import {afterEach, describe, test} from 'node:test'
import type {ParsedCert} from '../../../src/sshca/index.js'
import {memoryAuthApi, type MemoryAuthApi} from '../../helpers/memory-auth-api.js'

// The auth API in memory is the real one: routes, authorization and services, bodies and errors
// through their wire form.

const open: MemoryAuthApi[] = []
afterEach(async () => {
  for (const cluster of open.splice(0)) await cluster.close()
})

describe('auth API in memory', () => {
  test('calls run the real services; errors arrive as their class and sentence', async () => {
    const cluster = await memoryAuthApi()
    open.push(cluster)
    const {user, invite} = await cluster.api.createUser({name: 'alice', roles: ['access'], traits: {}})
    assert.equal(user.name, 'alice')
    assert.equal(typeof invite.expires, 'string', 'times cross as ISO strings')
    assert.deepEqual((await cluster.api.listUsers()).map((u) => u.name), ['alice'])
    await assert.rejects(cluster.api.getUser('bob'), {name: 'NotFoundError'})
    assert.deepEqual(cluster.calls, ['POST /v1/users', 'GET /v1/users', 'GET /v1/users/bob'])
  })

  test('the caller is authorized as its identity', async () => {
    const cluster = await memoryAuthApi({identity: {kind: 'host', hostId: 'node-1', role: 'Node', remoteAddr: '127.0.0.1', cert: {} as ParsedCert}})
    open.push(cluster)
    await assert.rejects(cluster.api.listUsers(), {name: 'AccessDeniedError', message: 'access denied to perform action "list" on "user"'})
    assert.equal((await cluster.api.ping()).clusterName, 'example.com')
  })
})
