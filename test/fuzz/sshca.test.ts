import {fuzzSuite} from './harness/suite.js'
import {SSHCA_TARGETS} from './targets/sshca.js'

fuzzSuite('certificates and keys', SSHCA_TARGETS, new URL('./targets/sshca.ts', import.meta.url))
