import assert from 'node:assert/strict'
import {WebSocket} from 'ws'
import type {TerminalParams} from '../../../src/api/web-ui-routes.js'
import {eventually} from '../../helpers/eventually.js'
import type {TestCluster} from './helpers.js'

// A browser's side of the web terminal, for the tests that drive it: signing in with a password,
// and a terminal socket opened as the page opens it.

export interface SignedIn {
  cookie: string
  token: string
}

export async function webSignIn(cluster: TestCluster, user: string, password: string): Promise<SignedIn> {
  const res = await cluster.web('POST', '/v1/webapi/sessions/web', {json: {user, pass: password}})
  assert.equal(res.status, 200, res.text)
  return {cookie: /^(__Host-session=[0-9a-f]+);/.exec(String(res.headers['set-cookie']))![1]!, token: res.json<{token: string}>().token}
}

/** A terminal socket as the page opens it: cookie on the upgrade, then the auth frame. */
export function openWebTerminal(cluster: TestCluster, who: SignedIn, params: Partial<TerminalParams>, options: {origin?: string; token?: string | null} = {}) {
  const port = cluster.proxy.webAddress.port
  const full = {login: 'root', term: {w: 80, h: 24}, ...params}
  const url = `wss://127.0.0.1:${port}/v1/webapi/sites/example.com/connect/ws?params=${encodeURIComponent(JSON.stringify(full))}`
  const ws = new WebSocket(url, {ca: cluster.webCertificate(), origin: options.origin ?? `https://127.0.0.1:${port}`, headers: {cookie: who.cookie}})
  let output = ''
  const texts: Record<string, unknown>[] = []
  ws.on('message', (data, isBinary) => {
    if (isBinary) output += (data as Buffer).toString()
    else texts.push(JSON.parse(data.toString()))
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)))
    ws.once('error', reject)
  })
  const closed = new Promise<{code: number; reason: string}>((resolve) => ws.once('close', (code, reason) => resolve({code, reason: reason.toString()})))
  if (options.token !== null) void opened.then(() => ws.send(JSON.stringify({type: 'auth', token: options.token ?? who.token})), () => {})
  return {
    ws,
    opened,
    closed,
    texts,
    get output() {
      return output
    },
    type: (text: string) => ws.send(Buffer.from(text)),
    waitFor: (re: RegExp) => eventually(() => re.test(output) || undefined, `${re} in the terminal`),
    frame: (type: string) => eventually(() => texts.find((t) => t.type === type), `a ${type} frame (got ${JSON.stringify(texts)})`),
  }
}
