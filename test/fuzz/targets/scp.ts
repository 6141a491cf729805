import fc from 'fast-check'
import path from 'node:path'
import {localEntryPath, TransferError} from '../../../src/client/scp/transfer.js'
import {oddText} from '../arbitraries.js'
import {target} from '../harness/target.js'

// `tsh scp -r` from a node: the node names the files of every directory it lists. Whatever the
// name, the file must land directly inside the local target directory, or be refused.

const DEST = '/home/alice/target'
const names = fc.oneof(
  oddText,
  fc.array(fc.constantFrom('..', '.', '/', 'a', '\0', '\\', '~', ' '), {maxLength: 8}).map((p) => p.join('')),
  fc.array(fc.constantFrom('..', '.', 'etc', 'x'), {minLength: 1, maxLength: 4}).map((p) => p.join('/')),
)

export const SCP_TARGETS = [
  target({
    name: 'scp-remote-entry-name',
    arbitrary: names,
    run: (name: string) => {
      const local = localEntryPath(DEST, name, 'node:/d')
      if (path.dirname(local) !== DEST || path.basename(local) !== name) throw new Error(`${JSON.stringify(name)} lands at ${local}`)
    },
    refusals: [TransferError],
  }),
]
