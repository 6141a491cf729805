// Audit event names and codes, spelled as Teleport spells them (lib/events/api.go and codes.go)
// so that anything reading a Teleport audit log (SIEM filters, scripts) reads ours too.
// A code's last letter is its severity: I info, W warning, E error.

/** The `event` field: what happened. One name may carry several codes (ok / failed). */
export const EventName = {
  UserLogin: 'user.login',
  UserCreate: 'user.create',
  UserUpdate: 'user.update',
  UserDelete: 'user.delete',
  UserPasswordChange: 'user.password_change',
  /** Invite and reset links (`tctl users add`, `tctl users reset`) are both this in Teleport. */
  ResetPasswordTokenCreate: 'reset_password_token.create',
  MFADeviceAdd: 'mfa.add',

  SessionStart: 'session.start',
  SessionJoin: 'session.join',
  /** Teleport's name for a terminal resize is plain `resize`, not `session.resize`. */
  Resize: 'resize',
  SessionLeave: 'session.leave',
  SessionEnd: 'session.end',
  SessionUpload: 'session.upload',
  SessionRejected: 'session.rejected',

  Subsystem: 'subsystem',
  Exec: 'exec',
  PortForward: 'port',
  SCP: 'scp',
  ClientDisconnect: 'client.disconnect',
  /** A refused authentication or authorization attempt (SSH or auth API). */
  AuthAttempt: 'auth',

  CertificateCreate: 'cert.create',
  /** A CA rotation phase change (ours: Teleport audits none). */
  CertificateRotation: 'cert.rotation',

  RoleCreated: 'role.created',
  RoleUpdated: 'role.updated',
  RoleDeleted: 'role.deleted',

  LockCreated: 'lock.created',
  LockDeleted: 'lock.deleted',

  /** `tctl tokens add`: a join (provision) token was created. */
  JoinTokenCreate: 'join_token.create',
  /** A host joined the cluster with a token, or was refused. */
  InstanceJoin: 'instance.join',
} as const
export type EventName = (typeof EventName)[keyof typeof EventName]

/** The `code` field: a name plus its outcome. */
export const EventCode = {
  UserLogin: 'T1000I',
  UserLoginFailure: 'T1000W',
  UserCreate: 'T1002I',
  UserUpdate: 'T1003I',
  UserDelete: 'T1004I',
  UserPasswordChange: 'T1005I',
  MFADeviceAdd: 'T1006I',
  ResetPasswordTokenCreate: 'T6000I',

  SessionStart: 'T2000I',
  SessionJoin: 'T2001I',
  Resize: 'T2002I',
  SessionLeave: 'T2003I',
  SessionEnd: 'T2004I',
  SessionUpload: 'T2005I',
  SessionRejected: 'T1006W',

  Subsystem: 'T3001I',
  SubsystemFailure: 'T3001E',
  Exec: 'T3002I',
  ExecFailure: 'T3002E',
  PortForward: 'T3003I',
  PortForwardFailure: 'T3003E',
  SCPDownload: 'T3004I',
  SCPDownloadFailure: 'T3004E',
  SCPUpload: 'T3005I',
  SCPUploadFailure: 'T3005E',
  ClientDisconnect: 'T3006I',
  AuthAttemptFailure: 'T3007W',

  CertificateCreate: 'TC000I',
  CertificateRotation: 'TC100I',

  RoleCreated: 'T9000I',
  RoleDeleted: 'T9001I',
  RoleUpdated: 'T9002I',
  LockCreated: 'T9006I',
  LockDeleted: 'T9007I',

  JoinTokenCreate: 'TJT00I',
  InstanceJoin: 'TJ002I',
  InstanceJoinFailure: 'TJ002E',
} as const
export type EventCode = (typeof EventCode)[keyof typeof EventCode]

/** Which name each code belongs to: makeEvent refuses a code paired with the wrong name. */
export const EVENT_NAME_OF_CODE: Readonly<Record<EventCode, EventName>> = {
  T1000I: EventName.UserLogin,
  T1000W: EventName.UserLogin,
  T1002I: EventName.UserCreate,
  T1003I: EventName.UserUpdate,
  T1004I: EventName.UserDelete,
  T1005I: EventName.UserPasswordChange,
  T1006I: EventName.MFADeviceAdd,
  T6000I: EventName.ResetPasswordTokenCreate,

  T2000I: EventName.SessionStart,
  T2001I: EventName.SessionJoin,
  T2002I: EventName.Resize,
  T2003I: EventName.SessionLeave,
  T2004I: EventName.SessionEnd,
  T2005I: EventName.SessionUpload,
  T1006W: EventName.SessionRejected,

  T3001I: EventName.Subsystem,
  T3001E: EventName.Subsystem,
  T3002I: EventName.Exec,
  T3002E: EventName.Exec,
  T3003I: EventName.PortForward,
  T3003E: EventName.PortForward,
  T3004I: EventName.SCP,
  T3004E: EventName.SCP,
  T3005I: EventName.SCP,
  T3005E: EventName.SCP,
  T3006I: EventName.ClientDisconnect,
  T3007W: EventName.AuthAttempt,

  TC000I: EventName.CertificateCreate,
  TC100I: EventName.CertificateRotation,

  T9000I: EventName.RoleCreated,
  T9001I: EventName.RoleDeleted,
  T9002I: EventName.RoleUpdated,
  T9006I: EventName.LockCreated,
  T9007I: EventName.LockDeleted,

  TJT00I: EventName.JoinTokenCreate,
  TJ002I: EventName.InstanceJoin,
  TJ002E: EventName.InstanceJoin,
}
