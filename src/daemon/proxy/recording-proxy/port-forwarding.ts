import type {AcceptConnection, RejectConnection, ServerChannel, TcpipRequestInfo} from 'ssh2'
import {EventCode, EventName} from '../../../events/index.js'
import {joinHostPort} from '../../../lib/net/ip.js'
import {rejectChannelSaying} from '../../../ssh/server-internals.js'
import {certAllows} from '../../node/context.js'
import type {TerminatedConnection} from './context.js'

// `ssh -L` / `-D` through the recording proxy: the user's direct-tcpip channel becomes one the
// proxy opens on its connection to the node, which dials the destination (as it would for the
// user directly). Allowed, as on a node, only by the certificate's permit-port-forwarding, and
// audited as the node audits it (T3003I/T3003E).

const NOT_PERMITTED = "port forwarding is not permitted by the user's roles"

export function forwardDirectTcpip(conn: TerminatedConnection, accept: AcceptConnection<ServerChannel>, reject: RejectConnection, info: TcpipRequestInfo): void {
  const addr = joinHostPort(info.destIP, info.destPort)
  const audit = (error?: string) =>
    conn.ctx.emit(EventName.PortForward, error ? EventCode.PortForwardFailure : EventCode.PortForward, {...conn.eventFields(), addr, success: !error, ...(error ? {error} : {})})
  if (!certAllows(conn.cert, 'permit-port-forwarding')) {
    audit(NOT_PERMITTED)
    return reject()
  }
  void conn.upstream().then(
    (upstream) =>
      upstream.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (err, remote) => {
        if (err) {
          audit(`cannot connect to ${addr}: ${err.message}`)
          return reject()
        }
        audit()
        const local = accept()
        local.on('error', () => remote.destroy())
        remote.on('error', () => local.destroy())
        local.pipe(remote).pipe(local)
        local.once('close', () => remote.destroy())
        remote.once('close', () => local.destroy())
      }),
    (err: Error) => {
      audit(err.message)
      // OpenSSH prints the description ("channel N: open failed: ...: <why>").
      rejectChannelSaying(conn.client, reject, err.message)
    },
  )
}
