import fc from 'fast-check'
import {deepStrictEqual} from 'node:assert'
import {mergeConfig, parseConfig, sampleConfig} from '../../../src/config/index.js'
import {schemaKeyPaths} from '../../../src/config/schema.js'
import {yamlText} from '../arbitraries.js'
import {target} from '../harness/target.js'

// teleport.yaml, as `teleport start` reads it: YAML → schema → the merged daemon config.

const keys = [...new Set(schemaKeyPaths().flatMap((p) => p.split('.')).map((k) => k.replace('[]', '')))]
const scalars = ['yes', 'no', 'true', 'off', '0.0.0.0:3022', '127.0.0.1:3025', ':3080', 'node', 'auth,proxy', 'otp', '1h', '30s', '-1', '0', 'info', 'stderr', 'node:abc', 'sha256:abc', '/var/lib/teleport', '~', 'null', '']

/** Values the sample may carry for a key, by dotted path, and where each lands in the parsed file. */
const words = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._:@'"#&*!%-]{0,30}$/)

export const CONFIG_TARGETS = [
  target({
    name: 'config-yaml',
    arbitrary: yamlText(keys, scalars),
    run: (text: string) => mergeConfig(parseConfig(text, 'teleport.yaml'), {}, {configFile: 'teleport.yaml'}),
  }),
  target({
    name: 'config-sample-roundtrip',
    arbitrary: fc.record({nodename: words, cluster: words, labels: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/), words, {maxKeys: 3})}),
    run: ({nodename, cluster, labels}: {nodename: string; cluster: string; labels: Record<string, string>}) => {
      const text = sampleConfig({values: {'teleport.nodename': nodename, 'auth_service.cluster_name': cluster, 'ssh_service.labels': labels}})
      const file = parseConfig(text, 'teleport.yaml') as {teleport?: {nodename?: string}; auth_service?: {cluster_name?: string}; ssh_service?: {labels?: Record<string, string>}}
      deepStrictEqual([file.teleport?.nodename, file.auth_service?.cluster_name, {...file.ssh_service?.labels}], [nodename, cluster, {...labels}])
    },
    refusals: [],
  }),
]
