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
import {AccessDeniedError, CompareFailedError, NotFoundError} from '../../../src/lib/errors.js'
import {generateKeyPair, signUserCert} from '../../../src/sshca/index.js'
import {startTestAuth} from '../../helpers/auth.js'

// Session recordings through the auth API over its real transport (SSH to a running auth
// service): the node that ran a session uploads it, resuming where auth stopped; nobody else may;
// admins and auditors list and download every one, `access` users only the sessions they took
// part in, others none; every refusal is audited.

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
    for (const [name, roles] of [['ann', ['auditor']], ['sam', ['access']], ['eve', ['editor']]] as const) await running.auth.createUser({name, roles: [...roles], traits: {}}, {user: 'admin'})
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

  test("an access user is refused another user's session; an auditor and the admin get the exact bytes", async () => {
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

  describe('who may list and play', () => {
    const range = () => ({from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 3600_000)})
    /** Five ended sessions; sam took part in the first, third and fifth. */
    const ended: {sid: string; user: string; participants: string[]; bytes: Buffer}[] = []
    let stillRunning: string

    before(async () => {
      const api = await node('node-6')
      for (const [user, participants] of [['bob', ['bob', 'sam']], ['bob', ['bob']], ['sam', ['sam']], ['carol', ['carol']], ['carol', ['carol', 'bob', 'sam']]] as const) {
        const sid = randomUUID()
        const bytes = Buffer.from(`${user}'s session\r\n`)
        await api.emitEvent({event: EventName.SessionStart, code: EventCode.SessionStart, sid, user, login: 'root', size: '80:24', time: new Date().toISOString()})
        await api.appendRecording(sid, 0, Readable.from([bytes]))
        await api.completeRecording(sid, {size: bytes.length})
        await api.emitEvent({event: EventName.SessionEnd, code: EventCode.SessionEnd, sid, user, participants: [...participants], time: new Date().toISOString()})
        ended.push({sid, user, participants: [...participants], bytes})
      }
      // sam's session still running: no session.end yet, its recording not uploaded.
      stillRunning = randomUUID()
      await api.emitEvent({event: EventName.SessionStart, code: EventCode.SessionStart, sid: stillRunning, user: 'sam', login: 'root', size: '80:24', time: new Date().toISOString()})
    })

    /** Every page of listRecordings, `limit` at a time, as sids of the sessions above. */
    async function listed(api: AuthApi, limit: number): Promise<string[][]> {
      const ours = new Set(ended.map((e) => e.sid))
      const pages: string[][] = []
      let startKey: string | undefined
      do {
        const page = await api.listRecordings({...range(), limit, ...(startKey ? {startKey} : {})})
        pages.push(page.events.map((e) => String(e.sid)).filter((sid) => ours.has(sid)))
        startKey = page.nextKey
      } while (startKey !== undefined)
      return pages
    }

    test('an auditor lists every session, newest first, and plays any', async () => {
      const ann = await user('ann', ['auditor'])
      assert.deepEqual((await listed(ann, 50)).flat(), ended.map((e) => e.sid).reverse())
      for (const e of ended) assert.deepEqual(await readAll(await ann.openRecording(e.sid)), e.bytes)
    })

    test('an access user lists only the sessions it took part in, a full page at a time, and plays them', async () => {
      const sam = await user('sam', ['access'])
      const hers = ended.filter((e) => e.participants.includes('sam'))
      assert.deepEqual(await listed(sam, 2), [[hers[2]!.sid, hers[1]!.sid], [hers[0]!.sid]], 'pages filled past the sessions it may not see')
      const page = await sam.listRecordings({...range(), limit: 10})
      assert.ok(page.events.every((e) => (e.participants as string[]).includes('sam')), 'nobody else\'s session.end')
      for (const e of hers) assert.deepEqual(await readAll(await sam.openRecording(e.sid)), e.bytes)
      // Still running, no session.end: its session.start says it is sam's, so sam hears there is no recording yet.
      await assert.rejects(sam.openRecording(stillRunning), NotFoundError)
    })

    test("an access user may not play another user's session: told which, and the refusal is audited", async () => {
      const sam = await user('sam', ['access'])
      const others = ended.filter((e) => !e.participants.includes('sam'))
      for (const e of others) {
        await assert.rejects(sam.openRecording(e.sid), (err: Error) => {
          assert.ok(err instanceof AccessDeniedError, String(err))
          assert.equal(err.message, `access denied to read session ${e.sid}`)
          return true
        })
      }
      // A session nobody ran is refused the same way: its existence is not told.
      const unknown = randomUUID()
      await assert.rejects(sam.openRecording(unknown), {message: `access denied to read session ${unknown}`})
      const refusals = (await admin.searchEvents({...range(), types: [EventName.AuthAttempt]})).events.filter((e) => e.user === 'sam' && e.action === 'read session')
      for (const sid of [...others.map((e) => e.sid), unknown]) {
        const found = refusals.filter((e) => String(e.error).startsWith(`session ${sid}:`))
        assert.equal(found.length, 1, `one refusal audited for ${sid}`)
        assert.equal(found[0]!.code, EventCode.AuthAttemptFailure)
        assert.equal(found[0]!.success, false)
      }
    })

    test('a user with no session rule may neither list nor play, audited', async () => {
      const eve = await user('eve', ['editor'])
      await assert.rejects(eve.listRecordings(range()), {name: 'AccessDeniedError', message: 'access denied to perform action "list" on "session"'})
      await assert.rejects(eve.openRecording(ended[0]!.sid), {name: 'AccessDeniedError', message: 'access denied to perform action "read" on "session"'})
      const refusals = (await admin.searchEvents({...range(), types: [EventName.AuthAttempt]})).events.filter((e) => e.user === 'eve')
      assert.deepEqual(refusals.map((e) => e.action).sort(), ['list session', 'read session'])
    })
  })
})
