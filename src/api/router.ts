import type {IncomingMessage, ServerResponse} from 'node:http'
import {BadParameterError, NotFoundError} from '../lib/errors.js'
import type {ApiIdentity} from './identity.js'
import {toWireError} from './wire-errors.js'

// A small JSON router: "METHOD /v1/users/:name" → handler(ctx) → JSON result.

export interface RequestContext {
  identity: ApiIdentity
  params: Record<string, string>
  query: URLSearchParams
  body: unknown
  method: string
  path: string
}

export type Handler = (ctx: RequestContext) => Promise<unknown> | unknown

interface Route {
  method: string
  segments: string[]
  handler: Handler
}

const MAX_BODY_BYTES = 1024 * 1024
/** API bodies are a few levels deep; thousands only overflow the stack of whatever serializes them next. */
const MAX_BODY_DEPTH = 64

export class Router {
  private readonly routes: Route[] = []

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({method, segments: pattern.split('/').filter(Boolean), handler})
    return this
  }

  private match(method: string, path: string): {route: Route; params: Record<string, string>} | undefined {
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

  /** Serve one HTTP request from an authenticated caller. `onError` sees internal errors. */
  async serve(req: IncomingMessage, res: ServerResponse, identity: ApiIdentity, onError: (err: unknown) => void): Promise<void> {
    try {
      const url = requestUrl(req.url)
      const found = this.match(req.method ?? 'GET', url.pathname)
      if (!found) throw new NotFoundError(`no such API endpoint: ${req.method} ${url.pathname}`)
      const body = await readJsonBody(req)
      const result = await found.route.handler({identity, params: found.params, query: url.searchParams, body, method: req.method ?? 'GET', path: url.pathname})
      send(res, 200, result ?? {})
    } catch (err) {
      const wire = toWireError(err)
      if (wire.status === 500) onError(err)
      send(res, wire.status, wire.body)
    }
  }
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

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
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
