import path from 'node:path'
import {loadPrivateKey} from '../../sshca/private-key.js'
import {parseCert} from '../../sshca/parse.js'
import type {AddKeysMode} from './add-keys-mode.js'
import {withAgent} from './client.js'

// tsh's keys in the user's running SSH agent ($SSH_AUTH_SOCK): added at login with comment
// "teleport:<user>" and a lifetime equal to the certificate's remaining validity, older
// "teleport:<user>" entries removed first; `tsh logout` removes them.

export {ADD_KEYS_MODES, type AddKeysMode} from './add-keys-mode.js'

export const AGENT_COMMENT_PREFIX = 'teleport:'

export function agentComment(user: string): string {
  return `${AGENT_COMMENT_PREFIX}${user}`
}

/** The socket of the tsh agent a login starts (add_keys_to_agent: yes): one per tsh home. */
export function tshAgentSocket(home: string): string {
  return path.join(home, 'agent.sock')
}

/** gpg-agent's ssh support cannot hold OpenSSH certificates; `auto` leaves it alone. */
export function isGpgAgent(socketPath: string): boolean {
  return /gpg-agent/.test(path.basename(socketPath)) || socketPath.includes('/gnupg/')
}

export type AgentPlan = {use: true; socket: string} | {use: false; reason: string}

/** Whether to load keys into the agent for a mode, and where; no I/O. */
export function planAgent(mode: AddKeysMode, env: NodeJS.ProcessEnv = process.env): AgentPlan {
  const socket = env.SSH_AUTH_SOCK
  if (mode === 'no') return {use: false, reason: '--add-keys-to-agent=no'}
  if (!socket) return {use: false, reason: 'no SSH agent: $SSH_AUTH_SOCK is not set'}
  if (mode === 'auto' && isGpgAgent(socket)) return {use: false, reason: `the agent at ${socket} is gpg-agent, which cannot hold certificates`}
  return {use: true, socket}
}

/** Seconds left on the certificate, at least 1 (the agent drops the key when it expires). */
export function remainingSeconds(validBefore: Date | null, now: Date = new Date()): number | undefined {
  if (validBefore === null) return undefined
  return Math.max(1, Math.floor((validBefore.getTime() - now.getTime()) / 1000))
}

export async function addToAgent(socketPath: string, opts: {privateKey: string; certificate: string; user: string; now?: Date}): Promise<void> {
  const cert = parseCert(opts.certificate)
  const privateKey = loadPrivateKey(opts.privateKey)
  const comment = agentComment(opts.user)
  const lifetimeSeconds = remainingSeconds(cert.validBefore, opts.now)
  await withAgent(socketPath, async (agent) => {
    for (const id of await agent.list()) {
      if (id.comment === comment) await agent.remove(id.blob)
    }
    await agent.add({privateKey, certificateBlob: cert.blob, comment, ...(lifetimeSeconds !== undefined ? {constraints: {lifetimeSeconds}} : {})})
  })
}

/** Removes "teleport:<user>" entries, or every "teleport:" entry without a user. Returns how many. */
export async function removeFromAgent(socketPath: string, user?: string): Promise<number> {
  return withAgent(socketPath, async (agent) => {
    let removed = 0
    for (const id of await agent.list()) {
      const ours = user === undefined ? id.comment.startsWith(AGENT_COMMENT_PREFIX) : id.comment === agentComment(user)
      if (!ours) continue
      await agent.remove(id.blob)
      removed++
    }
    return removed
  })
}
