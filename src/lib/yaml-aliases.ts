import type {Document} from 'yaml'
import {BadParameterError} from './errors.js'

// YAML aliases let a few lines stand for billions of values ("billion laughs"): every reader of
// YAML from a file (teleport.yaml, `tctl create`) converts through this one guard, which stops
// expansion past yaml's own budget of alias copies before the memory or the CPU goes.

/** The most alias copies a document may expand to: plenty for real files, far short of a bomb. */
export const MAX_YAML_ALIAS_COUNT = 100

/** The document as plain values; BadParameterError (prefixed with `where`) for a bomb or a dangling alias. */
export function yamlToJs(doc: Document.Parsed, where: string): unknown {
  try {
    return doc.toJS({maxAliasCount: MAX_YAML_ALIAS_COUNT})
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err
    if (/alias count/i.test(err.message)) {
      throw new BadParameterError(`${where}YAML aliases expand to too many values (more than ${MAX_YAML_ALIAS_COUNT} copies)`, {hint: 'write the values out instead of repeating anchors'})
    }
    throw new BadParameterError(`${where}invalid YAML: ${err.message}`)
  }
}
