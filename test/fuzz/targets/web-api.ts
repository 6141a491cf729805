import fc from 'fast-check'
import type {IncomingMessage} from 'node:http'
import {Readable} from 'node:stream'
import {HttpError, readJsonObject} from '../../../src/daemon/proxy/http-util.js'
import {handleHostCredentials, handleSshCerts, type WebApiContext} from '../../../src/daemon/proxy/web-api.js'
import {jsonBodies, oddText} from '../arbitraries.js'
import {target, USER_ERRORS} from '../harness/target.js'

// The proxy's web API bodies (`tsh login`, hosts joining through the proxy), from anyone who can
// reach the web port. HttpError is the web server's own refusal (a 4xx answer).

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB5Dz3pRdKsN8dvw0HDjQD0GRPvYZmXwxJM0oFUDLrdh'
/** Auth says yes to everything: what is fuzzed is the proxy's reading of the bodies. */
const authApi: WebApiContext['authApi'] = {
  ping: async () => ({clusterName: 'example.com', serverVersion: '0.1.0', caPins: [], secondFactor: 'off'}),
  getCAKeys: async () => ({clusterName: 'example.com', user: [KEY], host: [KEY]}),
  authenticateUser: async () => ({username: 'alice', certificate: 'cert', clusterName: 'example.com', hostCAs: [KEY], ttlMs: 3600_000}),
  register: async () => ({hostId: 'host-1', certificate: 'cert', hostCAs: [KEY], userCAs: [KEY], clusterName: 'example.com'}),
}
const ctx: WebApiContext = {authApi, log: {debug() {}, info() {}, warn() {}, error() {}} as never, sshAddresses: () => ({listenAddr: '0.0.0.0:3023', publicAddr: 'proxy:3023'})}

export interface WebRequest {
  contentType: string
  body: string
}

function request(r: WebRequest): IncomingMessage {
  return Object.assign(Readable.from([Buffer.from(r.body)]), {method: 'POST', headers: {'content-type': r.contentType, 'content-length': String(Buffer.byteLength(r.body))}, socket: {remoteAddress: '::ffff:10.0.0.1'}}) as unknown as IncomingMessage
}

const anything = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), {maxLength: 2}), fc.constant({}))
const keyish = fc.oneof(fc.constant(KEY), fc.constant(Buffer.from(KEY).toString('base64')), oddText, anything)
const requests = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc.record({contentType: fc.oneof({weight: 5, arbitrary: fc.constant('application/json')}, {weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'APPLICATION/JSON', '')}), body: jsonBodies(fields)})

const refusals = [...USER_ERRORS, HttpError]

export const WEB_API_TARGETS = [
  target({
    name: 'web-api-login-body',
    arbitrary: requests({user: fc.oneof(fc.string(), anything), password: anything, otp_token: anything, pub_key: keyish, ttl: fc.oneof(fc.double(), fc.integer(), anything)}),
    run: async (r: WebRequest) => {
      await readJsonObject(request(r))
      await handleSshCerts(ctx, request(r))
    },
    refusals,
  }),
  target({
    name: 'web-api-join-body',
    arbitrary: requests({role: fc.oneof(fc.constantFrom('node', 'Proxy', 'auth'), anything), token: anything, hostID: anything, node_name: anything, public_ssh_key: keyish, additional_principals: fc.oneof(fc.array(fc.string()), anything)}),
    run: (r: WebRequest) => handleHostCredentials(ctx, request(r)),
    refusals,
  }),
]
