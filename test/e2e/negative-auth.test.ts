import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Agent, request} from 'undici'
import type {ApiCredentials} from '../../src/api/client.js'
import type {AuthApi} from '../../src/api/auth-api.js'
import {readIdentityFile} from '../../src/api/identity-file.js'
import {dataDirPaths} from '../../src/config/data-dir.js'
import {generateTotpCode} from '../../src/services/totp.js'
import {generateKeyPair, signHostCert, signUserCert, type UserCertRequest} from '../../src/sshca/index.js'
import {generateTlsCA, signX509UserCert} from '../../src/sshca/x509.js'
import {AuditLogReader} from '../helpers/audit-log.js'
import {authApiAttempt, opensshLogin, proxySubsystemCommand, ssh2Attempt, ssh2CertLogin, tlsRelayAttempt, type Attempt} from '../helpers/auth-attempts.js'
import {adminApi} from '../helpers/auth.js'
import {authFailure, checkRow, type ExpectedEvent, type MatrixRow as Row} from '../helpers/auth-matrix.js'
import {runTool, tctlOk} from '../helpers/cli.js'
import {addJoinTokenInThePast, caKeyPair} from '../helpers/cluster-backend.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {keygenWithCriticalOption, tamperCert} from '../helpers/forge-cert.js'
import {readUserToken, redeemUserToken, tokenOf, webCaller} from '../helpers/invite-page.js'
import {LOGIN, tempDir, writeKeyFiles} from '../interop/helpers.js'

// The negative-authentication matrix (issue #7): every way in that must stay shut, tried against
// one real `teleport start` cluster (auth, proxy and node in one process) at the node directly,
// through the proxy (stock OpenSSH with the proxy's subsystem as ProxyCommand, the same
// credentials at both hops; ssh2 for certificates OpenSSH refuses to send), at the auth API and
// at the proxy's web API and pages. Each row must be refused AND leave one audit event saying who
// (`user`), as whom (`login`) and why (`error`).
//
// A row (test/helpers/auth-matrix.ts) is: what is tried, what the client must be told, and the
// audit event expected, or why none can exist. Rows for defences not built yet, and refusals found
// not audited as they should be, carry `todo` with the reason: they run and report but do not
// fail the suite, and turn on by deleting the `todo`. Adding a case is adding a row.

const CLUSTER = 'neg.local'
const NODE = 'neg-node'
const PASSWORD = 'matrix password 1'
const insecure = new Agent({connect: {rejectUnauthorized: false}})
/** How long a row waits for its audit event; a todo row expected to fail gives up sooner. */
const AUDIT_WAIT_MS = 20_000
const TODO_AUDIT_WAIT_MS = 500
/** Nodes and proxies poll auth for locks every 2.5 s; a lock must be in force within this. */
const LOCK_REACH_MS = 15_000
const HOUR = 3_600_000

// Every defence of the matrix is built: a row that is not refused and audited fails the suite.
// (A future finding goes here with its reason and `todo: TODO.<name>` on its rows.)
const TODO = {
  proxyQueryAudit: false,
  authApiUser: false,
  passwordNone: false,
  deleted: false,
  locks: false,
  singleUse: false,
  webFormAudit: false,
  proxyHostRoute: false,
  registration: false,
  nodeEvents: false,
} as const

/** A private key file for OpenSSH, with its certificate beside it (KEY-cert.pub) or none. */
interface SshCredentials {
  keyPath: string
  withCertificate?: boolean
}

