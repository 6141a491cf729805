import type {Duplex} from 'node:stream'
import type {NodeInfo} from '../../../api/auth-api.js'
import type {EmitNamed, EventFields} from '../../../events/index.js'
import type {Clock} from '../../../lib/clock.js'
import type {Logger} from '../../../lib/log.js'
import type {ParsedCert} from '../../../sshca/index.js'
import type {NodeAccessDeps} from '../../common/node-access.js'
import type {OpenSessions} from '../../node/open-sessions.js'
import type {SessionRecorder} from '../../node/recording/session-recorder.js'
import type {SessionRegistry} from '../../node/session/registry.js'
import type {SessionTap} from '../../node/session/tap.js'
import type {TrackedSession} from '../../node/session/tracker-tap.js'
import type ssh2 from 'ssh2'
import type {AgentWait} from './agent-wait.js'

// What the parts of the recording proxy share: the proxy's side (audit, recorder, caches), and
// one terminated connection (the user, the node it stands in for, the way to reach that node).

export interface RecordingProxyContext extends NodeAccessDeps {
  /** Audit events, to auth through the proxy's BufferedEmitter. */
  emit: EmitNamed
  /** Sessions marked on disk until their session.end is emitted (a crash still ends them). */
  openSessions: OpenSessions
  /** Records sessions as a node does in `node` mode (`proxy-sync`: as in `node-sync`). */
  recorder: SessionRecorder
  clock: Clock
  log: Logger
  userCAs(): Promise<string[]>
  /** Host CA keys a node must present a certificate from; undefined when proxy_checks_host_keys is off. */
  nodeHostCAs(): Promise<string[] | undefined>
  /** The tap keeping the tracker of a session the proxy holds on auth (for any node: ours write none in this mode). */
  trackSession(node: NodeInfo, session: TrackedSession): SessionTap
  /** The sessions held here, by their (recording) id: what `tsh join` and the web terminal join. */
  sessions: SessionRegistry
  /** The logged-in connections, which a lock or a deletion ends. */
  live: Set<LiveTerminatedConnection>
}

/** A logged-in connection as a lock ends it (the node's LiveConnection, for the node it stands in for). */
export interface LiveTerminatedConnection {
  user: string
  roles: readonly string[]
  /** The node's name: locks on the node apply. */
  node: string
  /** Writes the message to each session's stderr, then closes the connection. */
  end(message: string): Promise<void>
}

/** A connection the router handed over: who dialled, and the stream to the node. */
export interface TerminatedTarget {
  node: NodeInfo
  /** The dialled stream to the node (our node got the signed preamble already). */
  nodeStream: Duplex
  /** The client's ip:port as the proxy saw it. */
  clientAddr: string
  /** The user's agent the proxy holds itself (a web session's): used when none is forwarded. */
  agent?: ssh2.BaseAgent
}

/** An authenticated user on a terminated connection. */
export interface TerminatedConnection {
  ctx: RecordingProxyContext
  target: TerminatedTarget
  client: ssh2.Connection
  cert: ParsedCert
  user: string
  login: string
  /**
   * The connection to the node as the user: opened once, at the first channel or request that
   * needs it. A session asks without waiting (its own auth-agent-req came before its shell);
   * forwards wait, bounded, for a session to forward the agent.
   */
  upstream(options?: {waitForAgent?: boolean}): Promise<ssh2.Client>
  /** Whether a session channel forwarded the user's agent, which the proxy may then use. */
  agent: AgentWait
  eventFields(): EventFields
}
