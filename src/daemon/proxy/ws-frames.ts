import {WebSocket} from 'ws'
import {errorKind} from '../../api/wire-errors.js'

// Frames of the UI's WebSockets (docs/WEB.md): binary frames are terminal bytes, text frames
// JSON control messages. Sending on a socket that has closed is a no-op.

/** A control message (text frame). */
export function sendControl(ws: WebSocket, message: Record<string, unknown>): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message))
}

/** Terminal bytes (binary frame); resolves once they are handed to the socket (or it closed). */
export function sendFrame(ws: WebSocket, data: Buffer): Promise<void> {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve()
  return new Promise((resolve) => ws.send(data, {binary: true}, () => resolve()))
}

/** Sends `{type: "error"}` and closes with `code`. */
export function failSocket(ws: WebSocket, code: number, message: string): void {
  sendControl(ws, {type: 'error', message: message.split('\n')[0]!.slice(0, 500)})
  if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reasonText(message))
}

/** A close reason fits in 123 bytes. */
function reasonText(message: string): string {
  const line = message.split('\n')[0]!
  return Buffer.byteLength(line) <= 123 ? line : Buffer.from(line).subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '') + '...'
}

/** The close code for an error: refused 4003, not found 4004, else a proxy error (1011). */
export function closeCodeOf(err: unknown): number {
  const kind = errorKind(err)
  if (kind === 'access-denied') return 4003
  if (kind === 'not-found') return 4004
  return 1011
}

/** What the page is told of an error: ours and auth's in their words, anything unexpected only as such (it is logged). */
export function pageMessage(err: unknown): string {
  return errorKind(err) === 'internal' ? 'internal error in the proxy (see its log)' : (err as Error).message
}
