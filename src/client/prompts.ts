import {closeSync, openSync} from 'node:fs'
import tty from 'node:tty'
import {UserError} from '../lib/errors.js'
import type {Prompter} from './login.js'

// The terminal prompts of `tsh login` (and of a login on demand), on stderr so that stdout stays
// for data. Only offered when there is a terminal; secrets are never read from flags or the
// environment. The prompt library is loaded on the first question, not before.

export function hasTerminal(stdin: NodeJS.ReadStream = process.stdin): boolean {
  return Boolean(stdin.isTTY)
}

function cancelled(err: unknown): never {
  if ((err as Error)?.name === 'ExitPromptError' || (err as Error)?.name === 'AbortPromptError') throw new UserError('login cancelled')
  throw err
}

const OTP_PATTERN = /^\d{6,8}$/

export function terminalPrompter(context: {input: NodeJS.ReadableStream; output: NodeJS.WritableStream} = {input: process.stdin, output: process.stderr}): Prompter {
  const theme = {prefix: ''}
  return {
    password: async (message) => {
      const {password} = await import('@inquirer/prompts')
      return password({message, mask: false, theme, validate: (v) => (v.length > 0 ? true : 'the password cannot be empty')}, context).catch(cancelled)
    },
    otp: async (message) => {
      const {input} = await import('@inquirer/prompts')
      const optional = /empty to skip/.test(message)
      const validate = (v: string) => (optional && v.trim() === '') || OTP_PATTERN.test(v.trim()) || 'enter the 6-digit code from your authenticator app'
      return input({message, theme, validate}, context)
        .then((v) => v.trim())
        .catch(cancelled)
    },
  }
}

/** One question on /dev/tty, opened for it and let go of after. */
async function onControllingTerminal(question: (p: Prompter) => Promise<string>): Promise<string> {
  const inFd = openSync('/dev/tty', 'r')
  const input = new tty.ReadStream(inFd)
  let output: tty.WriteStream | undefined
  try {
    output = new tty.WriteStream(openSync('/dev/tty', 'w'))
    return await question(terminalPrompter({input, output}))
  } finally {
    input.destroy()
    output?.destroy()
  }
}

/**
 * Prompts on the controlling terminal (/dev/tty), for `tsh proxy ssh` whose stdin and stdout
 * carry OpenSSH's stream; undefined when the process has none.
 */
export function controllingTerminalPrompter(): Prompter | undefined {
  try {
    closeSync(openSync('/dev/tty', 'r+'))
  } catch {
    return undefined
  }
  return {password: (m) => onControllingTerminal((p) => p.password(m)), otp: (m) => onControllingTerminal((p) => p.otp(m))}
}
