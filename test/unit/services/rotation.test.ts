import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import type {CertAuthority} from '../../../src/services/cas.js'
import {allowedPhases, dueAutoPhase, hostCertOutdated, nextAutoStepAt, rotate, type RotationStep} from '../../../src/services/rotation.js'

let n = 0
const key = () => (n++, {publicKey: `ssh-ed25519 AAAAkey${n}`, privateKey: `private${n}`})
const OLD = {publicKey: 'ssh-ed25519 AAAAold', privateKey: 'private-old'}
const standby: CertAuthority = {type: 'user', clusterName: 'example.com', activeKeys: [OLD], additionalTrustedKeys: []}
const now = new Date('2026-01-01T00:00:00Z')
const manual = (phase: RotationStep['phase']): RotationStep => ({phase, mode: 'manual', gracePeriodMs: 3 * 3600_000, now, newKey: key})

describe('CA rotation phases', () => {
  test('a full manual rotation moves the keys as Teleport does and drops the old key at the end', () => {
    const init = rotate(standby, manual('init'))
    assert.equal(init.rotation?.phase, 'init')
    assert.deepEqual(init.activeKeys, [OLD], 'init: the old key still signs')
    const fresh = init.additionalTrustedKeys[0]!
    assert.ok(fresh.privateKey, 'the new key is kept with its private half, ready to sign')
    const clients = rotate(init, manual('update_clients'))
    assert.deepEqual(clients.activeKeys, [fresh], 'update_clients: the new key signs')
    assert.deepEqual(clients.additionalTrustedKeys, [OLD], 'and the old one stays trusted')
    const servers = rotate(clients, manual('update_servers'))
    assert.deepEqual([servers.activeKeys, servers.additionalTrustedKeys], [[fresh], [OLD]])
    const done = rotate(servers, manual('standby'))
    assert.deepEqual([done.activeKeys, done.additionalTrustedKeys], [[fresh], []])
    assert.equal(done.rotation?.phase, 'standby')
    assert.equal(done.rotation?.lastRotated, now.toISOString())
  })

  test('rollback from any phase before the last step brings the old key back to sign; standby then drops the new one', () => {
    for (const upTo of ['init', 'update_clients', 'update_servers'] as const) {
      let ca = rotate(standby, manual('init'))
      const fresh = ca.additionalTrustedKeys[0]!
      if (upTo !== 'init') ca = rotate(ca, manual('update_clients'))
      if (upTo === 'update_servers') ca = rotate(ca, manual('update_servers'))
      const back = rotate(ca, manual('rollback'))
      assert.deepEqual([back.activeKeys, back.additionalTrustedKeys], [[OLD], [fresh]], `rollback from ${upTo}`)
      const end = rotate(back, manual('standby'))
      assert.deepEqual([end.activeKeys, end.additionalTrustedKeys, end.rotation?.lastRotated], [[OLD], [], undefined])
    }
  })

  test('steps out of order are refused with the phases allowed', () => {
    assert.throws(() => rotate(standby, manual('update_servers')), {name: 'BadParameterError', message: 'the user CA cannot go from phase "standby" to "update_servers"', hint: 'the next phase may be "init"'})
    assert.throws(() => rotate(standby, manual('rollback')), {name: 'BadParameterError'})
    const init = rotate(standby, manual('init'))
    assert.throws(() => rotate(init, manual('standby')), {hint: 'the next phase may be "update_clients" or "rollback"'})
    assert.throws(() => rotate(init, {mode: 'auto', gracePeriodMs: 1000, now, newKey: key}), {message: 'the user CA is already rotating (phase "init")'})
    assert.deepEqual(allowedPhases('rollback'), ['standby'])
  })

  test('an automatic rotation splits the grace period evenly over its three steps', () => {
    const init = rotate(standby, {mode: 'auto', gracePeriodMs: 3 * 3600_000, now, newKey: key})
    assert.deepEqual(init.rotation?.schedule, {updateClients: '2026-01-01T01:00:00.000Z', updateServers: '2026-01-01T02:00:00.000Z', standby: '2026-01-01T03:00:00.000Z'})
    assert.equal(nextAutoStepAt(init), Date.parse('2026-01-01T01:00:00Z'))
    assert.equal(dueAutoPhase(init, new Date('2026-01-01T00:59:59Z')), undefined)
    assert.equal(dueAutoPhase(init, new Date('2026-01-01T01:00:00Z')), 'update_clients')
    // A manual step takes it over: no schedule is left to follow.
    const taken = rotate(init, manual('update_clients'))
    assert.equal(taken.rotation?.schedule, undefined)
    assert.equal(nextAutoStepAt(taken), undefined)
  })

  test('hosts renew their certificate once servers switch, not before', () => {
    assert.equal(hostCertOutdated('init', 'ssh-ed25519 AAAAnew', 'ssh-ed25519 AAAAold'), false)
    assert.equal(hostCertOutdated('update_clients', 'ssh-ed25519 AAAAnew', 'ssh-ed25519 AAAAold'), false)
    assert.equal(hostCertOutdated('update_servers', 'ssh-ed25519 AAAAnew comment', 'ssh-ed25519 AAAAold'), true)
    assert.equal(hostCertOutdated('update_servers', 'ssh-ed25519 AAAAnew comment', 'ssh-ed25519 AAAAnew'), false)
    assert.equal(hostCertOutdated('rollback', 'ssh-ed25519 AAAAold', 'ssh-ed25519 AAAAnew'), true)
  })
})
