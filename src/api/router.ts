import {gzip} from 'node:zlib'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {pipeline, Readable} from 'node:stream'
import {BadParameterError, NotFoundError} from '../lib/errors.js'
import type {ApiIdentity} from './identity.js'
import type {ParamsOf, QueryOf, ResponseOf, Route, StreamRoute} from './route.js'
import {toWireError} from './wire-errors.js'

// A small router: "METHOD /v1/users/:name" → handler(ctx). JSON routes read the whole body
// (capped) and answer JSON; stream routes hand the handler the request body as a stream and
// send the stream it returns, each side as fast as the other takes it.

export interface RequestContext {
  identity: ApiIdentity
  params: Record<string, string>
  query: URLSearchParams
  body: unknown
  method: string
  path: string
}

export type Handler = (ctx: RequestContext) => Promise<unknown> | unknown

export interface StreamContext extends Omit<RequestContext, 'body'> {
  body: Readable
}

/** The response body, or nothing (an empty one). */
export type StreamHandler = (ctx: StreamContext) => Promise<Readable | void> | Readable | void

interface Entry {
  method: string
  segments: string[]
  handler: {kind: 'json'; run: Handler} | {kind: 'stream'; run: StreamHandler}
}

/** What a request came to, before it is written to HTTP (or handed over in memory). */
export type Outcome = {status: number; json: unknown} | {status: 200; stream: Readable}

export interface IncomingCall {
  method: string
  /** The request target: path and query. */
  target: string
  identity: ApiIdentity
  body: Readable
}

export const MAX_BODY_BYTES = 1024 * 1024
/** API bodies are a few levels deep; thousands only overflow the stack of whatever serializes them next. */
const MAX_BODY_DEPTH = 64

export class Router {
  private readonly routes: Entry[] = []

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({method, segments: pattern.split('/').filter(Boolean), handler: {kind: 'json', run: handler}})
    return this
  }

  addStream(method: string, pattern: string, handler: StreamHandler): this {
    this.routes.push({method, segments: pattern.split('/').filter(Boolean), handler: {kind: 'stream', run: handler}})
    return this
  }

  private match(method: string, path: string): {route: Entry; params: Record<string, string>} | undefined {
    const parts = path.split('/').filter(Boolean).map(decodeSegment)
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== parts.length) continue
      const params: Record<string, string> = {}
      const ok = route.segments.every((segment, i) => {
        if (segment.startsWith(':')) {
          params[segment.slice(1)] = parts[i]
          return true
        }
        return segment === parts[i]
      })
      if (ok) return {route, params}
    }
    return undefined
  }

  /** Runs one call to its outcome; errors become their wire form. `onError` sees internal errors. */
  async dispatch(call: IncomingCall, onError: (err: unknown) => void): Promise<Outcome> {
    try {
      const url = requestUrl(call.target)
      const found = this.match(call.method, url.pathname)
      if (!found) throw new NotFoundError(`no such API endpoint: ${call.method} ${url.pathname}`)
      const ctx = {identity: call.identity, params: found.params, query: url.searchParams, method: call.method, path: url.pathname}
      const {handler} = found.route
      if (handler.kind === 'stream') {
        const stream = await handler.run({...ctx, body: call.body})
        return {status: 200, stream: stream ?? Readable.from([])}
      }
      const result = await handler.run({...ctx, body: await readJsonBody(call.body)})
      return {status: 200, json: result ?? {}}
    } catch (err) {
      const wire = toWireError(err)
      if (wire.status === 500) onError(err)
      return {status: wire.status, json: wire.body}
    }
  }

  /** Serve one HTTP request from an authenticated caller. */
  async serve(req: IncomingMessage, res: ServerResponse, identity: ApiIdentity, onError: (err: unknown) => void): Promise<void> {
    const outcome = await this.dispatch({method: req.method ?? 'GET', target: req.url ?? '/', identity, body: req}, onError)
    if ('json' in outcome) return send(res, outcome.status, outcome.json, acceptsGzip(req))
    res.writeHead(200, {'content-type': 'application/octet-stream'})
    // A failure after the headers can only cut the body short: the client sees it end early.
    pipeline(outcome.stream, res, (err) => {
      if (err && !res.destroyed) res.destroy()
    })
  }
}

