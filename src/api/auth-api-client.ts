import type {Readable} from 'node:stream'
import type {AppendResult, AuthApi, EventQuery, RecordingQuery, RotateRequest, SessionTrackerUpdate} from './auth-api.js'
import {callRoute, type ApiTransport, type CallInput, type ResponseOf, type Route} from './route.js'
import {AUTH_ROUTES as R, type OpenSSHNodeSpec} from './routes.js'

// AuthApi over a transport (ApiClient: SSH to the auth server; MemoryTransport: in process).
// Each method is its route from AUTH_ROUTES and nothing more.

export class AuthApiClient implements AuthApi {
  constructor(readonly client: ApiTransport) {}

  private call<T extends Route>(route: T, input: CallInput<T>): Promise<ResponseOf<T>> {
    return callRoute(this.client, route, input)
  }

  close(): Promise<void> {
    return this.client.close()
  }

  ping() {
    return this.call(R.ping, {})
  }
  status() {
    return this.call(R.status, {})
  }
  getCAKeys() {
    return this.call(R.getCAKeys, {})
  }
  watchCAs() {
    return this.call(R.watchCAs, {})
  }
  rotateCA(request: RotateRequest) {
    return this.call(R.rotateCA, {body: request})
  }
  renewHostCert() {
    return this.call(R.renewHostCert, {})
  }

  listUsers() {
    return this.call(R.listUsers, {})
  }
  getUser(name: string) {
    return this.call(R.getUser, {params: {name}})
  }
  createUser(user: {name: string; roles: string[]; traits: Record<string, string[]>}) {
    return this.call(R.createUser, {body: user})
  }
  upsertUser(user: {name: string; roles: string[]; traits: Record<string, string[]>}, options: {create?: boolean} = {}) {
    return this.call(R.upsertUser, {params: {name: user.name}, query: {create: options.create ? 'true' : undefined}, body: user})
  }
  deleteUser(name: string) {
    return this.call(R.deleteUser, {params: {name}})
  }
  resetUser(name: string) {
    return this.call(R.resetUser, {params: {name}})
  }
  userStatus(name: string) {
    return this.call(R.userStatus, {params: {name}})
  }

  listLocks() {
    return this.call(R.listLocks, {})
  }
  getLock(name: string) {
    return this.call(R.getLock, {params: {name}})
  }
  createLock(request: Parameters<AuthApi['createLock']>[0]) {
    return this.call(R.createLock, {body: request})
  }
  upsertLock(lock: unknown) {
    return this.call(R.upsertLock, {params: {name: resourceName(lock)}, body: lock})
  }
  deleteLock(name: string) {
    return this.call(R.deleteLock, {params: {name}})
  }

  getUserToken(token: string) {
    return this.call(R.getUserToken, {params: {token}})
  }
  redeemUserToken(request: {token: string; password: string; otpCode?: string}) {
    return this.call(R.redeemUserToken, {params: {token: request.token}, body: request})
  }

  listRoles() {
    return this.call(R.listRoles, {})
  }
  getRole(name: string) {
    return this.call(R.getRole, {params: {name}})
  }
  upsertRole(role: unknown, options: {create?: boolean} = {}) {
    return this.call(R.upsertRole, {params: {name: resourceName(role)}, query: {create: options.create ? 'true' : undefined}, body: role})
  }
  deleteRole(name: string) {
    return this.call(R.deleteRole, {params: {name}})
  }

  listTokens() {
    return this.call(R.listTokens, {})
  }
  addToken(request: Parameters<AuthApi['addToken']>[0]) {
    return this.call(R.addToken, {body: request})
  }
  deleteToken(token: string) {
    return this.call(R.deleteToken, {params: {token}})
  }
  register(request: Parameters<AuthApi['register']>[0]) {
    return this.call(R.register, {body: request})
  }

