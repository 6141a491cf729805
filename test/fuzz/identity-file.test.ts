import {fuzzSuite} from './harness/suite.js'
import {IDENTITY_TARGETS} from './targets/identity-file.js'

fuzzSuite('identity-file', IDENTITY_TARGETS, new URL('./targets/identity-file.ts', import.meta.url))
