import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import type {AccessCache} from '../../../../src/daemon/common/access-cache.js'
import type {NodeContext} from '../../../../src/daemon/node/context.js'
import {OpenSessions} from '../../../../src/daemon/node/open-sessions.js'
import {processUser} from '../../../../src/daemon/node/os-login.js'
import type {RoleCache} from '../../../../src/daemon/common/role-cache.js'
import {NodeSshServer} from '../../../../src/daemon/node/ssh-server.js'
import {newRole} from '../../../../src/services/roles.js'
import {generateKeyPair, signHostCert, signUserCert} from '../../../../src/sshca/index.js'
import {certAuthOptions, hostCertVerifier} from '../../../../src/ssh/index.js'
import {duplexPair} from '../../../helpers/duplex-pair.js'
import {memoryLogger} from '../../../helpers/memory-logger.js'
import type {NodeAuthApi} from '../../../../src/api/auth-api.js'
import {SessionRecorder} from '../../../../src/daemon/node/recording/session-recorder.js'
import type {RecordingUploader} from '../../../../src/daemon/node/recording/uploader.js'
import {systemClock} from '../../../../src/lib/clock.js'

// The node's SSH server takes a connection handed to it: here one end of an in-memory stream
// pair, with a real ssh2 client on the other end. No port is bound; the client's address the
// session sees is the one the connection was handed in with.

const CLUSTER = 'example.com'
const HOST_ID = '0d1e2f30-0000-4000-8000-000000000001'

describe('node SSH server on a handed connection', () => {
  const userCA = generateKeyPair()
  const hostCA = generateKeyPair()
  const hostKey = generateKeyPair()
  const login = processUser().name
  const dir = mkdtempSync(path.join(tmpdir(), 'handed-node-'))
  const log = memoryLogger()
  const events: string[] = []
  const node: NodeContext = {
    hostUuid: HOST_ID,
    nodeName: 'node-1',
    clusterName: CLUSTER,
    userCAs: () => [userCA.publicKey],
    hostCAs: () => [hostCA.publicKey],
    proxyWebAddr: () => '',
    labels: () => ({env: 'test'}),
    roles: {getRoles: async () => [newRole('ops', {allow: {logins: [login], node_labels: {'*': '*'}}})]} as unknown as RoleCache,
    access: {check: async () => undefined, refusal: () => undefined} as unknown as AccessCache,
    emit: (name) => void events.push(name),
    openSessions: new OpenSessions(path.join(dir, 'sessions'), async () => {}, log),
    recorder: new SessionRecorder({mode: () => 'off', uploader: {} as RecordingUploader, api: {} as NodeAuthApi, delivered: async () => {}, log}),
    trackSession: () => ({}),
    log,
    clock: systemClock,
  }
  const server = new NodeSshServer({
    node,
    hostKey: {
      privateKey: hostKey.privateKey,
      certificate: signHostCert({caPrivateKey: hostCA.privateKey, publicKey: hostKey.publicKey, keyId: HOST_ID, principals: [HOST_ID, 'node-1'], role: 'Node', authority: CLUSTER}),
    },
  })
  after(async () => {
    await server.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('a real ssh2 client logs in and runs a command; SSH_CLIENT is the handed remote endpoint', async () => {
    const [clientEnd, serverEnd] = duplexPair()
    server.handle({stream: serverEnd, local: {host: '192.0.2.10', port: 3022}, remote: {host: '::ffff:203.0.113.7', port: 40022}})

    const key = generateKeyPair()
    const certificate = signUserCert({caPrivateKey: userCA.privateKey, publicKey: key.publicKey, keyId: 'alice', principals: [login], ttlMs: 3600_000, roles: ['ops'], traits: {}, routeToCluster: CLUSTER})
    const client = new ssh2.Client()
    const verifier = hostCertVerifier({trustedHostCAs: [hostCA.publicKey], hostname: 'node-1'})
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve())
      client.once('error', (err) => reject(verifier.explain(err)))
      client.connect({sock: clientEnd as never, readyTimeout: 20_000, ...verifier.connectOptions(), ...certAuthOptions({username: login, privateKey: key.privateKey, certificate})})
    })
    try {
      const output = await new Promise<{out: string; code: number | undefined}>((resolve, reject) =>
        client.exec('echo "$SSH_CLIENT"', (err, channel) => {
          if (err) return reject(err)
          let out = ''
          let code: number | undefined
          channel.on('data', (d: Buffer) => (out += d.toString()))
          channel.on('exit', (c: number) => (code = c))
          channel.on('close', () => resolve({out, code}))
        }),
      )
      assert.equal(output.code, 0)
      assert.equal(output.out.trim(), '203.0.113.7 40022 3022')
      assert.ok(events.includes('session.start'), events.join(','))
    } finally {
      client.end()
    }
  })
})
