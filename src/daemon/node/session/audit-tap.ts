import {EventCode, EventName, type EventFields} from '../../../events/index.js'
import type {NodeContext} from '../context.js'
import type {SessionEndFields} from '../open-sessions.js'
import {parseScpCommand} from './scp-command.js'
import type {SessionTap} from './tap.js'

// A session's audit events, from its tap: session.start (and a marker on disk, so a crash still
// gets a session.end), then at the end the command's outcome (exec or scp) and session.end.

export interface AuditedSession {
  node: Pick<NodeContext, 'emit' | 'openSessions'>
  sid: string
  /** Fields every event about the session's connection carries (user, login, server, addresses). */
  eventFields(): EventFields
}

export function sessionAuditTap({node, sid, eventFields}: AuditedSession): SessionTap {
  const participants: string[] = []
  let started: {interactive: boolean; command: string | undefined; at: Date} | undefined
  const fields = (): EventFields => ({...eventFields(), sid})
  // What session.end says about a session, known from its start (kept on disk for a crash).
  const endFields = (): SessionEndFields => ({
    ...fields(),
    sid,
    interactive: started?.interactive ?? false,
    participants: [...participants],
    session_start: (started?.at ?? new Date(0)).toISOString(),
  })
  return {
    onPartyJoin(party) {
      if (!participants.includes(party.user)) participants.push(party.user)
    },
    onStart(start, at) {
      started = {interactive: start.terminal !== undefined, command: start.command, at}
      node.emit(EventName.SessionStart, EventCode.SessionStart, {
        ...fields(),
        interactive: started.interactive,
        ...(start.terminal ? {size: `${start.terminal.cols}:${start.terminal.rows}`} : {}),
        ...(start.command !== undefined ? {command: start.command} : {}),
      })
      node.openSessions.opened(endFields())
    },
    onEnd(exit, at) {
      const command = started?.command
      if (command !== undefined && !exit.spawnFailed) {
        const {signal} = exit
        const exitCode = exit.code ?? (signal ? 255 : 0)
        const failed = exitCode !== 0 || signal !== undefined
        const detail = {...fields(), command, exitCode: String(exitCode), ...(signal ? {signal} : {})}
        const scp = parseScpCommand(command)
        if (scp) {
          const code = scp.action === 'upload' ? (failed ? EventCode.SCPUploadFailure : EventCode.SCPUpload) : failed ? EventCode.SCPDownloadFailure : EventCode.SCPDownload
          node.emit(EventName.SCP, code, {...detail, path: scp.path, action: scp.action})
        } else {
          node.emit(EventName.Exec, failed ? EventCode.ExecFailure : EventCode.Exec, {...detail, ...(failed ? {exitError: signal ? `killed by SIG${signal}` : `exit status ${exitCode}`} : {})})
        }
      }
      node.emit(EventName.SessionEnd, EventCode.SessionEnd, {
        ...endFields(),
        session_stop: at.toISOString(),
        ...(exit.code !== null ? {exitCode: String(exit.code)} : {}),
      })
      node.openSessions.closed(sid)
    },
  }
}
