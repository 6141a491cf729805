import fc from 'fast-check'
import {deepStrictEqual} from 'node:assert'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {FileKeyStore} from '../../../src/client/key-store.js'
import type {Profile} from '../../../src/client/profile-file.js'
import {oddText, yamlText} from '../arbitraries.js'
import {scratchDir} from '../harness/scratch.js'
import {target} from '../harness/target.js'

// ~/.tsh/<proxy>.yaml read through the real FileKeyStore, as every tsh command does; and a
// profile written by tsh must read back the same.

const store = () => new FileKeyStore(scratchDir())

const keys = ['web_proxy_addr', 'ssh_proxy_addr', 'user', 'cluster', 'auth_type', 'forward_ports', 'dynamic_forward_ports', 'insecure']
const scalars = ['proxy.example.com:3080', 'alice', 'example.com', 'local', 'true', 'false', '[]', '[a, b]', "'it''s'", '"q\\"uote"', '- item', '# comment']

const lines = fc.array(fc.oneof(fc.tuple(fc.constantFrom(...keys), fc.oneof(fc.constantFrom(...scalars), oddText)).map(([k, v]) => `${k}: ${v}`), fc.constantFrom(...scalars).map((v) => `- ${v}`), oddText), {maxLength: 10}).map((l) => l.join('\n'))

const text = fc.oneof(
  fc.stringMatching(/^[^\0]{0,30}$/),
  fc.array(fc.constantFrom('a', ' ', '"', "'", '#', '\\', ':', '-', '[', ']', ',', '\t', 'é'), {maxLength: 12}).map((c) => c.join('')),
)
const profiles: fc.Arbitrary<Profile> = fc.record({
  webProxyAddr: fc.tuple(fc.domain(), fc.integer({min: 1, max: 65535})).map(([h, p]) => `${h}:${p}`),
  sshProxyAddr: text,
  user: text.filter((u) => u !== ''),
  cluster: text,
  authType: text.filter((a) => a !== ''),
  forwardPorts: fc.array(text, {maxLength: 3}),
  dynamicForwardPorts: fc.array(text, {maxLength: 3}),
  insecure: fc.option(fc.constant(true), {nil: undefined}),
}, {requiredKeys: ['webProxyAddr', 'sshProxyAddr', 'user', 'cluster', 'authType', 'forwardPorts', 'dynamicForwardPorts']})

export const PROFILE_TARGETS = [
  target({
    name: 'tsh-profile',
    arbitrary: fc.oneof(lines, yamlText(keys, scalars)),
    run: (content: string) => {
      writeFileSync(path.join(scratchDir(), 'fuzz.yaml'), content)
      store().readProfile('fuzz')
    },
  }),
  target({
    name: 'tsh-profile-roundtrip',
    arbitrary: profiles,
    run: (profile: Profile) => {
      store().writeProfile(profile)
      const name = profile.webProxyAddr.slice(0, profile.webProxyAddr.lastIndexOf(':'))
      const {insecure, ...rest} = profile
      deepStrictEqual(store().readProfile(name), insecure ? {...rest, insecure} : rest)
    },
    refusals: [],
  }),
]