describe('negative-authentication matrix', {timeout: 600_000}, () => {
  const dir = tempDir('negative-auth')
  const data = path.join(dir.path, 'data')
  const audit = new AuditLogReader(data)
  let config: string
  let teleport: TeleportDaemon
  /** tctl's identity on the auth host: setting up rows through it spares a tctl process each. */
  let admin: AuthApi
  let ports: {auth: number; proxySsh: number; web: number; node: number; tunnel: number}
  let userCA: {privateKey: string; publicKey: string}
  let hostCA: {privateKey: string; publicKey: string}
  let knownHosts: string
  /** One key pair for every forged certificate: the certificate is what each row varies. */
  const key = generateKeyPair('matrix')
  let keyPath: string
  const tctl = (...args: string[]) => tctlOk(config, ...args)

  before(async () => {
    ports = {auth: await freePort(), proxySsh: await freePort(), web: await freePort(), node: await freePort(), tunnel: await freePort()}
    config = path.join(dir.path, 'teleport.yaml')
    writeFileSync(config, [
      'teleport:', `  nodename: ${NODE}`, `  data_dir: ${data}`,
      'auth_service:', `  listen_addr: 127.0.0.1:${ports.auth}`, `  cluster_name: ${CLUSTER}`,
      'proxy_service:', `  listen_addr: 127.0.0.1:${ports.proxySsh}`, `  web_listen_addr: 127.0.0.1:${ports.web}`, `  tunnel_listen_addr: 127.0.0.1:${ports.tunnel}`, `  public_addr: localhost:${ports.web}`,
      'ssh_service:', `  listen_addr: 127.0.0.1:${ports.node}`, '  labels: {env: matrix}', '',
    ].join('\n'))
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Node service is starting/)
    userCA = await caKeyPair(data, CLUSTER, 'user')
    hostCA = await caKeyPair(data, CLUSTER, 'host')
    knownHosts = path.join(dir.path, 'known_hosts')
    writeFileSync(knownHosts, `@cert-authority * ${hostCA.publicKey.trim().split(/\s+/).slice(0, 2).join(' ')}\n`)
    keyPath = writeKeyFiles(dir.path, 'matrix', key.privateKey, key.publicKey)
    admin = adminApi(data, ports.auth)
    await admin.createUser({name: 'neg-user', roles: ['access'], traits: {logins: [LOGIN]}})
    // An existing user, so that the login missing from the certificate is what refuses it (the
    // proxy turns away users that do not exist before any node is asked).
    await admin.createUser({name: 'neg-principal', roles: ['access'], traits: {logins: [LOGIN]}})
  })
  after(async () => {
    await admin?.close()
    await teleport?.stop()
    dir.cleanup()
  })

  // ---- credentials ------------------------------------------------------------------------------

  /** A user certificate from the cluster's own user CA for neg-user as LOGIN, with `changes`. */
  const forgeUser = (changes: Partial<UserCertRequest> & {keyId: string}): string =>
    signUserCert({caPrivateKey: userCA.privateKey, publicKey: key.publicKey, principals: [LOGIN], ttlMs: HOUR, roles: ['access'], traits: {logins: [LOGIN]}, routeToCluster: CLUSTER, ...changes})

  /** The matrix key with this certificate beside it (KEY, KEY-cert.pub), as OpenSSH looks for it. */
  const certFile = (name: string, certificate: string): SshCredentials => {
    const file = writeKeyFiles(dir.path, `matrix-${name}`, key.privateKey, key.publicKey, certificate)
    return {keyPath: file, withCertificate: true}
  }

  /** A certificate the auth server issued for `user` (as `tctl auth sign` gets one), for the matrix key. */
  const issued = async (user: string): Promise<SshCredentials & {credentials: ApiCredentials}> => {
    const {certificate} = await admin.signUserCert({username: user, publicKey: key.publicKey, ttlMs: HOUR})
    return {...certFile(`issued-${user}`, certificate), credentials: withCert(certificate)}
  }

  // ---- the three ways in ---------------------------------------------------------------------------

  const atNode = (creds: SshCredentials, login: string) => opensshLogin({port: ports.node, knownHosts, ...creds, login})

  /** The same credentials at the proxy's SSH port and then at the node behind it. */
  const throughProxy = (creds: SshCredentials, login: string) =>
    opensshLogin({
      port: ports.node,
      knownHosts,
      ...creds,
      login,
      hostAlias: NODE,
      proxyCommand: proxySubsystemCommand({port: ports.proxySsh, knownHosts, ...creds, login, hostAlias: 'localhost', target: `${NODE}:${ports.node}@${CLUSTER}`}),
    })

  const atAuth = (credentials: ApiCredentials, call: (api: AuthApi) => Promise<unknown>) => authApiAttempt({port: ports.auth, credentials, hostCAs: [hostCA.publicKey]}, call)

  const withCert = (certificate: string): ApiCredentials => ({privateKey: key.privateKey, certificate})

  // ---- the rows --------------------------------------------------------------------------------------

  /**
   * A certificate refused for `reason` at the node, through the proxy and (with `auth`) at the auth
   * API. OpenSSH will not send some (a host certificate, a broken signature): those go with ssh2.
   */
  const certificateRows = (
    name: string,
    o: {keyId: string; cert: () => string; reason: RegExp; ssh2?: boolean; proxy?: {told?: RegExp; reason?: RegExp; todo?: string | false}; auth?: {reason: RegExp}},
  ): Row[] => {
    const proxyTodo = o.proxy?.todo === undefined ? TODO.proxyQueryAudit : o.proxy.todo
    const creds = () => certFile(o.keyId, o.cert())
    const bySsh2 = (through?: {port: number; target: string}) =>
      ssh2CertLogin({port: ports.node, username: LOGIN, privateKey: key.privateKey, certificate: o.cert(), ...(through ? {through} : {})})
    const expected = (reason: RegExp) => authFailure(o.keyId, {user: o.keyId, login: LOGIN, error: reason})
    const rows: Row[] = [
      {
        name: `${name}: node`,
        attempt: () => (o.ssh2 ? bySsh2() : atNode(creds(), LOGIN)),
        told: o.ssh2 ? /authentication methods failed/ : /Permission denied/,
        audit: expected(o.reason),
      },
      {
        name: `${name}: through the proxy`,
        attempt: () => (o.ssh2 ? bySsh2({port: ports.proxySsh, target: `${NODE}:${ports.node}@${CLUSTER}`}) : throughProxy(creds(), LOGIN)),
        told: o.proxy?.told ?? (o.ssh2 ? /authentication methods failed/ : /Permission denied|Connection closed|closed by remote host/),
        audit: expected(o.proxy?.reason ?? o.reason),
        ...(proxyTodo ? {todo: proxyTodo} : {}),
      },
    ]
    if (o.auth) {
      rows.push({
        name: `${name}: auth API`,
        attempt: () => atAuth(withCert(o.cert()), (api) => api.getCAKeys()),
        told: /refused our credentials/,
        audit: authFailure(o.keyId, {user: o.keyId, error: o.auth.reason}),
        todo: TODO.authApiUser,
      })
    }
    return rows
  }

  const foreignCA = generateKeyPair('foreign-ca')

  /** X.509 client certificates for neg-user on the matrix key: another cluster's TLS CA, an expired one, none. */
  const tlsRelayRows = (): Row[] => {
    const identity = {username: 'neg-user', roles: ['access'], logins: [LOGIN], cluster: CLUSTER}
    const relay = (client?: () => Promise<string>) => async () =>
      tlsRelayAttempt({port: ports.web, target: {host: NODE, cluster: CLUSTER}, ...(client ? {client: {cert: await client(), privateKey: key.privateKey}} : {})})
    const ours = async () => {
      const ca = await caKeyPair(data, CLUSTER, 'tls')
      return {certificate: ca.publicKey, privateKey: ca.privateKey}
    }
    return [
      {name: 'TLS relay: no client certificate', attempt: relay(), told: /no client certificate was presented/, audit: authFailure('no client certificate', {transport: 'tls-relay', success: false})},
      {
        name: 'TLS relay: certificate from another cluster\'s TLS CA',
        attempt: relay(async () => signX509UserCert({ca: await generateTlsCA('foreign.example.com', new Date()), publicKey: key.publicKey, identity, ttlMs: HOUR, now: new Date()})),
        told: /not signed by this cluster's TLS user CA/,
        audit: authFailure('not signed by this cluster', {transport: 'tls-relay', success: false}),
      },
      {
        name: 'TLS relay: expired certificate',
        attempt: relay(async () => signX509UserCert({ca: await ours(), publicKey: key.publicKey, identity, ttlMs: HOUR, now: new Date(Date.now() - 2 * HOUR)})),
        told: /client certificate expired at/,
        audit: authFailure('client certificate expired', {transport: 'tls-relay', success: false}),
      },
    ]
  }
  const untrusted = /not signed by a trusted certificate authority/

  const rows = (): Row[] => [
    ...certificateRows('expired certificate', {keyId: 'neg-expired', cert: () => forgeUser({keyId: 'neg-expired', now: new Date(Date.now() - 2 * HOUR), ttlMs: HOUR}), reason: /certificate expired at/, auth: {reason: /certificate expired at/}}),
    ...certificateRows('not-yet-valid certificate', {keyId: 'neg-future', cert: () => forgeUser({keyId: 'neg-future', now: new Date(Date.now() + 2 * HOUR)}), reason: /not valid until/, auth: {reason: /not valid until/}}),
    ...certificateRows('certificate from a foreign CA', {keyId: 'neg-foreign', cert: () => forgeUser({keyId: 'neg-foreign', caPrivateKey: foreignCA.privateKey}), reason: untrusted, auth: {reason: untrusted}}),
    ...certificateRows('user certificate signed by the host CA', {keyId: 'neg-hostca-user', cert: () => forgeUser({keyId: 'neg-hostca-user', caPrivateKey: hostCA.privateKey}), reason: untrusted, auth: {reason: untrusted}}),
    // The proxy leaves the login to the node (it logs no one in), so the node refuses and audits;
    // the auth API takes no login.
    // The reverse tunnel port takes only nodes: a user's valid certificate is refused there.
    {
      name: 'user certificate: reverse tunnel port',
      attempt: () => ssh2CertLogin({port: ports.tunnel, username: LOGIN, privateKey: key.privateKey, certificate: forgeUser({keyId: 'neg-tunnel-user'})}),
      told: /authentication methods failed/,
      audit: authFailure('neg-tunnel-user', {user: 'neg-tunnel-user', login: LOGIN, error: /only nodes open reverse tunnels/}),
    },
    ...certificateRows('wrong principal', {keyId: 'neg-principal', cert: () => forgeUser({keyId: 'neg-principal', principals: ['neg-someone-else']}), reason: /does not allow login as/, proxy: {todo: false}}),
    // A host may call the auth API as a host, and the proxy's auth route as one, but no node.
    ...certificateRows('host certificate as a user certificate', {
      keyId: 'neg-host-as-user',
      cert: () => signHostCert({caPrivateKey: hostCA.privateKey, publicKey: key.publicKey, keyId: 'neg-host-as-user', principals: [LOGIN], role: 'Node', authority: CLUSTER, ttlMs: HOUR}),
      reason: /expected a user certificate but got a host certificate/,
      ssh2: true,
      proxy: {told: /hosts may only open proxy:@<cluster>/, reason: /hosts may only open/, todo: TODO.proxyHostRoute},
    }),
    ...certificateRows('user CA signing a host certificate (Admin)', {
      keyId: 'neg-user-as-host',
      cert: () => signHostCert({caPrivateKey: userCA.privateKey, publicKey: key.publicKey, keyId: 'neg-user-as-host', principals: [LOGIN], role: 'Admin', authority: CLUSTER, ttlMs: HOUR}),
      reason: /expected a user certificate but got a host certificate/,
      ssh2: true,
      // The proxy takes host certificates too (hosts reach the auth API through it): to it this one is from an unknown host CA.
      proxy: {reason: untrusted, todo: false},
      auth: {reason: untrusted},
    }),
    // The claimed key id after the tamper is what the refusal names.
    ...certificateRows('tampered key id', {keyId: 'neg-tamperee', cert: () => tamperCert(forgeUser({keyId: 'neg-tampered'}), 'neg-tampered', 'neg-tamperee'), reason: /signature is invalid/, ssh2: true, auth: {reason: /signature is invalid/}}),
    ...certificateRows('tampered roles (access -> editor)', {keyId: 'neg-tamper-roles', cert: () => tamperCert(forgeUser({keyId: 'neg-tamper-roles'}), 'access', 'editor'), reason: /signature is invalid/, ssh2: true, auth: {reason: /signature is invalid/}}),
    ...certificateRows('source-address elsewhere', {keyId: 'neg-source', cert: () => forgeUser({keyId: 'neg-source', sourceAddress: ['10.20.30.40/32']}), reason: /does not allow connections from 127\.0\.0\.1/, auth: {reason: /does not allow connections from 127\.0\.0\.1/}}),
    ...certificateRows('unknown critical option', {keyId: 'neg-critical', cert: () => keygenWithCriticalOption({dir: dir.path, caPrivateKey: userCA.privateKey, ...key, keyId: 'neg-critical', principals: [LOGIN], option: 'neg-unknown@example.com=1'}), reason: /critical option "neg-unknown@example\.com"/, auth: {reason: /critical option/}}),

    // The TLS relay on the web port: refused at its handshake, before any dial request is read.
    ...tlsRelayRows(),

    // A plain key, no certificate. The auth API lets it in only to join.
    {name: 'plain key: node', attempt: () => atNode({keyPath}, 'neg-plainkey'), told: /Permission denied/, audit: authFailure('neg-plainkey', {user: '', login: 'neg-plainkey', error: /plain .* key was offered/})},
    {name: 'plain key: through the proxy', attempt: () => throughProxy({keyPath}, 'neg-plainkey'), told: /Permission denied|Connection closed|closed by remote host/, audit: authFailure('neg-plainkey', {login: 'neg-plainkey', error: /plain .* key was offered/}), todo: TODO.proxyQueryAudit},
    {
      name: 'plain key: auth API admin route',
      attempt: () => atAuth({privateKey: key.privateKey}, (api) => api.createUser({name: 'neg-by-anonymous', roles: ['access'], traits: {}})),
      told: /access denied to perform action "create" on "user"/,
      audit: authFailure('create user', {user: 'anonymous', action: 'create user', error: /callers without a certificate may only join/}),
    },

    // Renewing a host certificate (a CA rotation's update_servers): hosts only, with the key they joined with.
    {
      name: 'host certificate renewal by a user: auth API',
      attempt: () => atAuth(withCert(forgeUser({keyId: 'neg-renew-user'})), (api) => api.renewHostCert()),
      told: /access denied to perform action "renew" on "host_cert"/,
      audit: authFailure('neg-renew-user', {user: 'neg-renew-user', action: 'renew host_cert', error: /users may not renew host_cert/}),
    },
    {
      name: 'host certificate renewal for a node id with another key than it joined with: auth API',
      attempt: () => {
        const hostId = readFileSync(dataDirPaths(data).hostUuid, 'utf8').trim()
        const cert = signHostCert({caPrivateKey: hostCA.privateKey, publicKey: key.publicKey, keyId: hostId, principals: [hostId], role: 'Node', authority: CLUSTER, ttlMs: HOUR})
        return atAuth(withCert(cert), (api) => api.renewHostCert())
      },
      told: /access denied to perform action "renew" on "host_cert"/,
      audit: authFailure('renew host_cert', {action: 'renew host_cert', user: /^node:/, error: /is not the one host .* joined with/}),
    },

    // Passwords and `none`: no server here takes them.
    ...(['password', 'none'] as const).flatMap((method): Row[] => [
      {name: `${method}: node`, attempt: () => ssh2Attempt({port: ports.node, username: `neg-${method}`, method}), told: /authentication methods failed/, audit: authFailure(`neg-${method}`, {login: `neg-${method}`, error: new RegExp(method)}), todo: TODO.passwordNone},
      {name: `${method}: proxy`, attempt: () => ssh2Attempt({port: ports.proxySsh, username: `neg-${method}`, method}), told: /authentication methods failed/, audit: authFailure(`neg-${method}`, {login: `neg-${method}`, error: new RegExp(method)}), todo: TODO.passwordNone},
      {name: `${method}: auth API`, attempt: () => ssh2Attempt({port: ports.auth, username: `neg-${method}`, method}), told: /authentication methods failed/, audit: authFailure(`neg-${method}`, {login: `neg-${method}`, error: new RegExp(method)}), todo: TODO.passwordNone},
    ]),

    // A role that no longer has the login: the node reads roles as they are now.
    ...(() => {
      let creds: SshCredentials | undefined
      const arrange = async () => {
        if (creds) return creds
        await writeRole('neg-dropper', [LOGIN])
        await admin.createUser({name: 'neg-dropped', roles: ['neg-dropper'], traits: {}})
        creds = await issued('neg-dropped')
        await writeRole('neg-dropper', ['neg-other-login'])
        return creds
      }
      const expected = authFailure('neg-dropped', {user: 'neg-dropped', login: LOGIN, error: new RegExp(`no role allows login "${LOGIN}"`)})
      return [
        {name: 'dropped login: node', attempt: async () => atNode(await arrange(), LOGIN), told: /Permission denied/, audit: expected},
        {name: 'dropped login: through the proxy', attempt: async () => throughProxy(await arrange(), LOGIN), told: /Permission denied/, audit: expected},
      ] satisfies Row[]
    })(),

    // A deleted user's certificate: refused everywhere (the node learns it from auth).
    ...userGoneRows('deleted user', 'neg-deleted', (user) => admin.deleteUser(user), /deleted|not found|no longer exists/, TODO.deleted),
    ...userGoneRows('locked user', 'neg-locked', (user) => tctl('lock', `--user=${user}`, '--message=locked by the matrix'), /locked by the matrix/, TODO.locks, /lock targeting User:"neg-locked" is in force: locked by the matrix/),

    // Host and user identities on admin routes.
    {
      name: 'node identity creates a user',
      attempt: () => atAuth(readIdentityFile(dataDirPaths(data).hostIdentity('node')), (api) => api.createUser({name: 'neg-by-node', roles: ['editor'], traits: {}})),
      told: /access denied to perform action "create" on "user"/,
      audit: authFailure('node:', {user: /^node:/, action: 'create user', error: /a Node host may not create user/}),
    },
    {
      name: 'proxy identity adds a join token',
      attempt: () => atAuth(readIdentityFile(dataDirPaths(data).hostIdentity('proxy')), (api) => api.addToken({roles: ['node']})),
      told: /access denied to perform action "create" on "token"/,
      audit: authFailure('proxy:', {user: /^proxy:/, action: 'create token', error: /a Proxy host may not create token/}),
    },
    {
      name: 'user identity (role access) creates a user',
      attempt: async () => atAuth((await issued('neg-user')).credentials, (api) => api.createUser({name: 'neg-by-user', roles: ['editor'], traits: {}})),
      told: /access denied to perform action "create" on "user"/,
      audit: authFailure('neg-user', {user: 'neg-user', action: 'create user', error: /no role allows create on user/}),
    },
    {
      name: 'user identity (role access) signs a certificate for someone else',
      attempt: async () => atAuth((await issued('neg-user')).credentials, (api) => api.signUserCert({username: 'neg-dropped', publicKey: key.publicKey})),
      told: /access denied to perform action "create" on "cert"/,
      audit: authFailure('neg-user', {user: 'neg-user', action: 'create cert', error: /users may not create cert/}),
    },

    // An editor demoted to access keeps an editor certificate: auth must go by the user as they are now.
    {
      name: 'demoted user creates a user with the old certificate',
      attempt: async () => {
        await admin.createUser({name: 'neg-demoted', roles: ['access', 'editor'], traits: {logins: [LOGIN]}})
        const old = await issued('neg-demoted')
        await admin.upsertUser({name: 'neg-demoted', roles: ['access'], traits: {logins: [LOGIN]}})
        return atAuth(old.credentials, (api) => api.createUser({name: 'neg-by-demoted', roles: ['editor'], traits: {}}))
      },
      told: /access denied to perform action "create" on "user"/,
      audit: authFailure('neg-demoted', {user: 'neg-demoted', action: 'create user', error: /no role allows create on user/}),
      todo: TODO.deleted,
    },
    // A node may post only what a node emits, as itself: not a login of someone else.
    {
      name: 'node identity posts a user.login event for someone else',
      attempt: () =>
        atAuth(readIdentityFile(dataDirPaths(data).hostIdentity('node')), (api) =>
          api.emitEvent({event: 'user.login', code: 'T1000I', user: 'neg-victim', success: true, time: new Date().toISOString()}),
        ),
      told: /access denied|not allowed|may not/,
      audit: authFailure('node:', {user: /^node:/, action: 'create event', error: /may not create event with code "T1000I"/}),
      todo: TODO.nodeEvents,
    },

    // Join tokens, at the auth API (a plain key, as joiners come) and at the proxy's web API.
    ...joinRows(),

    // Password + TOTP at the proxy's web API, and the invite page.
    ...webRows(),
  ]

  /**
   * The same certificate-bearing user, gone (deleted, locked) after the certificate was issued.
   * Nodes and proxies learn of a lock within seconds (they poll auth): the attempt is repeated
   * until it is refused, for at most LOCK_REACH_MS.
   */
  function userGoneRows(name: string, user: string, remove: (user: string) => unknown, reason: RegExp, todo: string | false, told?: RegExp): Row[] {
    let signed: Awaited<ReturnType<typeof issued>> | undefined
    const arrange = async () => {
      if (signed) return signed
      await admin.createUser({name: user, roles: ['access', 'editor'], traits: {logins: [LOGIN]}})
      signed = await issued(user)
      await remove(user)
      return signed
    }
    return [
      {name: `${name}: node`, attempt: untilRefused(async () => atNode(await arrange(), LOGIN), /Permission denied/), told: /Permission denied/, audit: authFailure(user, {user, login: LOGIN, error: reason}), todo},
      {name: `${name}: through the proxy`, attempt: untilRefused(async () => throughProxy(await arrange(), LOGIN), /Permission denied|closed/), told: /Permission denied|closed/, audit: authFailure(user, {user, login: LOGIN, error: reason}), todo},
      {
        name: `${name}: auth API admin route`,
        attempt: async () => atAuth((await arrange()).credentials, (api) => api.createUser({name: `${user}-made`, roles: ['access'], traits: {}})),
        told: told ?? /access denied|refused our credentials/,
        audit: authFailure(user, {user, error: reason}),
        todo,
      },
    ]
  }

  /**
   * Repeats an attempt until it is refused at login (`told`), as a lock does once the node or
   * proxy has heard of it. (In between, a connection let in is ended with the lock's message.)
   */
  function untilRefused(attempt: () => Promise<Attempt>, told: RegExp): () => Promise<Attempt> {
    return async () => {
      const deadline = Date.now() + LOCK_REACH_MS
      for (;;) {
        const result = await attempt()
        if ((result.refused && told.test(result.detail)) || Date.now() > deadline) return result
      }
    }
  }

  function writeRole(name: string, logins: string[]): Promise<unknown> {
    return admin.upsertRole({kind: 'role', version: 'v5', metadata: {name}, spec: {allow: {logins, node_labels: {'*': '*'}}}})
  }

  function joinRows(): Row[] {
    const joiner = generateKeyPair('joiner')
    const register = (token: string, nodeName: string) => (api: AuthApi) => api.register({token, hostId: randomUUID(), nodeName, role: 'node', publicKey: joiner.publicKey, additionalPrincipals: []})
    const atAuthAsJoiner = (token: string, nodeName: string) => atAuth({privateKey: joiner.privateKey}, register(token, nodeName))
    const atWeb = async (token: string, nodeName: string): Promise<Attempt> => {
      const r = await request(`https://127.0.0.1:${ports.web}/v1/webapi/host/credentials`, {
        method: 'POST',
        dispatcher: insecure,
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({token, hostID: randomUUID(), node_name: nodeName, role: 'Node', public_ssh_key: joiner.publicKey}),
      })
      const body = await r.body.text()
      return {refused: r.statusCode !== 200, detail: `${r.statusCode} ${body}`}
    }
    const joinFailure = (nodeName: string, error: RegExp): ExpectedEvent => ({event: 'instance.join', code: 'TJ002E', tag: nodeName, fields: {node_name: nodeName, role: 'node', error}})
    const expiredToken = 'neg0expired0token0000000000000000'
    let expiredReady = false
    const expired = async () => {
      if (!expiredReady) await addJoinTokenInThePast(data, {token: expiredToken, type: 'node', ttlMs: 60_000, agoMs: 30 * 60_000})
      expiredReady = true
      return expiredToken
    }
    const newToken = async () => (await admin.addToken({roles: ['node']})).token
    let usedToken: string | undefined
    const used = async () => {
      if (usedToken) return usedToken
      usedToken = await newToken()
      const first = await atAuthAsJoiner(usedToken, 'neg-join-first')
      assert.equal(first.refused, false, first.detail)
      return usedToken
    }
    return [
      {name: 'unknown join token: auth API', attempt: () => atAuthAsJoiner('neg0unknown0token', 'neg-join-unknown'), told: /unknown join token/, audit: joinFailure('neg-join-unknown', /unknown join token/)},
      {name: 'unknown join token: proxy web API', attempt: () => atWeb('neg0unknown0token', 'neg-join-unknown-web'), told: /^403 .*unknown join token/, audit: joinFailure('neg-join-unknown-web', /unknown join token/)},
      {name: 'expired join token: auth API', attempt: async () => atAuthAsJoiner(await expired(), 'neg-join-expired'), told: /join token expired/, audit: joinFailure('neg-join-expired', /join token expired/)},
      {name: 'expired join token: proxy web API', attempt: async () => atWeb(await expired(), 'neg-join-expired-web'), told: /^403 .*join token expired/, audit: joinFailure('neg-join-expired-web', /join token expired/)},
      {
        name: 'join token for a node used to join as a proxy',
        attempt: async () => atAuth({privateKey: joiner.privateKey}, async (api) => api.register({token: await newToken(), hostId: randomUUID(), nodeName: 'neg-join-role', role: 'proxy', publicKey: joiner.publicKey, additionalPrincipals: []})),
        told: /token does not allow role "proxy"/,
        audit: {event: 'instance.join', code: 'TJ002E', tag: 'neg-join-role', fields: {node_name: 'neg-join-role', role: 'proxy', error: /does not allow role "proxy"/}},
      },
      // Impersonation: the running node's own host id and name, or principals no joiner may hold.
      {
        name: 'joiner takes the host id of a running node',
        attempt: async () => {
          const hostId = readFileSync(dataDirPaths(data).hostUuid, 'utf8').trim()
          const token = await newToken()
          return atAuth({privateKey: joiner.privateKey}, (api) => api.register({token, hostId, nodeName: 'neg-join-twin', role: 'node', publicKey: joiner.publicKey, additionalPrincipals: []}))
        },
        told: /host id|already/,
        audit: joinFailure('neg-join-twin', /host id|already/),
        todo: TODO.registration,
      },
      ...(['*', 'auth.teleport.cluster.local'] as const).map(
        (principal): Row => ({
          name: `joiner asks for the principal ${principal}`,
          attempt: async () => {
            const token = await newToken()
            return atAuth({privateKey: joiner.privateKey}, (api) =>
              api.register({token, hostId: randomUUID(), nodeName: `neg-join-principal-${principal.length}`, role: 'node', publicKey: joiner.publicKey, additionalPrincipals: [principal]}),
            )
          },
          told: /principal/,
          audit: joinFailure(`neg-join-principal-${principal.length}`, /principal/),
          todo: TODO.registration,
        }),
      ),
      {name: 'used join token: auth API', attempt: async () => atAuthAsJoiner(await used(), 'neg-join-second'), told: /used|unknown join token/, audit: joinFailure('neg-join-second', /used|unknown join token/), todo: TODO.singleUse},
      {
        // The joiner checks the pin before it sends the token: the auth server hears nothing.
        name: 'wrong CA pin: teleport start refuses before sending the token',
        attempt: async () => {
          const token = await newToken()
          const wrongPin = (await admin.ping()).caPins[0]!.replace(/[0-9a-f]{8}$/, '00000000')
          const r = runTool('teleport', ['start', '--roles=node', `--data-dir=${path.join(dir.path, 'pin-joiner')}`, `--token=${token}`, `--ca-pin=${wrongPin}`, `--auth-server=127.0.0.1:${ports.auth}`, '--nodename=neg-join-pin'], {env: {TELEPORT_CONFIG_FILE: ''}})
          return {refused: r.code !== 0, detail: r.stderr}
        },
        told: /^ERROR: .*CA pin is sha256:[0-9a-f]{64}, which does not match --ca-pin/m,
        noAudit: 'the token never leaves the joiner',
        after: () => assert.deepEqual(audit.all().filter((e) => JSON.stringify(e).includes('neg-join-pin')), []),
      },
    ]
  }

  function webRows(): Row[] {
    const login = async (otp: string): Promise<Attempt> => {
      const r = await request(`https://127.0.0.1:${ports.web}/v1/webapi/ssh/certs`, {
        method: 'POST',
        dispatcher: insecure,
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({user: 'neg-totp', password: PASSWORD, otp_token: otp, pub_key: key.publicKey}),
      })
      const body = await r.body.text()
      return {refused: r.statusCode !== 200, detail: `${r.statusCode} ${body}`}
    }
    const invite = async (user: string) => {
      const {url} = (await admin.createUser({name: user, roles: ['access'], traits: {logins: [LOGIN]}})).invite
      const read = await readUserToken(webCaller(url, insecure), tokenOf(url))
      assert.equal(read.status, 200, read.text)
      return {url, token: tokenOf(url), secret: read.view!.totp.secret}
    }
    /** What the invite page sends to set the password: {status, body}. */
    const redeem = async (url: string, token: string, secret: string, at: number): Promise<{status: number; body: string}> => {
      const r = await redeemUserToken(webCaller(url, insecure), {token, password: PASSWORD, second_factor_token: generateTotpCode(secret, at)})
      return {status: r.status, body: r.text}
    }

    let secret: string | undefined
    /** neg-totp with password and TOTP set through the invite page (the enrolment uses this step's code). */
    const enrolled = async () => {
      if (secret) return secret
      const {url, token, secret: enrolling} = await invite('neg-totp')
      const done = await redeem(url, token, enrolling, Date.now())
      assert.equal(done.status, 200, done.body)
      secret = enrolling
      return secret
    }
    const loginFailure = (error: RegExp): ExpectedEvent => ({event: 'user.login', code: 'T1000W', tag: 'neg-totp', fields: {user: 'neg-totp', success: false, error}})
    const badSecondFactor = /invalid username, password or second factor/

    return [
      {
        name: 'wrong TOTP code',
        attempt: async () => login(generateTotpCode(await enrolled(), Date.now() + 10 * 60_000)),
        told: /^403 .*invalid username, password or second factor/,
        audit: loginFailure(badSecondFactor),
      },
      {
        name: 'replayed TOTP code',
        attempt: async () => {
          const replayed = generateTotpCode(await enrolled(), Date.now() + 30_000)
          const first = await login(replayed)
          assert.equal(first.refused, false, `the first use of the code must log in: ${first.detail}`)
          return login(replayed)
        },
        told: /^403 .*invalid username, password or second factor/,
        audit: loginFailure(badSecondFactor),
      },
      {
        name: 'invite redeemed by a form another site posts (not the page\'s JSON call)',
        attempt: async () => {
          const {url, token, secret: enrolling} = await invite('neg-csrf')
          const fields = {token, password: PASSWORD, second_factor_token: generateTotpCode(enrolling, Date.now())}
          const r = await request(new URL('/v1/webapi/users/password/token', url), {method: 'PUT', dispatcher: insecure, headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams(fields).toString()})
          return {refused: r.statusCode !== 200, detail: `${r.statusCode} ${await r.body.text()}`}
        },
        told: /^415 .*expected a application\/json body/,
        noAudit: 'a cross-site form cannot send JSON (a browser preflights it): the proxy refuses the body before anything is checked',
      },
      {
        name: 'invite link used twice',
        attempt: async () => {
          const {url, token, secret: enrolling} = await invite('neg-reuse')
          const first = await redeem(url, token, enrolling, Date.now())
          assert.equal(first.status, 200, first.body)
          const again = await redeem(url, token, enrolling, Date.now() + 30_000)
          return {refused: again.status !== 200, detail: `${again.status} ${again.body}`}
        },
        told: /^404 .*this link is invalid, has expired or was already used/,
        // The used link is gone: nothing names its user any more, and the token itself is never logged.
        audit: authFailure('link is invalid, expired or already used', {user: ''}),
        todo: TODO.webFormAudit,
      },
    ]
  }

  // ---- control: the forged credentials are refused for the row's defect, not for being forged ---

  test('control: a certificate forged with the cluster user CA and nothing wrong gets in everywhere', async () => {
    const creds = certFile('control', forgeUser({keyId: 'neg-user'}))
    const direct = await atNode(creds, LOGIN)
    assert.equal(direct.refused, false, direct.detail)
    const proxied = await throughProxy(creds, LOGIN)
    assert.equal(proxied.refused, false, proxied.detail)
    const api = await atAuth(withCert(forgeUser({keyId: 'neg-user'})), (a) => a.getCAKeys())
    assert.equal(api.refused, false, api.detail)
  })

  // ---- the matrix ------------------------------------------------------------------------------------

  // Rows are made when the tests are declared; what they need from the running cluster is read
  // when they run.
  for (const row of rows()) {
    test(row.name, row.todo ? {todo: row.todo} : {}, () => checkRow(row, audit, row.todo ? TODO_AUDIT_WAIT_MS : AUDIT_WAIT_MS))
  }

})
