import fc from 'fast-check'
import {Readable} from 'node:stream'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {ApiIdentity} from '../../../src/api/identity.js'
import {Router} from '../../../src/api/router.js'
import {jsonBodies, urlPaths} from '../arbitraries.js'
import {target} from '../harness/target.js'

// The auth API's request layer (src/api/router.ts): method, path with parameters, query and JSON
// body, as any authenticated caller sends them. The router answers every request itself: an
// internal error (status 500, logged with its stack) is a finding.

const PATTERNS = [
  ['GET', '/v1/ping'],
  ['GET', '/v1/users/:name'],
  ['PUT', '/v1/users/:name'],
  ['POST', '/v1/users/:name/reset'],
  ['POST', '/v1/usertokens/:token/redeem'],
  ['DELETE', '/v1/tokens/:token'],
  ['PUT', '/v1/nodes/:name'],
  ['POST', '/v1/events'],
] as const

const router = new Router()
for (const [method, pattern] of PATTERNS) router.add(method, pattern, (ctx) => ({params: ctx.params, query: [...ctx.query], body: ctx.body ?? null}))

const identity: ApiIdentity = {kind: 'anonymous', remoteAddr: '127.0.0.1', publicKey: 'ssh-ed25519 AAAA'}

export interface ApiRequest {
  method: string
  url: string
  body: string
}

/** Serves one request through the router with a stand-in request and response; resolves with the answer. */
async function serve(request: ApiRequest): Promise<{status: number; body: string; internal: unknown[]}> {
  const req = Object.assign(Readable.from(request.body ? [Buffer.from(request.body)] : []), {method: request.method, url: request.url, headers: {}}) as unknown as IncomingMessage
  let status = 0
  let body = ''
  const res = {
    writeHead: (s: number) => void (status = s),
    end: (text: string) => void (body = text),
  } as unknown as ServerResponse
  const internal: unknown[] = []
  await router.serve(req, res, identity, (err) => internal.push(err))
  return {status, body, internal}
}

const words = ['v1', 'ping', 'users', 'usertokens', 'redeem', 'reset', 'tokens', 'nodes', 'events', 'alice', 'node-1']

export const AUTH_API_TARGETS = [
  target({
    name: 'auth-api-request',
    arbitrary: fc.record({
      method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH'),
      url: urlPaths(words),
      body: fc.oneof(fc.constant(''), jsonBodies({user: fc.string(), password: fc.string(), roles: fc.array(fc.string())})),
    }),
    run: async (request: ApiRequest) => {
      const answer = await serve(request)
      if (answer.status === 500 || answer.internal.length > 0) throw new Error(`internal error for ${request.method} ${request.url}: ${String(answer.internal[0])}`)
      JSON.parse(answer.body)
    },
    refusals: [],
  }),
]
