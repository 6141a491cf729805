import type net from 'node:net'
import type {Writable} from 'node:stream'
import type {BaseAgent} from 'ssh2'
import {UserError} from '../../lib/errors.js'
import type {ProgressStream} from '../../lib/progress/status-line.js'
import {withSpinner} from '../../lib/progress/spinner.js'
import {ownKeysAgent} from '../agent/own-keys-agent.js'
import type {NodeInfo} from '../../api/auth-api.js'
import {authApiViaProxy} from '../connect/auth-via-proxy.js'
import type {ConnectIdentity} from '../connect/identity.js'
import {connectToNode, type NodeConnection} from '../connect/node.js'
import {isLabelSelector, matchesSelector, parseLabelSelector, sortNodes} from '../nodes/labels.js'
import {openAgentOnlySession} from '../../ssh/client-internals.js'
import {wantPty, type SshArgs} from './args.js'
import {RemoteForwards, startDynamicForward, startLocalForward} from './forward.js'
import {execOnNodes, MULTI_MATCH_WARNING} from './multi-exec.js'
import {closedByRemoteHost, EXIT_NO_STATUS, runSession, sessionEnv, type TerminalIn, type TerminalOut} from './session.js'

// `tsh ssh`, start to finish: resolve the target (a host, or nodes by label), connect through the
// proxy, start the requested port forwards, then run the shell or command (or, with -N, wait).

export interface SshIO {
  stdin: TerminalIn
  stdout: TerminalOut
  stderr: Writable
  env: NodeJS.ProcessEnv
}

export interface RunSshOptions {
  log?: (line: string) => void
  /** Resolves when the user interrupts a -N session (default: SIGINT or SIGTERM). */
  interrupted?: () => Promise<void>
}

/** Nodes whose labels match the selector, sorted by name. */
export async function findNodesByLabels(identity: ConnectIdentity, selectorText: string, options: {cluster?: string; log?: (line: string) => void} = {}): Promise<NodeInfo[]> {
  const selector = parseLabelSelector(selectorText)
  const api = authApiViaProxy(identity, options)
  try {
    return sortNodes((await api.listNodes()).filter((n) => matchesSelector(n, selector)))
  } finally {
    await api.close().catch(() => {})
  }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      resolve()
    }
    process.once('SIGINT', done)
    process.once('SIGTERM', done)
  })
}

