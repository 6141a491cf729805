// The etcd Backend against real etcd processes (test/helpers/etcd.ts): the shared conformance
// suite on one member, then what only a distributed store shows: leases expiring in real time,
// two backends sharing one etcd, TLS, a member killed in a 3-member cluster, and etcd down.
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Etcd3} from 'etcd3'
import type {EtcdBackendConfig} from '../../../src/backend/index.js'
import {EtcdBackend} from '../../../src/backend/etcd.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {ConnectionProblemError, NotFoundError} from '../../../src/lib/errors.js'
import {freePort} from '../../helpers/daemon.js'
import {enablePasswordAuth, startEtcd, type EtcdCluster} from '../../helpers/etcd.js'
import {eventually} from '../../helpers/eventually.js'
import {backendConformance} from '../../unit/backend/conformance.js'
import {WatchReader, describeEvent, withDeadline} from '../../unit/backend/watch-reader.js'

let prefixes = 0
/** Each backend gets its own prefix, so tests sharing one etcd never see each other's keys. */
function freshPrefix(): string {
  return `/test-${process.pid}-${++prefixes}`
}

function configFor(cluster: EtcdCluster, extra: Partial<EtcdBackendConfig> = {}): EtcdBackendConfig {
  return {type: 'etcd', peers: cluster.peers, prefix: freshPrefix(), ...extra}
}

describe('EtcdBackend on one etcd member', () => {
  let etcd: EtcdCluster
  let admin: Etcd3
  before(async () => {
    etcd = await startEtcd()
    admin = new Etcd3({hosts: etcd.peers})
  })
  after(async () => {
    admin?.close()
    await etcd?.close()
  })

  describe('conformance', () => {
    backendConformance(async () => {
      const clock = new FakeClock()
      const backend = await EtcdBackend.open(configFor(etcd), clock)
      return {
        backend,
        clock,
        sweepExpired: async () => void (await backend.revokeExpiredLeases()),
        // etcd keeps the compaction revision itself: compact one past, so `through` is gone.
        compactChangeLog: async (through) => void (await admin.kv.compact({revision: through + 1, physical: true})),
        dispose: () => backend.close(),
      }
    })
  })

  test('a lease expires in real time: the item disappears and watchers see a delete', async () => {
    const backend = await EtcdBackend.open(configFor(etcd))
    try {
      const reader = new WatchReader(backend.watch({prefixes: ['/sessions/']}))
      await backend.put({key: '/sessions/short', value: '1', expires: new Date(Date.now() + 1000)})
      await backend.put({key: '/sessions/long', value: '2', expires: new Date(Date.now() + 600_000)})
      assert.deepEqual((await reader.take(2)).map(describeEvent), ['put /sessions/short=1', 'put /sessions/long=2'])
      // Nobody sweeps: etcd's lease timer deletes the key (leases last at least 2 s).
      assert.equal(describeEvent(await withDeadline(reader.next(), 'the lease to expire', 15_000)), 'delete /sessions/short')
      await assert.rejects(backend.get('/sessions/short'), NotFoundError)
      assert.equal((await backend.get('/sessions/long')).value, '2')
      const raw = await admin.get(`${(backend as unknown as {keyspace: {prefix: string}}).keyspace.prefix}/sessions/short`).string()
      assert.equal(raw, null, 'the key is gone from etcd, not only hidden')
      reader.watcher.close()
    } finally {
      await backend.close()
    }
  })

  test('two backends on one etcd (two auth servers) share writes and watches', async () => {
    const config = configFor(etcd)
    const one = await EtcdBackend.open(config)
    const two = await EtcdBackend.open(config)
    try {
      const reader = new WatchReader(two.watch({prefixes: ['/users/']}))
      const written = await one.put({key: '/users/alice', value: 'a'})
      assert.deepEqual(await two.get('/users/alice'), written)
      await assert.rejects(two.create({key: '/users/alice', value: 'again'}))
      await two.compareAndSwap('a', {key: '/users/alice', value: 'b'})
      assert.equal((await one.get('/users/alice')).value, 'b')
      assert.deepEqual((await reader.take(2)).map(describeEvent), ['put /users/alice=a', 'put /users/alice=b'])
      reader.watcher.close()
    } finally {
      await one.close()
      await two.close()
    }
  })

  test('keys live under the configured prefix and nowhere else', async () => {
    const config = configFor(etcd)
    const backend = await EtcdBackend.open(config)
    const sibling = await EtcdBackend.open({...config, prefix: `${config.prefix}x`})
    try {
      await backend.put({key: '/a', value: '1'})
      await sibling.put({key: '/a', value: 'sibling'})
      assert.equal(JSON.parse((await admin.get(`${config.prefix}/a`).string())!).v, '1')
      assert.deepEqual((await backend.getRange('')).map((item) => item.value), ['1'])
      assert.equal(await backend.deleteRange('/'), 1)
      assert.equal((await sibling.get('/a')).value, 'sibling')
    } finally {
      await backend.close()
      await sibling.close()
    }
  })

  test('getRange pages through more keys than one request reads', async () => {
    const backend = await EtcdBackend.open(configFor(etcd))
    try {
      const count = 1234
      for (let i = 0; i < count; i += 100) {
        await backend.atomicWrite(
          Array.from({length: Math.min(100, count - i)}, (_, j) => ({op: 'put' as const, item: {key: `/n/${String(i + j).padStart(5, '0')}`, value: 'x'}})),
        )
      }
      const items = await backend.getRange('/n/')
      assert.equal(items.length, count)
      assert.equal(items[count - 1]!.key, `/n/${String(count - 1).padStart(5, '0')}`)
      assert.equal((await backend.getRange('/n/', 700)).length, 700)
    } finally {
      await backend.close()
    }
  })
})

