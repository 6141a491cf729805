import type {Readable} from 'node:stream'

// How a route of an HTTP API is declared: method, path pattern and the types that cross it.
// One declaration serves both sides: the server registers a handler per route (its types come
// from here) and the client builds the call from the same object (routes.ts, web-routes.ts).

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** What a route carries besides its path parameters. Query values travel as strings. */
export interface RouteTypes {
  query?: Record<string, string | undefined>
  body?: unknown
  response?: unknown
}

/** A request and response with JSON bodies (the API router caps a request body at 1 MiB). */
export interface JsonRoute<M extends Method = Method, P extends string = string, T extends RouteTypes = RouteTypes> {
  kind: 'json'
  method: M
  path: P
  /** Never set: carries T for the type checker. */
  readonly types?: T
}

/** Request and response bodies as byte streams with back-pressure, of any length (recordings). */
export interface StreamRoute<M extends Method = Method, P extends string = string, T extends Omit<RouteTypes, 'body' | 'response'> = Omit<RouteTypes, 'body' | 'response'>> {
  kind: 'stream'
  method: M
  path: P
  readonly types?: T
}

export type Route = JsonRoute | StreamRoute

/** The types a route was declared with; `types<{...}>()` in a declaration. */
export function types<T>(): T {
  return undefined as T
}

export function json<M extends Method, P extends string, T extends RouteTypes = {}>(method: M, path: P, _types?: T): JsonRoute<M, P, T> {
  return {kind: 'json', method, path}
}

export function stream<M extends Method, P extends string, T extends Omit<RouteTypes, 'body' | 'response'> = {}>(method: M, path: P, _types?: T): StreamRoute<M, P, T> {
  return {kind: 'stream', method, path}
}

/** `/v1/users/:name/reset` → {name: string}. */
export type PathParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? {[K in Name]: string} & PathParams<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? {[K in Name]: string}
    : {}

type TypesOf<R> = R extends {readonly types?: infer T} ? NonNullable<T> : never
export type QueryOf<R> = TypesOf<R> extends {query: infer Q} ? Q : {}
export type BodyOf<R> = TypesOf<R> extends {body: infer B} ? B : undefined
export type ResponseOf<R> = R extends StreamRoute ? Readable : TypesOf<R> extends {response: infer Res} ? Res : void
export type ParamsOf<R> = R extends {path: infer P extends string} ? PathParams<P> : never

type Optional<K extends string, T> = {} extends T ? {[_ in K]?: T} : {[_ in K]: T}

/** What a caller passes: path parameters, query and body, each only when the route has them. */
export type CallInput<R> = Optional<'params', ParamsOf<R>> &
  Optional<'query', QueryOf<R>> &
  (R extends StreamRoute ? {body?: Readable} : BodyOf<R> extends undefined ? {body?: undefined} : {body: BodyOf<R>})

/** A body as it arrives from the other side: the declared fields, each still to be checked. */
export type Untrusted<T> = {[K in keyof T]?: T[K] extends readonly unknown[] ? unknown : T[K] extends object ? Untrusted<T[K]> : unknown}

/** The request target: parameters percent-escaped into the path, defined query values appended. */
export function routeTarget(path: string, params: Record<string, string> = {}, query: Record<string, string | undefined> = {}): string {
  const filled = path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    if (!Object.hasOwn(params, name)) throw new Error(`route ${path}: no value for :${name}`)
    return encodeURIComponent(params[name]!)
  })
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, value)
  const text = search.toString()
  return text ? `${filled}?${text}` : filled
}

/** How a client reaches an API: JSON calls and streams (ApiClient over SSH, or in memory). */
export interface ApiTransport {
  request<T>(method: string, path: string, body?: unknown): Promise<T>
  /** A request whose body (if any) and response body are streams; rejects with the wire error before the response starts. */
  stream(method: string, path: string, body?: Readable): Promise<Readable>
  close(): Promise<void>
}

/** Calls a declared route over a transport. */
export function callRoute<R extends Route>(transport: ApiTransport, route: R, input: CallInput<R>): Promise<ResponseOf<R>> {
  const {params, query, body} = input as {params?: Record<string, string>; query?: Record<string, string | undefined>; body?: unknown}
  const target = routeTarget(route.path, params, query)
  if (route.kind === 'stream') return transport.stream(route.method, target, body as Readable | undefined) as Promise<ResponseOf<R>>
  return transport.request<ResponseOf<R>>(route.method, target, body)
}