export async function runSsh(args: SshArgs, identity: ConnectIdentity, io: SshIO, options: RunSshOptions = {}): Promise<number> {
  const warn = (line: string) => io.stderr.write(line + '\n')
  for (const line of args.warnings) warn(line)
  const log = options.log
  const agent = agentToForward(args.forwardAgent, identity, io.env, warn)
  const forwardAgent = agent !== undefined
  const env = sessionEnv(io.env)
  const cluster = args.cluster

  let host = args.host
  let expectPrincipal: string | undefined
  let displayName = args.host
  if (isLabelSelector(args.host)) {
    const nodes = await findNodesByLabels(identity, args.host, {...(cluster ? {cluster} : {}), ...(log ? {log} : {})})
    if (nodes.length === 0) throw new UserError(`no nodes match the labels "${args.host}"`, {hint: 'see the nodes and their labels with "tsh ls"'})
    if (args.command.length > 0 && nodes.length > 1) {
      warn(MULTI_MATCH_WARNING)
      if (hasForwards(args)) warn('WARNING: port forwarding is ignored when running on several nodes')
      const total = nodes.length
      const progress = {stream: io.stderr as ProgressStream, guarded: [io.stderr as ProgressStream, io.stdout as ProgressStream], env: io.env}
      return withSpinner(`0 of ${total} nodes done`, (spinner) => execOnNodes(identity, nodes, {
        onNodeDone: (done) => spinner.update(`${done} of ${total} nodes done`),
        login: args.login,
        command: args.command,
        forwardAgent,
        env,
        stdout: io.stdout,
        stderr: io.stderr,
        ...(args.port !== undefined ? {port: args.port} : {}),
        ...(cluster ? {cluster} : {}),
        ...(agent ? {agent} : {}),
        ...(log ? {log} : {}),
      }), progress)
    }
    // Without a command (or with one match): the first node.
    host = nodes[0]!.name
    expectPrincipal = nodes[0]!.name
    displayName = nodes[0]!.hostname
  }

  const conn = await connectToNode(identity, host, args.port, args.login, {
    ...(cluster ? {cluster} : {}),
    ...(expectPrincipal ? {expectPrincipal, displayName} : {}),
    ...(agent ? {agent} : {}),
    ...(log ? {log} : {}),
  })
  const servers: net.Server[] = []
  // A recording proxy reaches the node with the agent a session forwarded, and holds -R (and
  // forwarded -L connections) until one has: with -N a session that only forwards the agent stays
  // open; otherwise the session starts without waiting for the -R answers.
  const recordingProxy = identity.profile.recordingProxy === true
  try {
    if (recordingProxy && args.noCommand && hasForwards(args)) {
      if (forwardAgent) await forwardAgentOnly(conn, warn, displayName)
      else warn('WARNING: sessions are recorded at the proxy, which reaches the node only with your forwarded agent: add -A for the forwards to work')
    }
    for (const spec of args.localForwards) servers.push(await startLocalForward(conn.client, spec, warn))
    for (const spec of args.dynamicForwards) servers.push(await startDynamicForward(conn.client, spec, warn))
    const remote = startRemoteForwards(conn, args, warn)
    if (args.noCommand) {
      await remote
      return await waitWhileConnected(conn, options.interrupted ?? waitForSignal, () => io.stderr.write(closedByRemoteHost(displayName)))
    }
    if (recordingProxy) void remote.catch((err: Error) => warn(`WARNING: ${err.message}`))
    else await remote
    const pty = wantPty(args.tty, args.command.length > 0, io.stdin.isTTY === true)
    if (!pty && args.tty === 'yes' && io.stdin.isTTY !== true) warn('Pseudo-terminal will not be allocated because stdin is not a terminal.')
    return await runSession(conn.client, {
      command: args.command,
      pty,
      forwardAgent,
      env,
      host: displayName,
      stdin: io.stdin,
      stdout: io.stdout,
      stderr: io.stderr,
      warn,
      ...(args.escapeChar !== undefined ? {escapeChar: args.escapeChar} : {}),
      ...(args.noStdin ? {noStdin: true} : {}),
      ...(log ? {log} : {}),
    })
  } finally {
    for (const server of servers) server.close()
    conn.close()
  }
}

/**
 * `local` (-A): tsh's own key and certificate and nothing else, or, for a login whose key lives
 * only in an agent, that agent (it holds the key). `system` (-o ForwardAgent=yes): the agent at
 * $SSH_AUTH_SOCK, all its keys, as OpenSSH's -A.
 */
function agentToForward(mode: SshArgs['forwardAgent'], identity: ConnectIdentity, env: NodeJS.ProcessEnv, warn: (line: string) => void): string | BaseAgent | undefined {
  if (mode === 'no') return undefined
  if (mode === 'local') return ownKeysAgent(identity, env)
  if (env.SSH_AUTH_SOCK) return env.SSH_AUTH_SOCK
  warn('WARNING: ForwardAgent=yes but no SSH agent is running ($SSH_AUTH_SOCK is not set); forwarding none (-A forwards tsh\'s own key)')
  return undefined
}

function hasForwards(args: SshArgs): boolean {
  return args.localForwards.length + args.remoteForwards.length + args.dynamicForwards.length > 0
}

/** -R: asks the node to listen on each; rejects at the first it refuses. */
async function startRemoteForwards(conn: NodeConnection, args: SshArgs, warn: (line: string) => void): Promise<void> {
  if (args.remoteForwards.length === 0) return
  const remote = new RemoteForwards(conn.client, warn)
  await Promise.all(args.remoteForwards.map((spec) => remote.add(spec)))
}

/** -N through a recording proxy: a session channel that only forwards the agent, open until tsh ends. */
async function forwardAgentOnly(conn: NodeConnection, warn: (line: string) => void, host: string): Promise<void> {
  try {
    await openAgentOnlySession(conn.client)
  } catch (err) {
    warn(`WARNING: ${host} refused agent forwarding (${(err as Error).message}); the recording proxy cannot reach the node for the forwards`)
  }
}

/** -N: stays up for the forwards until interrupted (exit 0) or the connection drops (255, said so). */
function waitWhileConnected(conn: NodeConnection, interrupted: () => Promise<void>, dropped: () => void): Promise<number> {
  return new Promise((resolve) => {
    let done = false
    conn.client.once('close', () => {
      if (done) return
      done = true
      dropped()
      resolve(EXIT_NO_STATUS)
    })
    void interrupted().then(() => {
      done = true
      resolve(0)
    })
  })
}
