import assert from 'node:assert/strict'
import {createHash, randomUUID} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {after, before, describe, test} from 'node:test'
import {ApiClient} from '../../../src/api/client.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import type {AuthApi} from '../../../src/api/auth-api.js'
import type {RunningAuthService} from '../../../src/daemon/auth/auth-service.js'
import {EventCode, EventName} from '../../../src/events/index.js'
import {AccessDeniedError, CompareFailedError} from '../../../src/lib/errors.js'
import {generateKeyPair, signUserCert} from '../../../src/sshca/index.js'
import {startTestAuth} from '../../helpers/auth.js'

// Session recordings through the auth API over its real transport (SSH to a running auth
// service): the node that ran a session uploads it, resuming where auth stopped; nobody else may;
// admins and auditors download it, `access` users may not.

async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** `count` bytes of a fixed pattern in 64 KiB pieces, made as they are read. */
function* pattern(count: number): Generator<Buffer> {
  for (let sent = 0; sent < count; sent += 65_536) yield Buffer.alloc(Math.min(65_536, count - sent), (sent / 65_536) % 251)
}

describe('auth API: session recordings', () => {
  let dataDir: string
  let running: RunningAuthService
  let admin: AuthApi
  const clients: AuthApi[] = []
  let hostCAs: string[]

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'recordings-api-'))
    ;({auth: running, admin} = await startTestAuth(dataDir))
    hostCAs = await running.auth.caKeys('host')
    for (const [name, roles] of [['ann', ['auditor']], ['sam', ['access']]] as const) await running.auth.createUser({name, roles: [...roles], traits: {}}, {user: 'admin'})
  })
  after(async () => {
    for (const client of clients) await client.close()
    await admin.close()
    await running.close()
    rmSync(dataDir, {recursive: true, force: true})
  })

  const connect = (credentials: {privateKey: string; certificate: string}) => {
    const client = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: running.address.port, credentials, trust: {hostCAs}}))
    clients.push(client)
    return client
  }

  async function node(hostId: string): Promise<AuthApi> {
    const key = generateKeyPair()
    const certificate = await running.auth.issueHostCert({hostId, nodeName: hostId, role: 'Node', publicKey: key.publicKey})
    return connect({privateKey: key.privateKey, certificate})
  }

  async function user(name: string, roles: string[]): Promise<AuthApi> {
    const key = generateKeyPair()
    const ca = await running.auth.cas.get('user', 'example.com', {withSecrets: true})
    const caPrivateKey = ca.activeKeys.find((k) => k.privateKey)!.privateKey!
    const certificate = signUserCert({caPrivateKey, publicKey: key.publicKey, keyId: name, principals: [name], ttlMs: 3600_000, roles, traits: {}, routeToCluster: 'example.com'})
    return connect({privateKey: key.privateKey, certificate})
  }

  /** A session `hostId` ran: its session.start as the node reports it. */
  async function sessionOn(api: AuthApi): Promise<string> {
    const sid = randomUUID()
    await api.emitEvent({event: EventName.SessionStart, code: EventCode.SessionStart, sid, user: 'alice', login: 'root', size: '80:24', time: new Date().toISOString()})
    return sid
  }

  test('the node that ran a session uploads it in two appends with a resume, completes it, and session.upload is audited', async () => {
    const api = await node('node-1')
    const sid = await sessionOn(api)
    const first = Buffer.from('first part of the recording\n')
    const second = Buffer.from('second part\n')
    assert.deepEqual(await api.recordingUploaded(sid), {bytes: 0})
    assert.deepEqual(await api.appendRecording(sid, 0, Readable.from([first])), {bytes: first.length})
    // The uploader lost the reply and resends from 0: refused with the size auth has.
    await assert.rejects(api.appendRecording(sid, 0, Readable.from([first])), (err: Error) => {
      assert.ok(err instanceof CompareFailedError, String(err))
      assert.match(err.message, new RegExp(`resume from ${first.length}`))
      return true
    })
    const {bytes} = await api.recordingUploaded(sid)
    assert.equal(bytes, first.length)
    assert.deepEqual(await api.appendRecording(sid, bytes, Readable.from([second])), {bytes: first.length + second.length})
    const whole = Buffer.concat([first, second])
    const sha256 = createHash('sha256').update(whole).digest('hex')
    assert.deepEqual(await api.completeRecording(sid, {size: whole.length, sha256}), {sid, size: whole.length, complete: true})
    assert.deepEqual(await api.completeRecording(sid, {size: whole.length}), {sid, size: whole.length, complete: true}, 'a repeated completion is harmless')

    const range = {from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 3600_000)}
    const uploads = (await admin.searchEvents({...range, types: [EventName.SessionUpload], sid})).events
    assert.equal(uploads.length, 1, 'audited once, on the first completion')
    assert.equal(uploads[0]!.code, EventCode.SessionUpload)
    assert.equal(uploads[0]!.sid, sid)
    assert.equal(uploads[0]!.size, whole.length)
    assert.equal(uploads[0]!.url, `/v1/recordings/${sid}`)

    assert.deepEqual(await readAll(await admin.openRecording(sid)), whole)
    assert.deepEqual(await readAll(await admin.openRecording(sid, {from: first.length})), second)
  })

  test('another node, and the admin identity, may not upload a session they did not run; the refusal is audited', async () => {
    const owner = await node('node-2')
    const sid = await sessionOn(owner)
    const other = await node('node-3')
    for (const call of [() => other.recordingUploaded(sid), () => other.appendRecording(sid, 0, Readable.from([Buffer.from('forged')])), () => other.completeRecording(sid, {size: 0})]) {
      await assert.rejects(call(), (err: Error) => {
        assert.ok(err instanceof AccessDeniedError, String(err))
        assert.match(err.message, new RegExp(`host node-3 did not run session ${sid}`))
        return true
      })
    }
    const range = {from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 3600_000)}
    const refusals = (await admin.searchEvents({...range, types: [EventName.AuthAttempt]})).events.filter((e) => String(e.error).includes(sid))
    assert.equal(refusals.length, 3)
    assert.equal((await owner.recordingUploaded(sid)).bytes, 0, 'nothing was written')
    await assert.rejects(admin.recordingUploaded(sid), AccessDeniedError)
  })

  test('an access user is refused the download; an auditor and the admin get the exact bytes', async () => {
    const api = await node('node-4')
    const sid = await sessionOn(api)
    const bytes = Buffer.from('\x1b[31mred\x1b[0m and \u00e9 bytes\r\n')
    await api.appendRecording(sid, 0, Readable.from([bytes]))
    await api.completeRecording(sid, {size: bytes.length})
    await assert.rejects((await user('sam', ['access'])).openRecording(sid), (err: Error) => {
      assert.ok(err instanceof AccessDeniedError, String(err))
      assert.match(err.message, /read.*session/)
      return true
    })
    assert.deepEqual(await readAll(await (await user('ann', ['auditor'])).openRecording(sid)), bytes)
    assert.deepEqual(await readAll(await admin.openRecording(sid)), bytes)
  })

  test('a 16 MiB recording streams up and down', async () => {
    const size = 16 * 1024 * 1024
    const api = await node('node-5')
    const sid = await sessionOn(api)
    const digest = createHash('sha256')
    for (const chunk of pattern(size)) digest.update(chunk)
    const sha256 = digest.digest('hex')
    assert.deepEqual(await api.appendRecording(sid, 0, Readable.from(pattern(size))), {bytes: size})
    assert.equal((await api.completeRecording(sid, {size, sha256})).size, size)
    const down = createHash('sha256')
    let received = 0
    for await (const chunk of await admin.openRecording(sid)) {
      down.update(chunk as Buffer)
      received += (chunk as Buffer).length
    }
    assert.equal(received, size)
    assert.equal(down.digest('hex'), sha256)
  })
})
