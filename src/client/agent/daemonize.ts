import {spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {UserError} from '../../lib/errors.js'
import {tshInvocation} from '../tsh-invocation.js'

// `tsh agent` without --foreground: start this same tsh again as a detached child serving the
// socket, wait until it says the socket is listening (over an IPC channel, closed right after),
// then let it go. The child lives on after the parent exits and the shell's $(...) returns.

export const DAEMON_CHILD_FLAG = '--daemon-child'

/** A fresh 0700 directory under $TMPDIR holding the socket, like ssh-agent's /tmp/ssh-XXXX. */
export function defaultSocketPath(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsh-'))
  return path.join(dir, `agent.${process.pid}`)
}

export type ReadyMessage = {ready: true; socket: string} | {error: string}

export function spawnAgentDaemon(opts: {socketPath: string; proxy: string; user: string; timeoutMs?: number}): Promise<{pid: number}> {
  const inv = tshInvocation()
  const args = [...process.execArgv, inv.script, ...inv.prefixArgs, 'agent', DAEMON_CHILD_FLAG, `--socket=${opts.socketPath}`, `--proxy=${opts.proxy}`, `--user=${opts.user}`]
  const child = spawn(process.execPath, args, {detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc']})
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new UserError('the tsh agent did not start in time')), opts.timeoutMs ?? 30_000)
    const cleanup = () => {
      clearTimeout(timer)
      child.removeAllListeners()
      if (child.connected) child.disconnect()
      child.unref()
    }
    const fail = (err: Error) => {
      cleanup()
      try {
        child.kill()
      } catch {
        // already gone
      }
      reject(err)
    }
    child.once('error', (err) => fail(new UserError(`cannot start the tsh agent: ${err.message}`)))
    child.once('exit', (code) => fail(new UserError(`the tsh agent exited (code ${code}) before it was ready`)))
    child.on('message', (m: ReadyMessage) => {
      if ('error' in m) return fail(new UserError(m.error))
      cleanup()
      resolve({pid: child.pid!})
    })
  })
}

/** What `eval "$(tsh agent)"` runs, in sh or csh syntax like ssh-agent (by $SHELL). */
export function agentEnvLines(socketPath: string, pid: number, shell: string | undefined = process.env.SHELL): string {
  if (shell && /csh$/.test(shell)) return `setenv SSH_AUTH_SOCK ${socketPath};\nsetenv SSH_AGENT_PID ${pid};\n`
  return `SSH_AUTH_SOCK=${socketPath}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${pid}; export SSH_AGENT_PID;\n`
}
