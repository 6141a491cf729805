// One error taxonomy for the whole product. Commands throw these; the entrypoint's
// handler (src/lib/cli/handle-error.ts) turns them into one stderr line and an exit code.

/** Something the user can fix: bad input, not logged in, access denied. Exit 1. */
export class UserError extends Error {
  readonly exitCode: number = 1
  /** Optional second line telling the user what to do next. */
  readonly hint?: string
  /** Text laid out by someone else (the proxy's ambiguous-host table), escaped, printed as is instead of the line. */
  details?: string
  constructor(message: string, options: {hint?: string; cause?: unknown} = {}) {
    super(message, {cause: options.cause})
    this.name = 'UserError'
    this.hint = options.hint
  }
}

/** The command line itself is wrong: unknown flag, missing argument. Exit 2. */
export class UsageError extends UserError {
  override readonly exitCode: number = 2
  override name = 'UsageError'
}

/** A named resource does not exist. */
export class NotFoundError extends UserError {
  override name = 'NotFoundError'
}

/** What `work` resolves to, or undefined when it fails with NotFoundError ("absent" is an answer). */
export async function unlessNotFound<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work
  } catch (err) {
    if (err instanceof NotFoundError) return undefined
    throw err
  }
}

/** A resource already exists where a new one was to be created. */
export class AlreadyExistsError extends UserError {
  override name = 'AlreadyExistsError'
}

/** The caller is authenticated but not allowed, or the credentials are refused. */
export class AccessDeniedError extends UserError {
  override name = 'AccessDeniedError'
}

/** A compare-and-swap or conditional write lost a race. */
export class CompareFailedError extends UserError {
  override name = 'CompareFailedError'
}

/** Input that cannot be parsed or fails validation (a config file, a YAML resource, a certificate). */
export class BadParameterError extends UserError {
  override name = 'BadParameterError'
}

/** Too many attempts in too short a time: try again later. */
export class LimitExceededError extends UserError {
  override name = 'LimitExceededError'
}

/** A service this one depends on (etcd, auth) cannot be reached or did not answer in time. */
export class ConnectionProblemError extends UserError {
  override name = 'ConnectionProblemError'
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError
}
