// The tests' one way to wait for something another process or socket does: poll a check until it
// holds, bounded by a deadline. Time the code under test measures moves through the clock seam
// (FakeClock) instead; this is only for waiting on real I/O.

export const POLL_TIMEOUT_MS = 30_000
const POLL_INTERVAL_MS = 100

/** Returns the awaited value when ready; undefined or false for "not yet". */
export type PollCheck<T> = () => Promise<T | undefined | false> | T | undefined | false

export interface PollOptions {
  /** How long to keep trying; 30 s by default. */
  timeoutMs?: number
  /** The pause between tries; 100 ms by default. */
  intervalMs?: number
}

/**
 * The first value of `check` other than undefined and false, or undefined once the deadline has
 * passed (for a test that then reports what it saw instead). A throwing check counts as "not yet";
 * the last error is handed to `onError`.
 */
export async function poll<T>(check: PollCheck<T>, options: PollOptions & {onError?: (err: unknown) => void} = {}): Promise<T | undefined> {
  const deadline = Date.now() + (options.timeoutMs ?? POLL_TIMEOUT_MS)
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (err) {
      options.onError?.(err)
    }
    if (Date.now() >= deadline) return undefined
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? POLL_INTERVAL_MS))
  }
}

/** As poll, but throws `timed out waiting for <what>` (with the last error) at the deadline. */
export async function eventually<T>(check: PollCheck<T>, what: string, options: PollOptions = {}): Promise<T> {
  let lastError: unknown
  const value = await poll(check, {...options, onError: (err) => (lastError = err)})
  if (value === undefined) throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`)
  return value
}
