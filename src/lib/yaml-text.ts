import YAML from 'yaml'
import {escapeEncoded, hasRawAfterEncoding} from './safe-text.js'

/** YAML as data commands print it, safe on a terminal: see escapeEncoded in safe-text.ts. */
export function toSafeYAML(data: unknown): string {
  const doc = new YAML.Document(data)
  YAML.visit(doc, {
    Scalar(_, node) {
      // Only a double-quoted scalar can carry the \u escapes.
      if (typeof node.value === 'string' && hasRawAfterEncoding(node.value)) node.type = 'QUOTE_DOUBLE'
    },
  })
  return escapeEncoded(doc.toString())
}
