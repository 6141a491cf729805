import {planCreate} from '../../../src/tctl/resources.js'
import {yamlText} from '../arbitraries.js'
import {target} from '../harness/target.js'

// `tctl create -f <file>`: YAML or JSON documents → resource envelopes → each kind's checks.

const keys = ['kind', 'version', 'metadata', 'name', 'spec', 'allow', 'deny', 'logins', 'node_labels', 'rules', 'resources', 'verbs', 'where', 'roles', 'options', 'max_session_ttl', 'expires', 'labels', 'traits', 'static', 'description', 'status', 'password_hash', '__proto__', 'constructor']
const scalars = ['role', 'user', 'token', 'node', 'v2', 'v3', 'v7', 'admin', 'root', '*', '{{internal.logins}}', '2030-01-01T00:00:00Z', 'yesterday', '8h', '-1h', 'node,proxy', 'list', 'read']

export const TCTL_RESOURCE_TARGETS = [
  target({
    name: 'tctl-create-resources',
    arbitrary: yamlText(keys, scalars),
    run: (text: string) => planCreate(text, 'resources.yaml'),
  }),
]
