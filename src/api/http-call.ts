import type {Readable} from 'node:stream'
import type {Dispatcher} from 'undici'
// The index's `dispatcher.request`, imported alone for the reason client.ts imports its Client alone.
import undiciRequest from 'undici/lib/api/api-request.js'
import {promisify} from 'node:util'
import {gunzip} from 'node:zlib'
import {fromWireError, parseJsonBody} from './wire-errors.js'

const gunzipped = promisify(gunzip)

// One request of the API on an undici dispatcher (the client's HTTP over its SSH channels):
// a JSON call, or a call whose bodies are streams. Errors come back as the server's class.

export async function jsonCall<T>(http: Dispatcher, method: string, path: string, body?: unknown): Promise<T> {
  const response = await undiciRequest.call(http, {
    method: method as Dispatcher.HttpMethod,
    path,
    // Large answers come gzipped (router.ts).
    headers: body === undefined ? {'accept-encoding': 'gzip'} : {'content-type': 'application/json', 'accept-encoding': 'gzip'},
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = response.headers['content-encoding'] === 'gzip' ? (await gunzipped(Buffer.from(await response.body.arrayBuffer()))).toString('utf8') : await response.body.text()
  const parsed = parseJsonBody(text)
  if (response.statusCode >= 400) throw fromWireError(response.statusCode, parsed)
  return parsed as T
}

/**
 * The request body is read only as fast as the server takes it, and the response body arrives
 * only as fast as the caller reads it (back-pressure both ways, through the transport's windows).
 */
export async function streamCall(http: Dispatcher, method: string, path: string, body?: Readable): Promise<Readable> {
  const response = await undiciRequest.call(http, {
    method: method as Dispatcher.HttpMethod,
    path,
    headers: body === undefined ? {} : {'content-type': 'application/octet-stream'},
    body,
  })
  if (response.statusCode >= 400) throw fromWireError(response.statusCode, parseJsonBody(await response.body.text()))
  return response.body
}