/** The context a declared route's handler gets: parameters from its path, its declared query keys. */
export interface RouteContext<R extends Route> {
  identity: ApiIdentity
  params: ParamsOf<R>
  query: {[K in keyof QueryOf<R>]?: string}
  /** A JSON route's body is as the caller sent it (check it); a stream route's is the stream. */
  body: R extends StreamRoute ? Readable : unknown
  method: string
  path: string
}

export type RouteHandler<R extends Route> = (ctx: RouteContext<R>) => R extends StreamRoute ? Promise<Readable | void> | Readable | void : Promise<ResponseOf<R>> | ResponseOf<R>

/** One handler for every declared route, no more and no fewer (the compiler checks both). */
export type RouteHandlers<Routes extends Record<string, Route>> = {[K in keyof Routes]: RouteHandler<Routes[K]>}

export function serveRoutes<Routes extends Record<string, Route>>(router: Router, routes: Routes, handlers: RouteHandlers<Routes>): Router {
  for (const [name, route] of Object.entries(routes)) {
    const handler = handlers[name] as (ctx: unknown) => never
    const typed = (ctx: RequestContext | StreamContext) => handler({...ctx, query: firstValues(ctx.query)})
    if (route.kind === 'stream') router.addStream(route.method, route.path, typed)
    else router.add(route.method, route.path, typed)
  }
  return router
}

/** Each query key's first value (as URLSearchParams.get reads it). */
function firstValues(query: URLSearchParams): Record<string, string> {
  const values: Record<string, string> = Object.create(null)
  for (const [key, value] of query) if (!Object.hasOwn(values, key)) values[key] = value
  return values
}

/** The request target as a URL; "//x" is a path here, never a host. */
function requestUrl(target = '/'): URL {
  try {
    return new URL(`http://auth/${target.replace(/^\/+/, '')}`)
  } catch {
    throw new BadParameterError('malformed request path')
  }
}

/** A path segment's percent-escapes decoded; a malformed one is the caller's mistake, not ours. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new BadParameterError('malformed percent-escape in the request path (write "%" as %25)')
  }
}

/**
 * Large JSON answers (the node list of a big cluster: megabytes of near-identical records) go
 * gzipped to a client that asks: a tenth of the bytes through every hop's SSH encryption and the
 * client's HTTP parser, for a few milliseconds of native zlib off the event loop. Small answers,
 * which are the ones carrying credentials, are never compressed.
 */
const GZIP_MIN_BYTES = 64 * 1024

function acceptsGzip(req: IncomingMessage): boolean {
  return /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
}

function send(res: ServerResponse, status: number, body: unknown, gzipAllowed = false): void {
  const text = JSON.stringify(body)
  if (!gzipAllowed || text.length < GZIP_MIN_BYTES) {
    res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
    return void res.end(text)
  }
  gzip(text, {level: 1}, (err, packed) => {
    if (err) return void res.destroy(err)
    res.writeHead(status, {'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': packed.length})
    res.end(packed)
  })
}

async function readJsonBody(body: Readable): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new BadParameterError('request body too large')
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return undefined
  const text = Buffer.concat(chunks).toString('utf8')
  if (nestingDepth(text) > MAX_BODY_DEPTH) throw new BadParameterError(`request body nests deeper than ${MAX_BODY_DEPTH} levels`)
  try {
    return JSON.parse(text)
  } catch {
    throw new BadParameterError('request body is not valid JSON')
  }
}

/** The deepest nesting of [ and { outside strings (for valid JSON, its depth). */
function nestingDepth(text: string): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth)
    else if (c === ']' || c === '}') depth--
  }
  return deepest
}
