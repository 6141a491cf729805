import {spawn, type ChildProcess} from 'node:child_process'
import pty from 'node-pty'
import {isRoot, sessionCwd, type OsLogin} from './os-login.js'

// Starting a program as the session's OS login: its uid, gid and supplementary groups. As root
// the program runs through `setpriv --reuid U --regid G --init-groups` (node-pty's own uid/gid
// options set no supplementary groups). The environment is built whole by the caller and passed
// as is, so nothing of the daemon's own environment leaks into a session (setpriv's
// --reset-env would also drop the SSH_* and client-requested variables). Not running as root,
// the program runs as this process's user (the only login such a node accepts).

export interface LoginCommand {
  login: OsLogin
  /** The program and its arguments, e.g. [shell, '-l'] or [shell, '-c', command]. */
  argv: [string, ...string[]]
  env: Record<string, string>
}

export interface PtyOptions {
  term: string
  cols: number
  rows: number
}

function asLogin(login: OsLogin, argv: readonly string[]): [string, string[]] {
  if (!isRoot()) return [argv[0]!, argv.slice(1)]
  return ['setpriv', ['--reuid', String(login.uid), '--regid', String(login.gid), '--init-groups', '--', ...argv]]
}

/** Without a terminal: stdin/stdout/stderr are pipes; the program leads its own session (setsid). */
export function spawnPiped(command: LoginCommand): ChildProcess {
  const [file, args] = asLogin(command.login, command.argv)
  return spawn(file, args, {
    cwd: sessionCwd(command.login),
    env: command.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  })
}

/**
 * On a new pseudo-terminal (the program's controlling terminal). SSH_TTY is only known once the
 * terminal exists, so a tiny sh sets it from `tty` and then execs the program.
 */
export function spawnOnPty(command: LoginCommand, options: PtyOptions): pty.IPty {
  const withTty = ['/bin/sh', '-c', 'SSH_TTY=$(tty) && export SSH_TTY; exec "$@"', 'sh', ...command.argv]
  const [file, args] = asLogin(command.login, withTty)
  return pty.spawn(file, args, {
    name: options.term,
    cols: Math.max(1, options.cols || 80),
    rows: Math.max(1, options.rows || 24),
    cwd: sessionCwd(command.login),
    env: command.env,
    encoding: null,
  })
}
