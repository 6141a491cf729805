import type {KeyObject} from 'node:crypto'
import {BadParameterError} from '../../lib/errors.js'
import {SshReader, SshWriter} from '../../sshca/wire.js'

// The OpenSSH agent protocol (draft-miller-ssh-agent), the messages tsh needs as a client
// (list, add with constraints, remove, sign) and as a server (`tsh agent`). Every message on
// the socket is uint32 length, byte type, contents.

export const SSH_AGENT_FAILURE = 5
export const SSH_AGENT_SUCCESS = 6
export const SSH2_AGENTC_REQUEST_IDENTITIES = 11
export const SSH2_AGENT_IDENTITIES_ANSWER = 12
export const SSH2_AGENTC_SIGN_REQUEST = 13
export const SSH2_AGENT_SIGN_RESPONSE = 14
export const SSH2_AGENTC_ADD_IDENTITY = 17
export const SSH2_AGENTC_REMOVE_IDENTITY = 18
export const SSH2_AGENTC_REMOVE_ALL_IDENTITIES = 19
export const SSH2_AGENTC_ADD_ID_CONSTRAINED = 25
export const SSH_AGENTC_EXTENSION = 27

export const SSH_AGENT_CONSTRAIN_LIFETIME = 1
export const SSH_AGENT_CONSTRAIN_CONFIRM = 2

/** Sign-request flags: which RSA hash the caller wants (ignored for Ed25519). */
export const SSH_AGENT_RSA_SHA2_256 = 2
export const SSH_AGENT_RSA_SHA2_512 = 4

/** Refuse absurd frames from a misbehaving peer instead of buffering them. */
export const MAX_MESSAGE_BYTES = 256 * 1024

export interface AgentMessage {
  type: number
  body: Buffer
}

export interface AgentIdentity {
  /** Wire blob of the public key or certificate. */
  blob: Buffer
  comment: string
}

export function frame(type: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt32BE(body.length + 1)
  header[4] = type
  return Buffer.concat([header, body])
}

/** Collects socket chunks and yields whole messages. */
export class MessageReader {
  private pending: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): AgentMessage[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    const out: AgentMessage[] = []
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32BE(0)
      if (length < 1 || length > MAX_MESSAGE_BYTES) throw new BadParameterError(`agent message of ${length} bytes is out of range`)
      if (this.pending.length < 4 + length) break
      out.push({type: this.pending[4]!, body: this.pending.subarray(5, 4 + length)})
      this.pending = this.pending.subarray(4 + length)
    }
    return out
  }
}

export function encodeIdentitiesAnswer(identities: AgentIdentity[]): Buffer {
  const w = new SshWriter().uint32(identities.length)
  for (const id of identities) w.string(id.blob).string(id.comment)
  return frame(SSH2_AGENT_IDENTITIES_ANSWER, w.toBuffer())
}

export function decodeIdentitiesAnswer(body: Buffer): AgentIdentity[] {
  const r = new SshReader(body, 'agent identities answer')
  const count = r.uint32()
  const out: AgentIdentity[] = []
  for (let i = 0; i < count; i++) out.push({blob: r.string(), comment: r.string().toString('utf8')})
  return out
}

export interface Constraints {
  /** Seconds until the agent forgets the key. */
  lifetimeSeconds?: number
  confirm?: boolean
}

function encodeConstraints(c: Constraints): Buffer {
  const w = new SshWriter()
  if (c.lifetimeSeconds !== undefined) w.raw(Buffer.from([SSH_AGENT_CONSTRAIN_LIFETIME])).uint32(Math.max(1, Math.floor(c.lifetimeSeconds)))
  if (c.confirm) w.raw(Buffer.from([SSH_AGENT_CONSTRAIN_CONFIRM]))
  return w.toBuffer()
}

/** The 32-byte public point and 32-byte seed of an Ed25519 private key. */
export function ed25519Parts(key: KeyObject): {publicKey: Buffer; seed: Buffer} {
  const jwk = key.export({format: 'jwk'})
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.x) throw new Error('only Ed25519 keys can be added to the agent by tsh')
  return {publicKey: Buffer.from(jwk.x, 'base64url'), seed: Buffer.from(jwk.d, 'base64url')}
}

/**
 * SSH2_AGENTC_ADD_IDENTITY / ADD_ID_CONSTRAINED for an Ed25519 key, as a certificate identity
 * ("ssh-ed25519-cert-v01@openssh.com", cert blob, ENC(A), k||ENC(A), comment) when a
 * certificate blob is given, else as a plain key.
 */
export function encodeAddIdentity(opts: {privateKey: KeyObject; certificateBlob?: Buffer; comment: string; constraints?: Constraints}): Buffer {
  const {publicKey, seed} = ed25519Parts(opts.privateKey)
  const w = new SshWriter()
  if (opts.certificateBlob) w.string('ssh-ed25519-cert-v01@openssh.com').string(opts.certificateBlob)
  else w.string('ssh-ed25519')
  w.string(publicKey).string(Buffer.concat([seed, publicKey])).string(opts.comment)
  const constraints = encodeConstraints(opts.constraints ?? {})
  const type = constraints.length ? SSH2_AGENTC_ADD_ID_CONSTRAINED : SSH2_AGENTC_ADD_IDENTITY
  return frame(type, Buffer.concat([w.toBuffer(), constraints]))
}

export function encodeRemoveIdentity(blob: Buffer): Buffer {
  return frame(SSH2_AGENTC_REMOVE_IDENTITY, new SshWriter().string(blob).toBuffer())
}

export function encodeSignRequest(blob: Buffer, data: Buffer, flags = 0): Buffer {
  return frame(SSH2_AGENTC_SIGN_REQUEST, new SshWriter().string(blob).string(data).uint32(flags).toBuffer())
}

export function decodeSignRequest(body: Buffer): {blob: Buffer; data: Buffer; flags: number} {
  const r = new SshReader(body, 'agent sign request')
  const blob = r.string()
  const data = r.string()
  const flags = r.remaining >= 4 ? r.uint32() : 0
  return {blob, data, flags}
}

export function encodeSignResponse(signature: Buffer): Buffer {
  return frame(SSH2_AGENT_SIGN_RESPONSE, new SshWriter().string(signature).toBuffer())
}

export function decodeSignResponse(body: Buffer): Buffer {
  return new SshReader(body, 'agent sign response').string()
}
