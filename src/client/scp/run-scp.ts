import type {Writable} from 'node:stream'
import type {ConnectIdentity} from '../connect/identity.js'
import {ownKeysAgent} from '../agent/own-keys-agent.js'
import {connectToNode} from '../connect/node.js'
import type {ScpArgs} from './args.js'
import {ProgressBar} from '../../lib/progress/bar.js'
import {download, openSftp, upload, type TransferOptions} from './transfer.js'

// `tsh scp`: one node connection through the proxy, SFTP over it, scp's semantics on top.

export interface ScpIO {
  stderr: Writable & {isTTY?: boolean; columns?: number}
}

/** Runs the copy; resolves with the error lines (empty when everything was copied). */
export async function runScp(args: ScpArgs, identity: ConnectIdentity, io: ScpIO, options: {log?: (line: string) => void} = {}): Promise<string[]> {
  for (const line of args.warnings) io.stderr.write(line + '\n')
  // A recording proxy logs in to the node with the agent the client forwards: tsh's own key here.
  const agent = identity.profile.recordingProxy ? ownKeysAgent(identity, process.env) : undefined
  const conn = await connectToNode(identity, args.host, args.port, args.login, {
    ...(args.cluster ? {cluster: args.cluster} : {}),
    ...(options.log ? {log: options.log} : {}),
    ...(agent ? {agent} : {}),
  })
  try {
    const sftp = await openSftp(conn.client, {agentForward: agent !== undefined})
    const showProgress = io.stderr.isTTY === true && !args.quiet
    const transfer: TransferOptions = {
      recursive: args.recursive,
      preserve: args.preserve,
      remoteName: (p) => `${args.host}:${p}`,
      ...(showProgress ? {progress: (name: string, size: number) => new ProgressBar(name, size, io.stderr)} : {}),
    }
    const paths = (list: ScpArgs['sources']) => list.map((l) => l.path)
    const errors =
      args.direction === 'upload' ? await upload(sftp, paths(args.sources), args.target.path, transfer) : await download(sftp, paths(args.sources), args.target.path, transfer)
    sftp.end()
    return errors
  } finally {
    conn.close()
  }
}