describe('EtcdBackend when etcd is not there', () => {
  test('opening against a port nobody listens on fails with a connection problem, not a hang', async () => {
    const port = await freePort()
    const attempt = EtcdBackend.open({type: 'etcd', peers: [`http://127.0.0.1:${port}`], prefix: '/teleport', callTimeoutMs: 2000})
    const error = await withDeadline(attempt.then(() => undefined, (e: unknown) => e), 'the open to fail', 15_000)
    assert.ok(error instanceof ConnectionProblemError, `expected ConnectionProblemError, got ${String(error)}`)
    assert.match(error.message, new RegExp(`etcd at http://127.0.0.1:${port}`))
  })

  test('a call after etcd died fails with a connection problem', async () => {
    const etcd = await startEtcd()
    const backend = await EtcdBackend.open({...configFor(etcd), callTimeoutMs: 2000})
    try {
      await backend.put({key: '/a', value: '1'})
      await etcd.members[0]!.kill()
      const error = await withDeadline(backend.get('/a').then(() => undefined, (e: unknown) => e), 'the read to fail', 15_000)
      assert.ok(error instanceof ConnectionProblemError, `expected ConnectionProblemError, got ${String(error)}`)
    } finally {
      await backend.close()
      await etcd.close()
    }
  })
})

describe('EtcdBackend over TLS', () => {
  let etcd: EtcdCluster
  before(async () => {
    etcd = await startEtcd({tls: true})
  })
  after(async () => {
    await etcd?.close()
  })

  test('with the client certificate and CA it reads and writes', async () => {
    const tls = etcd.tls!
    const backend = await EtcdBackend.open(configFor(etcd, {tlsCaFile: tls.caFile, tlsCertFile: tls.clientCertFile, tlsKeyFile: tls.clientKeyFile}))
    try {
      await backend.put({key: '/a', value: 'secure'})
      assert.equal((await backend.get('/a')).value, 'secure')
    } finally {
      await backend.close()
    }
  })

  test('without a client certificate etcd refuses the connection', async () => {
    const attempt = EtcdBackend.open(configFor(etcd, {tlsCaFile: etcd.tls!.caFile, callTimeoutMs: 2000}))
    const error = await withDeadline(attempt.then(() => undefined, (e: unknown) => e), 'the open to fail', 15_000)
    assert.ok(error instanceof ConnectionProblemError, `expected ConnectionProblemError, got ${String(error)}`)
  })
})

