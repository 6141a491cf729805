import type {AcceptConnection, RejectConnection, ServerChannel, TcpipBindInfo, TcpipRequestInfo} from 'ssh2'
import type ssh2 from 'ssh2'
import {joinHostPort} from '../../../lib/net/ip.js'
import {rejectChannelSaying} from '../../../ssh/server-internals.js'
import {certAllows} from '../../node/context.js'
import {emitPortForward, NOT_PERMITTED, spliceStreams} from '../../node/port-forwarding.js'
import type {TerminatedConnection} from './context.js'

// Port forwarding through the recording proxy, carried over the proxy's connection to the node,
// allowed as on a node only by the certificate's permit-port-forwarding and audited as the node
// audits it (T3003I/T3003E):
//   direct-tcpip (`ssh -L`, `-D`): the user's channel becomes one the proxy opens to the node,
//     which dials the destination (as it would for the user directly).
//   tcpip-forward (`ssh -R`): the proxy asks the node to listen; each forwarded-tcpip channel the
//     node opens back comes on to the user as one the proxy opens to the client.
// Both wait (bounded) for a session to forward the agent the proxy reaches the node with.

function audit(conn: TerminatedConnection, addr: string, error?: string): void {
  emitPortForward(conn.ctx.emit, conn.eventFields(), addr, error)
}

export function forwardDirectTcpip(conn: TerminatedConnection, accept: AcceptConnection<ServerChannel>, reject: RejectConnection, info: TcpipRequestInfo): void {
  const addr = joinHostPort(info.destIP, info.destPort)
  if (!certAllows(conn.cert, 'permit-port-forwarding')) {
    audit(conn, addr, NOT_PERMITTED)
    return reject()
  }
  void conn.upstream({waitForAgent: true}).then(
    (upstream) =>
      upstream.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (err, remote) => {
        if (err) {
          audit(conn, addr, `cannot connect to ${addr}: ${err.message}`)
          return reject()
        }
        audit(conn, addr)
        spliceStreams(accept(), remote)
      }),
    (err: Error) => {
      audit(conn, addr, err.message)
      // OpenSSH prints the description ("channel N: open failed: ...: <why>").
      rejectChannelSaying(conn.client, reject, err.message)
    },
  )
}

type Reply = ((port?: number) => void) | undefined

/** The `ssh -R` requests of one connection, relayed to the node. */
export class RemoteForwardRelay {
  /** The node's connection whose forwarded-tcpip channels are relayed (there is one per user connection). */
  private relaying: ssh2.Client | undefined

  constructor(private readonly conn: TerminatedConnection) {}

  /** A global request of the user's: tcpip-forward and cancel-tcpip-forward are relayed, the rest refused. */
  handle(accept: Reply, reject: (() => void) | undefined, name: string, info: TcpipBindInfo): void {
    if (name === 'tcpip-forward') return this.listen(info, accept, reject)
    if (name === 'cancel-tcpip-forward') return this.cancel(info, accept, reject)
    reject?.()
  }

  private listen(info: TcpipBindInfo, accept: Reply, reject: (() => void) | undefined): void {
    const {conn} = this
    const requested = joinHostPort(info.bindAddr || 'localhost', info.bindPort)
    if (!certAllows(conn.cert, 'permit-port-forwarding')) {
      audit(conn, requested, NOT_PERMITTED)
      return reject?.()
    }
    void conn.upstream({waitForAgent: true}).then(
      (upstream) => {
        const refused = (err: Error) => {
          audit(conn, requested, `the node refused to listen on ${requested}: ${err.message}`)
          reject?.()
        }
        this.relayFrom(upstream)
        try {
          upstream.forwardIn(info.bindAddr, info.bindPort, (err, port) => {
            if (err) return refused(err)
            audit(conn, joinHostPort(info.bindAddr || 'localhost', port))
            accept?.(port)
          })
        } catch (err) {
          refused(err as Error) // the node's connection is gone
        }
      },
      (err: Error) => {
        // A global request's failure carries no text: the reason goes to the audit log and ours.
        audit(conn, requested, err.message)
        conn.ctx.log.info(`recording proxy: remote forwarding of ${conn.user} on ${conn.target.node.hostname} refused: ${err.message}`)
        reject?.()
      },
    )
  }

  private cancel(info: TcpipBindInfo, accept: Reply, reject: (() => void) | undefined): void {
    const {relaying} = this
    if (!relaying) return reject?.()
    try {
      relaying.unforwardIn(info.bindAddr, info.bindPort, (err) => (err ? reject?.() : accept?.()))
    } catch {
      reject?.() // the node's connection is gone
    }
  }

  /** Each connection the node accepted on a forwarded port comes on to the user, as the node sent it. */
  private relayFrom(upstream: ssh2.Client): void {
    if (this.relaying) return
    this.relaying = upstream
    upstream.on('tcp connection', (details, acceptRemote, rejectRemote) => {
      try {
        this.conn.client.forwardOut(details.destIP, details.destPort, details.srcIP, details.srcPort, (err, local) => {
          if (err) return rejectRemote()
          spliceStreams(local, acceptRemote())
        })
      } catch {
        rejectRemote() // the user's connection is gone
      }
    })
  }
}
