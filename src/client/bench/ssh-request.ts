import type ssh2 from 'ssh2'
import {UserError} from '../../lib/errors.js'
import {connectToNode, type ConnectIdentity} from '../connect/index.js'

// One `tsh bench` request: a whole `tsh ssh` as a user would run it, a new connection through
// the proxy to the node (both authentications), the command, its exit status, the close. With
// --interactive the command is typed into a shell on a pseudo-terminal instead of exec'd.

export interface BenchTarget {
  host: string
  login: string
  command: string
  interactive: boolean
  cluster?: string
}

/** `log` gets each request's steps (connectToNode's, then the command's): where a stuck one stopped. */
export function sshBenchRequest(identity: ConnectIdentity, target: BenchTarget): (log?: (line: string) => void) => Promise<void> {
  return async (log) => {
    const conn = await connectToNode(identity, target.host, undefined, target.login, {...(target.cluster ? {cluster: target.cluster} : {}), ...(log ? {log} : {})})
    try {
      const code = await runOn(conn.client, target, log)
      if (code !== 0) throw new UserError(code === undefined ? 'the session ended without an exit status' : `the command exited with status ${code}`)
    } finally {
      conn.close()
    }
  }
}

function runOn(client: ssh2.Client, target: BenchTarget, log?: (line: string) => void): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | undefined, channel: ssh2.ClientChannel) => {
      if (err) return reject(new UserError(`cannot start the command: ${err.message}`))
      log?.('the command started')
      let code: number | undefined
      channel.on('exit', (status: number | null) => {
        code = status ?? undefined
        log?.(`exit status ${code}`)
      })
      channel.on('data', () => {}) // output is read and dropped: the bench measures, it does not show
      channel.stderr.on('data', () => {})
      channel.once('close', () => resolve(code))
      // The shell ends with the command's status.
      if (target.interactive) channel.end(`${target.command}\nexit $?\n`)
    }
    log?.('starting the command')
    if (target.interactive) client.shell({term: 'xterm', rows: 24, cols: 80}, done)
    else client.exec(target.command, done)
  })
}
