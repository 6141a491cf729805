import {UserError} from '../lib/errors.js'
import type {Prompter} from './login.js'

// The terminal prompts of `tsh login`, on stderr so that stdout stays for data. Only offered
// when stdin is a terminal; secrets are never read from flags or the environment. The prompt
// library is loaded on the first question, not before.

export function hasTerminal(stdin: NodeJS.ReadStream = process.stdin): boolean {
  return Boolean(stdin.isTTY)
}

function cancelled(err: unknown): never {
  if ((err as Error)?.name === 'ExitPromptError' || (err as Error)?.name === 'AbortPromptError') throw new UserError('login cancelled')
  throw err
}

const OTP_PATTERN = /^\d{6,8}$/

export function terminalPrompter(): Prompter {
  const context = {input: process.stdin, output: process.stderr}
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