describe('EtcdBackend with etcd password authentication', () => {
  let etcd: EtcdCluster
  let dir: string
  let passwordFile: string
  const prefix = '/teleport-auth'
  before(async () => {
    etcd = await startEtcd()
    dir = mkdtempSync(join(tmpdir(), 'etcd-auth-'))
    passwordFile = await enablePasswordAuth(etcd, 'teleport', 'correct-horse', prefix, dir)
  })
  after(async () => {
    await etcd?.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('the user from username and password_file reads, writes, expires and watches under its prefix', async () => {
    const backend = await EtcdBackend.open({type: 'etcd', peers: etcd.peers, prefix, username: 'teleport', passwordFile})
    try {
      const reader = new WatchReader(backend.watch())
      await backend.put({key: '/a', value: '1', expires: new Date(Date.now() + 60_000)})
      await backend.create({key: '/b', value: '2'})
      assert.deepEqual((await backend.getRange('')).map((item) => item.key), ['/a', '/b'])
      assert.deepEqual((await reader.take(2)).map(describeEvent), ['put /a=1', 'put /b=2'])
      reader.watcher.close()
    } finally {
      await backend.close()
    }
  })

  test('a wrong password or a prefix the user may not use is refused with one clear error', async () => {
    const wrong = join(dir, 'wrong-password')
    const {writeFileSync} = await import('node:fs')
    writeFileSync(wrong, 'nope\n', {mode: 0o600})
    const bad = await EtcdBackend.open({type: 'etcd', peers: etcd.peers, prefix, username: 'teleport', passwordFile: wrong, callTimeoutMs: 3000}).then(
      () => undefined,
      (e: unknown) => e,
    )
    assert.ok(bad instanceof ConnectionProblemError, `expected ConnectionProblemError, got ${String(bad)}`)
    assert.match(bad.message, /authentication failed/i)
    assert.doesNotMatch(bad.message, /nope/, 'the password is not in the error')
    const elsewhere = await EtcdBackend.open({type: 'etcd', peers: etcd.peers, prefix: '/other', username: 'teleport', passwordFile, callTimeoutMs: 3000}).then(
      () => undefined,
      (e: unknown) => e,
    )
    assert.ok(elsewhere instanceof ConnectionProblemError, `expected ConnectionProblemError, got ${String(elsewhere)}`)
    assert.match(elsewhere.message, /permission denied/i)
  })
})

describe('EtcdBackend on a 3-member cluster', () => {
  let etcd: EtcdCluster
  before(async () => {
    etcd = await startEtcd({size: 3})
  })
  after(async () => {
    await etcd?.close()
  })

  test('reads, writes and watches continue after one member is killed', async () => {
    const writer = await EtcdBackend.open(configFor(etcd))
    const config = configFor(etcd)
    const backend = await EtcdBackend.open(config)
    const watching = await EtcdBackend.open(config)
    try {
      const reader = new WatchReader(watching.watch({prefixes: ['/nodes/']}))
      await backend.put({key: '/nodes/before', value: '1'})
      assert.equal(describeEvent(await reader.next()), 'put /nodes/before=1')

      await etcd.members[0]!.kill()
      // The client may first try the dead member; it moves to the others (bounded wait, no sleep).
      await eventually(async () => (await backend.put({key: '/nodes/after', value: '2'})) && true, 'a write after the kill')
      assert.equal((await backend.get('/nodes/before')).value, '1')
      assert.equal((await watching.get('/nodes/after')).value, '2')
      await backend.create({key: '/nodes/created', value: '3'})
      // A put whose answer was lost to the kill may have been retried: it shows once or twice.
      const seen: string[] = []
      while (!seen.includes('put /nodes/created=3')) seen.push(describeEvent(await reader.next()))
      assert.deepEqual([...new Set(seen)], ['put /nodes/after=2', 'put /nodes/created=3'])
      reader.watcher.close()
    } finally {
      await writer.close()
      await backend.close()
      await watching.close()
    }
  })
})
