import assert from 'node:assert/strict'
import {createHash, randomUUID} from 'node:crypto'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Readable} from 'node:stream'
import {after, before, describe, test} from 'node:test'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {ApiClient} from '../../../src/api/client.js'
import {startAuthService, type RunningAuthService} from '../../../src/daemon/auth/auth-service.js'
import {EventCode, EventName} from '../../../src/events/index.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {adminApi, testAuthConfig} from '../../helpers/auth.js'

// Two auth servers of one cluster (one store) with audit_events_uri and audit_sessions_uri on one
// shared directory: an event written through either is found through both, and a recording a
// node uploaded to one plays through the other.

async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk)
  return Buffer.concat(chunks)
}

describe('two auth servers sharing the audit log and recordings directories', {timeout: 60_000}, () => {
  const root = mkdtempSync(path.join(tmpdir(), 'shared-audit-'))
  const events = path.join(root, 'shared', 'events')
  const records = path.join(root, 'shared', 'records')
  const auths: RunningAuthService[] = []
  const admins: AuthApi[] = []
  const clients: AuthApi[] = []

  before(async () => {
    for (const name of ['a', 'b']) {
      const dataDir = path.join(root, name)
      const config = testAuthConfig(dataDir, {nodeName: `auth-${name}`, storage: {type: 'sqlite', path: path.join(root, 'shared.db')}, auditEventsDir: events, auditSessionsDir: records})
      const auth = await startAuthService(config)
      auths.push(auth)
      admins.push(adminApi(dataDir, auth.address.port))
    }
  })
  after(async () => {
    for (const client of [...clients, ...admins]) await client.close()
    for (const auth of auths) await auth.close()
    rmSync(root, {recursive: true, force: true})
  })

  /** A node's auth API client to auth server `index`, with a host certificate issued for `hostId`. */
  async function nodeTo(index: number, hostId: string): Promise<AuthApi> {
    const key = generateKeyPair()
    const certificate = await auths[0]!.auth.issueHostCert({hostId, nodeName: hostId, role: 'Node', publicKey: key.publicKey})
    const client = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: auths[index]!.address.port, credentials: {privateKey: key.privateKey, certificate}, trust: {hostCAs: await auths[0]!.auth.caKeys('host')}}))
    clients.push(client)
    return client
  }
  const range = () => ({from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 3600_000)})

  test('an event written through A is found through B, and one through B through A; each server writes only its own files', async () => {
    const [a, b] = [await nodeTo(0, 'node-a'), await nodeTo(1, 'node-b')]
    const [sidA, sidB] = [randomUUID(), randomUUID()]
    await a.emitEvent({event: EventName.SessionStart, code: EventCode.SessionStart, sid: sidA, user: 'alice', login: 'root', size: '80:24', time: new Date().toISOString()})
    await b.emitEvent({event: EventName.SessionStart, code: EventCode.SessionStart, sid: sidB, user: 'bob', login: 'root', size: '80:24', time: new Date().toISOString()})
    for (const admin of admins) {
      const found = (await admin.searchEvents({...range(), types: [EventName.SessionStart]})).events.map((e) => e.sid)
      assert.deepEqual(found.sort(), [sidA, sidB].sort())
    }
    const writers = new Set(readdirSync(events).map((name) => /^\d{4}-\d\d-\d\d\.([\w-]+)\.log$/.exec(name)?.[1]))
    assert.deepEqual(writers, new Set(auths.map((auth) => auth.hostUuid)), 'one file per auth server, named by its host UUID')
  })

  test('a recording uploaded to A plays through B, and the node may resume its upload at B', async () => {
    const node = await nodeTo(0, 'node-r')
    const sid = randomUUID()
    await node.emitEvent({event: EventName.SessionStart, code: EventCode.SessionStart, sid, user: 'alice', login: 'root', size: '80:24', time: new Date().toISOString()})
    const first = Buffer.from('{"event":"print","data":"first"}\n')
    const second = Buffer.from('{"event":"print","data":"second"}\n')
    assert.deepEqual(await node.appendRecording(sid, 0, Readable.from([first])), {bytes: first.length})
    // The node's auth server goes away: it carries on with the other, which sees what A stored.
    const atB = await nodeTo(1, 'node-r')
    assert.deepEqual(await atB.recordingUploaded(sid), {bytes: first.length})
    assert.deepEqual(await atB.appendRecording(sid, first.length, Readable.from([second])), {bytes: first.length + second.length})
    const whole = Buffer.concat([first, second])
    assert.deepEqual(await atB.completeRecording(sid, {size: whole.length, sha256: createHash('sha256').update(whole).digest('hex')}), {sid, size: whole.length, complete: true})
    for (const admin of admins) assert.deepEqual(await readAll(await admin.openRecording(sid)), whole)
    assert.ok(readdirSync(records).includes(`${sid}.rec`), 'in the shared directory')
  })
})
