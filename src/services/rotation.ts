// CA rotation as Teleport does it: a phase machine over the CA record. Each step is a pure
// function of the stored CA (the caller writes the result with compareAndSwap, so two auth
// servers cannot both take a step). Where the keys are in each phase:
//   standby         active = current                 trusted = -
//   init            active = old (signs)             trusted = new (with its private key, unused)
//   update_clients  active = new (signs)             trusted = old
//   update_servers  active = new                     trusted = old   (hosts now present new certs)
//   standby         active = new                     trusted = -     (old certificates refused)
//   rollback        active = old                     trusted = new   (hosts go back to old certs)
import {BadParameterError} from '../lib/errors.js'
import type {CAKeyPair, CARotation, CertAuthority, RotationPhase} from './cas.js'

export const ROTATION_PHASES: readonly RotationPhase[] = ['standby', 'init', 'update_clients', 'update_servers', 'rollback']

/** Teleport's default grace period (defaults.MaxCertDuration). */
export const DEFAULT_GRACE_PERIOD_MS = 30 * 3600_000

export interface RotationStep {
  /** The phase asked for; absent: start an automatic rotation (standby → init, the rest on schedule). */
  phase?: RotationPhase
  mode: 'auto' | 'manual'
  gracePeriodMs: number
  now: Date
  /** Makes the new CA key (only called when entering init). */
  newKey: () => {publicKey: string; privateKey: string}
}

/** The phase that follows `phase` in a rotation going forward. */
export function nextPhase(phase: RotationPhase): RotationPhase {
  switch (phase) {
    case 'standby':
      return 'init'
    case 'init':
      return 'update_clients'
    case 'update_clients':
      return 'update_servers'
    default:
      return 'standby'
  }
}

export function currentPhase(ca: CertAuthority): RotationPhase {
  return ca.rotation?.phase ?? 'standby'
}

export function isRotating(ca: CertAuthority): boolean {
  return currentPhase(ca) !== 'standby'
}

/** Which phases may follow `from`: forward one step, or rollback before the final standby. */
export function allowedPhases(from: RotationPhase): RotationPhase[] {
  if (from === 'standby') return ['init']
  if (from === 'rollback') return ['standby']
  return [nextPhase(from), 'rollback']
}

/** The CA after one rotation step; BadParameterError naming the phases allowed when `step` does not follow. */
export function rotate(ca: CertAuthority, step: RotationStep): CertAuthority {
  const from = currentPhase(ca)
  const to = step.phase ?? 'init'
  if (step.phase === undefined && from !== 'standby') {
    throw new BadParameterError(`the ${ca.type} CA is already rotating (phase "${from}")`, {
      hint: `move it on with --manual --phase=${nextPhase(from)}${from === 'rollback' ? '' : ' or --phase=rollback'}`,
    })
  }
  if (!allowedPhases(from).includes(to)) {
    throw new BadParameterError(`the ${ca.type} CA cannot go from phase "${from}" to "${to}"`, {
      hint: `the next phase may be ${allowedPhases(from).map((p) => `"${p}"`).join(' or ')}`,
    })
  }
  if (step.gracePeriodMs <= 0 && to === 'init') throw new BadParameterError('--grace-period must be more than 0')
  const base = {type: ca.type, clusterName: ca.clusterName}
  const keepRotation = (phase: RotationPhase, extra: Partial<CARotation> = {}): CARotation => {
    const {schedule, ...rest} = ca.rotation ?? {phase}
    // A manual step takes an automatic rotation over: the schedule no longer applies.
    return {...rest, ...(step.mode === 'auto' && schedule ? {schedule} : {}), mode: step.mode, phase, ...extra}
  }
  switch (to) {
    case 'init': {
      const key = step.newKey()
      const started = step.now.toISOString()
      const rotation: CARotation = {phase: 'init', mode: step.mode, started, gracePeriodMs: step.gracePeriodMs, ...(ca.rotation?.lastRotated ? {lastRotated: ca.rotation.lastRotated} : {})}
      if (step.mode === 'auto') rotation.schedule = scheduleFrom(step.now, step.gracePeriodMs)
      return {...base, activeKeys: ca.activeKeys, additionalTrustedKeys: [{publicKey: key.publicKey, privateKey: key.privateKey}], rotation}
    }
    case 'update_clients':
      // The new key signs from now on; the old one stays trusted.
      return {...base, activeKeys: ca.additionalTrustedKeys, additionalTrustedKeys: ca.activeKeys, rotation: keepRotation('update_clients')}
    case 'update_servers':
      return {...base, activeKeys: ca.activeKeys, additionalTrustedKeys: ca.additionalTrustedKeys, rotation: keepRotation('update_servers')}
    case 'rollback': {
      // The old key signs again; the new one stays trusted until standby, for what it signed meanwhile.
      const [oldKeys, newKeys] = from === 'init' ? [ca.activeKeys, ca.additionalTrustedKeys] : [ca.additionalTrustedKeys, ca.activeKeys]
      return {...base, activeKeys: oldKeys, additionalTrustedKeys: newKeys, rotation: keepRotation('rollback')}
    }
    case 'standby': {
      const rotation: CARotation = {phase: 'standby', mode: step.mode, ...(from === 'rollback' ? (ca.rotation?.lastRotated ? {lastRotated: ca.rotation.lastRotated} : {}) : {lastRotated: step.now.toISOString()})}
      return {...base, activeKeys: ca.activeKeys, additionalTrustedKeys: [], rotation}
    }
  }
}

