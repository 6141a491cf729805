import {Readable} from 'node:stream'
import {UserError} from '../lib/errors.js'
import type {ApiIdentity} from './identity.js'
import type {ApiTransport} from './route.js'
import type {Router} from './router.js'
import {fromWireError} from './wire-errors.js'

// An API served in process: each call goes through the router as one from `identity` would
// over the wire (bodies through JSON, errors through their wire form), with no sockets.

export class MemoryTransport implements ApiTransport {
  private closed = false

  constructor(
    private readonly router: Router,
    private readonly identity: ApiIdentity,
    private readonly onInternalError: (err: unknown) => void = () => {},
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const sent = body === undefined ? [] : [Buffer.from(JSON.stringify(body))]
    const outcome = await this.dispatch(method, path, Readable.from(sent))
    if (!('json' in outcome)) throw new Error(`${method} ${path} is a stream route`)
    const answer = JSON.parse(JSON.stringify(outcome.json)) as unknown
    if (outcome.status >= 400) throw fromWireError(outcome.status, answer)
    return answer as T
  }

  async stream(method: string, path: string, body?: Readable): Promise<Readable> {
    const outcome = await this.dispatch(method, path, body ?? Readable.from([]))
    if ('json' in outcome) {
      if (outcome.status >= 400) throw fromWireError(outcome.status, outcome.json)
      throw new Error(`${method} ${path} is a JSON route`)
    }
    return outcome.stream
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private dispatch(method: string, target: string, body: Readable) {
    if (this.closed) throw new UserError('the auth API client is closed')
    return this.router.dispatch({method, target, identity: this.identity, body}, this.onInternalError)
  }
}
