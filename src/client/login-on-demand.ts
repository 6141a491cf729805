import type {ShowWaiting} from '../lib/progress/spinner.js'
import type {AddKeysMode} from './agent/add-keys-mode.js'
import type {Prompter} from './login.js'
import {LoginRequiredError, loadCurrentIdentity, type ClientIdentity, type IdentityOptions} from './profile.js'

// Commands that need a login (tsh ssh, scp, ls, join, play, proxy ssh) log in when there is none
// or the certificate has expired, as `tsh login` would for the profile's proxy and user, then go
// on. Only with somewhere to ask: without a prompter the LoginRequiredError stands (one line
// saying to run tsh login). The login code (undici, the config loader) is imported only then:
// a logged-in `tsh proxy ssh` or `tsh ssh` starts as light as before.

export interface OnDemandOptions extends IdentityOptions {
  /** Undefined when there is no terminal to ask on. */
  prompter?: Prompter
  warn: (line: string) => void
  debug: (line: string) => void
  insecure?: boolean
  env?: NodeJS.ProcessEnv
  /** Tests: trusted CA certificates for the proxy. */
  ca?: string[]
  waiting?: ShowWaiting
  /** Default: the config file's add_keys_to_agent. */
  addKeysToAgent?: AddKeysMode
}

export async function identityOrLogin(opts: OnDemandOptions): Promise<ClientIdentity> {
  try {
    return loadCurrentIdentity(opts)
  } catch (err) {
    if (!(err instanceof LoginRequiredError) || !opts.prompter) throw err
    // The proxy asked for, else the one the profile or the config file names.
    const [{loginWithConfig}, {readTshConfig}] = await Promise.all([import('./login-flow.js'), import('./config/index.js')])
    const proxy = opts.proxy ?? err.login.webProxyAddr ?? (await readTshConfig(opts.env)).proxy
    if (!proxy) throw err
    opts.warn(`${err.message}: logging in to ${proxy}`)
    await loginWithConfig({
      proxy,
      ...(opts.user ?? err.login.user ? {user: opts.user ?? err.login.user} : {}),
      ...(opts.insecure ? {insecure: true} : {}),
      prompter: opts.prompter,
      warn: opts.warn,
      debug: opts.debug,
      ...(opts.env ? {env: opts.env} : {}),
      ...(opts.home ? {home: opts.home} : {}),
      ...(opts.ca ? {ca: opts.ca} : {}),
      ...(opts.waiting ? {waiting: opts.waiting} : {}),
      ...(opts.addKeysToAgent ? {addKeysToAgent: opts.addKeysToAgent} : {}),
    })
    return loadCurrentIdentity(opts)
  }
}

export interface CommandLoginFlags {
  proxy?: string
  user?: string
  insecure?: boolean
  debug?: boolean
}

/**
 * What a tsh command calls for its identity: prompts on the terminal when stdin is one, or on
 * `prompter` when the command has its own (tsh proxy ssh asks on /dev/tty); messages on stderr.
 */
export async function identityForCommand(flags: CommandLoginFlags, prompter?: Prompter): Promise<ClientIdentity> {
  const {hasTerminal, terminalPrompter} = await import('./prompts.js')
  const stderr = (line: string) => process.stderr.write(`${line}\n`)
  const ask = prompter ?? (hasTerminal() ? terminalPrompter() : undefined)
  return identityOrLogin({
    ...(flags.proxy ? {proxy: flags.proxy} : {}),
    ...(flags.user ? {user: flags.user} : {}),
    ...(flags.insecure ? {insecure: true} : {}),
    ...(ask ? {prompter: ask} : {}),
    // tsh proxy ssh (its own prompter) shares the terminal with ssh: no spinner there. And ssh
    // loaded the old certificate before it ran us: with no agent of the user's, a login there
    // starts tsh agent, where ssh looks (tsh config's IdentityAgent) once it authenticates.
    ...(prompter && !process.env.SSH_AUTH_SOCK ? {addKeysToAgent: 'yes' as const} : {}),
    ...(prompter ? {} : {waiting: async (text, work) => (await import('../lib/progress/spinner.js')).withSpinner(text, () => work())}),
    warn: stderr,
    debug: flags.debug ? (line) => stderr(`DEBUG: ${line}`) : () => {},
  })
}
