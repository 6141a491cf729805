import {fuzzSuite} from './harness/suite.js'
import {AUTH_API_TARGETS} from './targets/auth-api.js'

fuzzSuite('auth API requests', AUTH_API_TARGETS, new URL('./targets/auth-api.ts', import.meta.url))
