import {EventCode} from '../../events/index.js'
import type {HostRole} from '../../api/identity.js'

// The audit events each kind of host reports (every emit in src/daemon/node and
// src/daemon/proxy): a host may post only these. A code names its event (EVENT_NAME_OF_CODE).
// A host that starts emitting a new event needs it added here, or auth refuses it.

const NODE_EVENT_CODES: readonly EventCode[] = [
  EventCode.SessionStart,
  EventCode.SessionEnd,
  EventCode.SessionJoin,
  EventCode.SessionLeave,
  EventCode.SessionRejected,
  EventCode.Exec,
  EventCode.ExecFailure,
  EventCode.SCPUpload,
  EventCode.SCPUploadFailure,
  EventCode.SCPDownload,
  EventCode.SCPDownloadFailure,
  EventCode.Subsystem,
  EventCode.SubsystemFailure,
  EventCode.PortForward,
  EventCode.PortForwardFailure,
  EventCode.ClientDisconnect,
  EventCode.AuthAttemptFailure,
]

// A proxy in recording proxy mode runs the sessions' audit as a node does.
const PROXY_EVENT_CODES: readonly EventCode[] = NODE_EVENT_CODES

const ALLOWED: Partial<Record<HostRole, ReadonlySet<string>>> = {
  Node: new Set(NODE_EVENT_CODES),
  Proxy: new Set(PROXY_EVENT_CODES),
}

/** Whether a host of this role may report an event with this code (Auth and Admin: any). */
export function hostMayReport(role: HostRole, code: string): boolean {
  const allowed = ALLOWED[role]
  return allowed === undefined || allowed.has(code)
}
