import {createRequire} from 'node:module'
import type {Connection, ServerChannel} from 'ssh2'

// What our SSH servers (node, proxy) need that ssh2 1.17.0's server API does not offer, done with the same
// internal calls ssh2 itself makes (the version is pinned in package.json):
//   - a USERAUTH_BANNER before a refusal, so the client is told why ("access denied: ...");
//   - opening an auth-agent@openssh.com channel back to the client (agent forwarding);
//   - exit-status / exit-signal after our EOF (OpenSSH's order: EOF, exit-status, close), which
//     Channel.exit() refuses once EOF is sent;
//   - a DISCONNECT that says why (ssh2's end() sends none), which OpenSSH prints.

const require = createRequire(import.meta.url)

interface Protocol {
  channelOpenFail(recipient: number, reason: number, description: string): void
  _packetRW: {write: {allocStart: number; alloc(size: number): Buffer; finalize(packet: Buffer): Buffer}}
  openssh_authAgent(chan: number, initWindow: number, maxPacket: number): void
  exitStatus(chan: number, status: number): void
  exitSignal(chan: number, name: string, coreDumped: boolean, message: string): void
}

interface ClientInternals {
  _protocol: Protocol
  _chanMgr: {add(handler: unknown): number; remove(id: number): void}
}

interface ChannelInternals {
  outgoing: {id: number; state: string}
  _client: ClientInternals
}

const DISCONNECT = 1
const DISCONNECT_BY_APPLICATION = 11
const USERAUTH_BANNER = 53
const MAX_WINDOW = 2 * 1024 * 1024
const PACKET_SIZE = 32 * 1024

let sendPacket: ((proto: Protocol, packet: Buffer) => void) | undefined
function loadSendPacket(): (proto: Protocol, packet: Buffer) => void {
  sendPacket ??= (require('ssh2/lib/protocol/utils.js') as {sendPacket: (proto: Protocol, packet: Buffer) => void}).sendPacket
  return sendPacket
}

/** Sends a banner line the client shows before its "Permission denied". Best effort. */
export function sendAuthBanner(client: Connection, text: string): void {
  try {
    const proto = (client as unknown as ClientInternals)._protocol
    const message = text.endsWith('\r\n') ? text : `${text}\r\n`
    const len = Buffer.byteLength(message)
    let p = proto._packetRW.write.allocStart
    const packet = proto._packetRW.write.alloc(1 + 4 + len + 4)
    packet[p] = USERAUTH_BANNER
    packet.writeUInt32BE(len, ++p)
    packet.write(message, (p += 4), len, 'utf8')
    packet.writeUInt32BE(0, p + len) // empty language tag
    loadSendPacket()(proto, proto._packetRW.write.finalize(packet))
  } catch {
    // the client learns of the refusal from the failure itself
  }
}

/**
 * Closes the connection with a DISCONNECT carrying `reason`, which OpenSSH shows as
 * "Received disconnect from <host> port <port>:11: <reason>".
 */
export function disconnectWith(client: Connection, reason: string): void {
  try {
    const proto = (client as unknown as ClientInternals)._protocol
    const len = Buffer.byteLength(reason)
    let p = proto._packetRW.write.allocStart
    const packet = proto._packetRW.write.alloc(1 + 4 + 4 + len + 4)
    packet[p] = DISCONNECT
    packet.writeUInt32BE(DISCONNECT_BY_APPLICATION, ++p)
    packet.writeUInt32BE(len, (p += 4))
    packet.write(reason, (p += 4), len, 'utf8')
    packet.writeUInt32BE(0, p + len) // empty language tag
    loadSendPacket()(proto, proto._packetRW.write.finalize(packet))
    ;(client as unknown as {_sock?: {end(): void}})._sock?.end()
  } catch {
    client.end()
  }
}

/**
 * Refuses a channel the client asked to open with a description, which OpenSSH shows as
 * "channel 0: open failed: connect failed: <description>" (ssh2's reject() sends none).
 */
export function rejectChannelSaying(client: Connection, reject: (() => void) | undefined, description: string): void {
  const proto = (client as unknown as ClientInternals)._protocol
  const plain = proto.channelOpenFail
  proto.channelOpenFail = function (recipient, reason) {
    proto.channelOpenFail = plain
    plain.call(this, recipient, reason, description)
  }
  try {
    reject?.()
  } finally {
    proto.channelOpenFail = plain
  }
}

/** Opens an auth-agent@openssh.com channel to the client (who forwards its agent through it). */
export function openAgentChannel(client: Connection): Promise<ServerChannel> {
  return new Promise((resolve, reject) => {
    const internals = client as unknown as ClientInternals
    const handler = Object.assign(
      (err: Error | undefined, channel: ServerChannel) => (err ? reject(err) : resolve(channel)),
      {type: 'auth-agent@openssh.com'},
    )
    const id = internals._chanMgr.add(handler)
    if (id === -1) return reject(new Error('no free channels available'))
    try {
      internals._protocol.openssh_authAgent(id, MAX_WINDOW, PACKET_SIZE)
    } catch (err) {
      internals._chanMgr.remove(id)
      reject(err as Error)
    }
  })
}

function channelInternals(channel: ServerChannel): ChannelInternals {
  return channel as unknown as ChannelInternals
}

/** exit-status, also after EOF (but not after close). */
export function sendExitStatus(channel: ServerChannel, status: number): void {
  const c = channelInternals(channel)
  if (c.outgoing.state !== 'open' && c.outgoing.state !== 'eof') return
  c._client._protocol.exitStatus(c.outgoing.id, status)
}

/**
 * exit-signal ("TERM", "KILL", ...: the name without SIG), also after EOF. A signal SSH has no
 * name for (RFC 4254 lists the POSIX ones) is reported as exit-status 128+n, as a shell would.
 */
export function sendExitSignal(channel: ServerChannel, signal: string, coreDumped: boolean, number: number): void {
  const c = channelInternals(channel)
  if (c.outgoing.state !== 'open' && c.outgoing.state !== 'eof') return
  try {
    c._client._protocol.exitSignal(c.outgoing.id, signal, coreDumped, '')
  } catch {
    c._client._protocol.exitStatus(c.outgoing.id, 128 + number)
  }
}

/**
 * Whether we may still send on the channel: we have not ended or destroyed it, and neither our EOF
 * nor a close has gone out or come in. The one probe of ssh2's channel state (node and proxy).
 */
export function channelOpen(channel: ServerChannel): boolean {
  const c = channel as unknown as ChannelInternals & {incoming: {state: string}}
  return !channel.destroyed && !channel.writableEnded && c.outgoing.state === 'open' && c.incoming.state !== 'closed'
}
