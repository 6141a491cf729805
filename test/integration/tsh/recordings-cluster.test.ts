import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {createReadStream, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {ApiClient} from '../../../src/api/client.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {EventCode, EventName} from '../../../src/events/index.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {recordFile} from '../../unit/client/play/helpers.js'
import {startTshCluster, tempDir, TIMEOUT_MS, tsh, type TshCluster} from './helpers.js'

// The real bin/tsh against a running cluster (auth over SSH, the proxy's pipe to the auth API):
// a node uploads a session it ran; an auditor lists, downloads, plays and exports it; a user
// whose roles do not allow it is refused in one line.

describe('tsh recordings and tsh play through the proxy', {timeout: 5 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let auditorHome: string
  let outsiderHome: string
  let sid: string
  let recording: string
  let work: string

  before(async () => {
    cluster = await startTshCluster([])
    // A login of their own, so that auth signs them a certificate; it grants nothing over sessions.
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'shell'}, spec: {allow: {logins: ['nobody']}}}, {create: true})
    await cluster.admin.createUser({name: 'ann', roles: ['auditor', 'shell'], traits: {}})
    await cluster.admin.createUser({name: 'sam', roles: ['access', 'shell'], traits: {}})
    auditorHome = await cluster.login('ann')
    outsiderHome = await cluster.login('sam')
    work = tempDir('recordings')
    cluster.homes.push(work)

    // As a node does: session.start to the audit log, the recording uploaded, session.end.
    const hostId = randomUUID()
    const key = generateKeyPair()
    const certificate = await cluster.auth.auth.issueHostCert({hostId, nodeName: 'node-1', role: 'Node', publicKey: key.publicKey})
    const hostCAs = await cluster.auth.auth.caKeys('host')
    const node = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.auth.address.port, credentials: {privateKey: key.privateKey, certificate}, trust: {hostCAs}}))
    sid = randomUUID()
    const started = new Date().toISOString()
    await node.emitEvent({event: EventName.SessionStart, code: EventCode.SessionStart, sid, user: 'alice', login: 'root', size: '80:25', time: started, server_hostname: 'node-1'})
    recording = await recordFile(work, [{at: 0, print: '$ cat notes\r\n'}, {at: 800, print: 'secret plans\r\n'}, {at: 1500, resize: '120:40'}])
    await node.appendRecording(sid, 0, createReadStream(recording))
    await node.completeRecording(sid, {size: statSync(recording).size})
    await node.emitEvent({event: EventName.SessionEnd, code: EventCode.SessionEnd, sid, user: 'alice', participants: ['alice'], session_start: started, session_stop: new Date().toISOString(), interactive: true, time: new Date().toISOString(), server_hostname: 'node-1'})
    await node.close()
  })
  after(async () => {
    await cluster?.close()
  })

  test('tsh recordings ls shows the session (text and json)', async () => {
    const text = await tsh(auditorHome, ['recordings', 'ls'])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /^ID\s+Type\s+Participants\s+Hostname\s+Timestamp\n/)
    assert.match(text.stdout, new RegExp(`\\n${sid} ssh\\s+alice\\s+node-1\\s+\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z\\n`))
    const json = await tsh(auditorHome, ['recordings', 'list', '-f', 'json', '--last', '1h'])
    assert.equal(json.code, 0, json.stderr)
    const ends = JSON.parse(json.stdout) as {sid: string; event: string}[]
    assert.deepEqual(ends.map((e) => [e.sid, e.event]), [[sid, 'session.end']])
  })

  test('tsh recordings download writes the exact bytes (0600); tsh play -f text <sid> streams the output', async () => {
    const out = path.join(work, 'got.tsrec')
    const download = await tsh(auditorHome, ['recordings', 'download', sid, '--output', out])
    assert.equal(download.code, 0, download.stderr)
    assert.deepEqual(readFileSync(out), readFileSync(recording))
    assert.equal(statSync(out).mode & 0o777, 0o600)
    const again = await tsh(auditorHome, ['recordings', 'download', sid, '--output', out])
    assert.equal(again.code, 1)
    assert.equal(again.stderr, `ERROR: ${out} already exists (choose another file with -o, or pass --force to replace it)\n`)
    const played = await tsh(auditorHome, ['play', '-f', 'text', sid])
    assert.equal(played.code, 0, played.stderr)
    assert.equal(played.stdout, '$ cat notes\r\nsecret plans\r\n')
  })

  test('tsh recordings export <sid> is asciicast with the size from session.start', async () => {
    const cast = await tsh(auditorHome, ['recordings', 'export', sid])
    assert.equal(cast.code, 0, cast.stderr)
    const [header, ...lines] = cast.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)
    assert.deepEqual(header, {version: 2, width: 80, height: 25, timestamp: Math.floor(Date.UTC(2026, 10, 21, 9, 30) / 1000)})
    assert.deepEqual(lines, [[0, 'o', '$ cat notes\r\n'], [0.8, 'o', 'secret plans\r\n'], [1.5, 'r', '120x40']])
  })

  test('a user whose roles do not allow it, and an unknown session: one line each, exit 1', async () => {
    const denied = await tsh(outsiderHome, ['play', '-f', 'text', sid])
    assert.equal(denied.code, 1)
    assert.equal(denied.stdout, '')
    assert.match(denied.stderr, /^ERROR: access denied[^\n]*\n$/)
    const unknown = randomUUID()
    const missing = await tsh(auditorHome, ['play', '-f', 'text', unknown])
    assert.equal(missing.code, 1)
    assert.equal(missing.stderr, `ERROR: recording ${unknown} not found\n`)
  })
})
