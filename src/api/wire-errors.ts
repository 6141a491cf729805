import {
  AccessDeniedError,
  AlreadyExistsError,
  BadParameterError,
  CompareFailedError,
  LimitExceededError,
  NotFoundError,
  UserError,
} from '../lib/errors.js'

// Errors cross the auth API and the proxy's web API as an HTTP status plus
// {error: {kind, message, hint}} and are rebuilt on the client as the same class, so a tctl
// user sees the server's own sentence. The one map from error class to status, as Teleport's
// trace errors map (AlreadyExists 409 Conflict, CompareFailed 412 Precondition Failed).

const KINDS = {
  'access-denied': {status: 403, make: (m: string, h?: string) => new AccessDeniedError(m, {hint: h})},
  'not-found': {status: 404, make: (m: string, h?: string) => new NotFoundError(m, {hint: h})},
  'already-exists': {status: 409, make: (m: string, h?: string) => new AlreadyExistsError(m, {hint: h})},
  'compare-failed': {status: 412, make: (m: string, h?: string) => new CompareFailedError(m, {hint: h})},
  'bad-parameter': {status: 400, make: (m: string, h?: string) => new BadParameterError(m, {hint: h})},
  'limit-exceeded': {status: 429, make: (m: string, h?: string) => new LimitExceededError(m, {hint: h})},
  user: {status: 422, make: (m: string, h?: string) => new UserError(m, {hint: h})},
  internal: {status: 500, make: (m: string) => new Error(m)},
} as const

export type WireErrorKind = keyof typeof KINDS

export interface WireError {
  kind: WireErrorKind
  message: string
  hint?: string
}

/** The kind of an error, by its class (subclasses before the UserError they extend). */
export function errorKind(err: unknown): WireErrorKind {
  if (err instanceof AccessDeniedError) return 'access-denied'
  if (err instanceof NotFoundError) return 'not-found'
  if (err instanceof AlreadyExistsError) return 'already-exists'
  if (err instanceof CompareFailedError) return 'compare-failed'
  if (err instanceof BadParameterError) return 'bad-parameter'
  if (err instanceof LimitExceededError) return 'limit-exceeded'
  if (err instanceof UserError) return 'user'
  return 'internal'
}

export function statusOfKind(kind: WireErrorKind): number {
  return KINDS[kind].status
}

export function toWireError(err: unknown): {status: number; body: {error: WireError}} {
  const kind = errorKind(err)
  // Internal errors keep their details on the server (logged there), not on the wire.
  const message = kind === 'internal' ? 'internal error in the auth service (see its log)' : (err as Error).message
  const hint = err instanceof UserError ? err.hint : undefined
  return {status: statusOfKind(kind), body: {error: {kind, message, ...(hint ? {hint} : {})}}}
}

export function fromWireError(status: number, body: unknown): Error {
  const wire = (body as {error?: WireError} | undefined)?.error
  if (wire && Object.hasOwn(KINDS, wire.kind)) return KINDS[wire.kind].make(wire.message, wire.hint)
  return new Error(`auth API answered HTTP ${status}`)
}

/** A response body as JSON, or undefined when it is empty or not JSON (an error page, say). */
export function parseJsonBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined
  } catch {
    return undefined
  }
}