/**
 * The next step for a CA that rotates with another (the TLS user CA with the user CA) to reach the
 * phase `target`: the target itself when it may follow, else the next phase forward (a pair left
 * out of step, say by a crash between the two writes, catches up); undefined once there.
 */
export function stepToward(ca: CertAuthority, target: RotationPhase): RotationPhase | undefined {
  const from = currentPhase(ca)
  if (from === target) return undefined
  return allowedPhases(from).includes(target) ? target : nextPhase(from)
}

/** An automatic rotation's next step when it is due at `now`, else undefined. */
export function dueAutoPhase(ca: CertAuthority, now: Date): RotationPhase | undefined {
  const at = nextAutoStepAt(ca)
  return at !== undefined && at <= now.getTime() ? nextPhase(currentPhase(ca)) : undefined
}

/** When an automatic rotation takes its next step (ms since the epoch); undefined when none is scheduled. */
export function nextAutoStepAt(ca: CertAuthority): number | undefined {
  const rotation = ca.rotation
  if (!rotation?.schedule || rotation.mode !== 'auto') return undefined
  const at = {init: rotation.schedule.updateClients, update_clients: rotation.schedule.updateServers, update_servers: rotation.schedule.standby}[rotation.phase as 'init']
  return at === undefined ? undefined : Date.parse(at)
}

/** The grace period split evenly over the three steps after init (Teleport's schedule). */
export function scheduleFrom(started: Date, gracePeriodMs: number): NonNullable<CARotation['schedule']> {
  const at = (k: number) => new Date(started.getTime() + Math.round((gracePeriodMs * k) / 3)).toISOString()
  return {updateClients: at(1), updateServers: at(2), standby: at(3)}
}

/** The key that signs now (the first active key's public half). */
export function signingPublicKey(ca: CertAuthority): string {
  return (ca.activeKeys[0] as CAKeyPair).publicKey
}

/**
 * Whether a host holding a certificate signed by `certSigner` must get a new one: once servers
 * switch (update_servers, and rollback back to the old key), and at standby, its certificate must
 * come from the key that signs now.
 */
export function hostCertOutdated(phase: RotationPhase, signingKey: string, certSigner: string): boolean {
  if (phase === 'init' || phase === 'update_clients') return false
  return keyBody(signingKey) !== keyBody(certSigner)
}

function keyBody(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ')
}