  listNodes() {
    return this.call(R.listNodes, {})
  }
  upsertNode(node: Parameters<AuthApi['upsertNode']>[0]) {
    return this.call(R.upsertNode, {params: {name: node.name}, body: node})
  }
  deleteNode(name: string) {
    return this.call(R.deleteNode, {params: {name}})
  }
  registerOpenSSHNode(name: string, spec: OpenSSHNodeSpec, options: {create?: boolean} = {}) {
    return this.call(R.registerOpenSSHNode, {params: {name}, query: {create: options.create ? 'true' : undefined}, body: spec})
  }
  keepAliveNode(name: string) {
    return this.call(R.keepAliveNode, {params: {name}})
  }
  listProxies() {
    return this.call(R.listProxies, {})
  }
  upsertProxy(proxy: Parameters<AuthApi['upsertProxy']>[0]) {
    return this.call(R.upsertProxy, {params: {name: proxy.name}, body: proxy})
  }
  keepAliveProxy(name: string) {
    return this.call(R.keepAliveProxy, {params: {name}})
  }
  deleteProxy(name: string) {
    return this.call(R.deleteProxy, {params: {name}})
  }
  signNodeHostCertForProxy(name: string, publicKey: string) {
    return this.call(R.signNodeHostCertForProxy, {params: {name}, body: {publicKey}})
  }

  signUserCert(request: Parameters<AuthApi['signUserCert']>[0]) {
    return this.call(R.signUserCert, {body: request})
  }
  signHostCert(request: Parameters<AuthApi['signHostCert']>[0]) {
    return this.call(R.signHostCert, {body: request})
  }
  authenticateUser(request: Parameters<AuthApi['authenticateUser']>[0]) {
    return this.call(R.authenticateUser, {body: request})
  }

  createWebSession(request: Parameters<AuthApi['createWebSession']>[0]) {
    return this.call(R.createWebSession, {body: request})
  }
  authenticateWebSession(request: {id: string; bearerToken: string}) {
    return this.call(R.authenticateWebSession, {body: request})
  }
  deleteWebSession(request: {id: string}) {
    return this.call(R.deleteWebSession, {body: request})
  }
  signWithWebSession(request: {id: string; data: string; flags?: number}) {
    return this.call(R.signWithWebSession, {body: request})
  }
  changePassword(name: string, request: {oldPassword: string; newPassword: string; otpCode?: string}) {
    return this.call(R.changePassword, {params: {name}, body: request})
  }

  emitEvent(event: Record<string, unknown>) {
    return this.call(R.emitEvent, {body: event})
  }
  searchEvents(query: EventQuery) {
    const {from, to, types, user, sid, limit, order, startKey} = query
    return this.call(R.searchEvents, {
      query: {from: from.toISOString(), to: to.toISOString(), types: types?.length ? types.join(',') : undefined, user: user || undefined, sid: sid || undefined, limit: limit ? String(limit) : undefined, order, startKey: startKey || undefined},
    })
  }

  upsertSessionTracker(sid: string, update: SessionTrackerUpdate) {
    return this.call(R.upsertSessionTracker, {params: {sid}, body: update})
  }
  removeSessionTracker(sid: string) {
    return this.call(R.removeSessionTracker, {params: {sid}})
  }
  listSessionTrackers() {
    return this.call(R.listSessionTrackers, {})
  }
  getSessionTracker(sid: string) {
    return this.call(R.getSessionTracker, {params: {sid}})
  }
  listRecordings(query: RecordingQuery) {
    const {from, to, limit, startKey} = query
    return this.call(R.listRecordings, {query: {from: from.toISOString(), to: to.toISOString(), limit: limit ? String(limit) : undefined, startKey: startKey || undefined}})
  }
  recordingUploaded(sid: string) {
    return this.call(R.recordingUploaded, {params: {sid}})
  }
  async appendRecording(sid: string, offset: number, body: Readable): Promise<AppendResult> {
    const answer = await this.call(R.appendRecording, {params: {sid}, query: {offset: String(offset)}, body})
    const chunks: Buffer[] = []
    for await (const chunk of answer) chunks.push(Buffer.from(chunk))
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as AppendResult
  }
  completeRecording(sid: string, request: {size: number; sha256?: string}) {
    return this.call(R.completeRecording, {params: {sid}, body: request})
  }
  openRecording(sid: string, options: {from?: number} = {}) {
    return this.call(R.openRecording, {params: {sid}, query: {from: options.from === undefined ? undefined : String(options.from)}})
  }
}

/** metadata.name of a resource as parsed from YAML ('' when absent: the server refuses it). */
function resourceName(resource: unknown): string {
  return (resource as {metadata?: {name?: string}})?.metadata?.name ?? ''
}
