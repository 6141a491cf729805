import {BadParameterError} from '../../lib/errors.js'

/** A recording that is truncated or corrupted: says where reading stopped. */
export class RecordingDamagedError extends BadParameterError {
  override name = 'RecordingDamagedError'
  constructor(
    readonly file: string,
    /** Where the damage starts: everything before this byte was read intact. */
    readonly byteOffset: number,
    /** How many events (ei 0 to eventIndex - 1) were read before it: the next ei expected. */
    readonly eventIndex: number,
    readonly reason: string,
  ) {
    super(`recording ${file} is damaged at byte ${byteOffset}, after ${eventIndex} event(s): ${reason}`)
  }
}
