import type {Readable} from 'node:stream'
import type {Dispatcher} from 'undici'
import {fromWireError, parseJsonBody} from './wire-errors.js'

// One request of the API on an undici dispatcher (the client's HTTP over its SSH channels):
// a JSON call, or a call whose bodies are streams. Errors come back as the server's class.

export async function jsonCall<T>(http: Dispatcher, method: string, path: string, body?: unknown): Promise<T> {
  const response = await http.request({
    method: method as Dispatcher.HttpMethod,
    path,
    headers: body === undefined ? {} : {'content-type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const parsed = parseJsonBody(await response.body.text())
  if (response.statusCode >= 400) throw fromWireError(response.statusCode, parsed)
  return parsed as T
}

/**
 * The request body is read only as fast as the server takes it, and the response body arrives
 * only as fast as the caller reads it (back-pressure both ways, through the transport's windows).
 */
export async function streamCall(http: Dispatcher, method: string, path: string, body?: Readable): Promise<Readable> {
  const response = await http.request({
    method: method as Dispatcher.HttpMethod,
    path,
    headers: body === undefined ? {} : {'content-type': 'application/octet-stream'},
    body,
  })
  if (response.statusCode >= 400) throw fromWireError(response.statusCode, parseJsonBody(await response.body.text()))
  return response.body
}
