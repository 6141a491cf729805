import {PassThrough, Writable} from 'node:stream'
import type {BaseAgent} from 'ssh2'
import {safeText} from '../../lib/safe-text.js'
import type {NodeInfo} from '../../api/auth-api.js'
import {connectToNode} from '../connect/node.js'
import {ProxyRouteError} from '../connect/errors.js'
import {connectToProxy} from '../connect/proxy.js'
import type {ConnectIdentity} from '../connect/identity.js'
import {LinePrefixer} from './line-prefixer.js'
import {runSession, type SessionOptions} from './session.js'

// `tsh ssh root@env=prod uptime`: the command on every matching node at once, over one proxy
// connection. Each output line is prefixed with its node's name (`[node-1] ...`); stdin is not
// shared out. The exit status is 0 when every node succeeded, otherwise the status of the first
// failing node in name order (so a single match keeps its own status).

export const MULTI_MATCH_WARNING = 'Multiple nodes matched label selector, running command on all.'

export interface MultiExecOptions {
  login: string
  port?: number
  cluster?: string
  command: string[]
  forwardAgent: boolean
  agent?: string | BaseAgent
  env?: Record<string, string>
  stdout: Writable
  stderr: Writable
  log?: (line: string) => void
  /** Called as each node finishes, with how many have. */
  onNodeDone?: (done: number) => void
}

function lineWriter(prefixer: LinePrefixer): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, callback) {
      prefixer.push(chunk)
      callback()
    },
  })
}

export async function execOnNodes(identity: ConnectIdentity, nodes: readonly NodeInfo[], options: MultiExecOptions): Promise<number> {
  const proxy = await connectToProxy(identity, {username: options.login, ...(options.log ? {log: options.log} : {})})
  let finished = 0
  try {
    const statuses = await Promise.all(
      nodes.map(async (node) => {
        const prefix = `[${safeText(node.hostname)}] `
        const out = new LinePrefixer(prefix, (t) => options.stdout.write(t))
        const err = new LinePrefixer(prefix, (t) => options.stderr.write(t))
        let close: (() => void) | undefined
        try {
          const conn = await connectToNode(identity, node.name, options.port, options.login, {
            proxyConn: proxy,
            expectPrincipal: node.name,
            displayName: node.hostname,
            ...(options.cluster ? {cluster: options.cluster} : {}),
            ...(options.agent ? {agent: options.agent} : {}),
            ...(options.log ? {log: options.log} : {}),
          })
          close = conn.close
          const session: SessionOptions = {
            command: options.command,
            pty: false,
            forwardAgent: options.forwardAgent,
            noStdin: true,
            host: node.hostname,
            env: options.env ?? {},
            stdin: new PassThrough(),
            stdout: lineWriter(out),
            stderr: lineWriter(err),
            warn: (line) => err.push(line + '\n'),
            ...(options.log ? {log: options.log} : {}),
          }
          return await runSession(conn.client, session)
        } catch (error) {
          const text = error instanceof ProxyRouteError && error.details ? error.details : `ERROR: ${safeText((error as Error).message)}\n`
          err.push(text)
          return 1
        } finally {
          out.flush()
          err.flush()
          close?.()
          options.onNodeDone?.(++finished)
        }
      }),
    )
    return statuses.find((s) => s !== 0) ?? 0
  } finally {
    proxy.end()
  }
}
