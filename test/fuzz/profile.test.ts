import {fuzzSuite} from './harness/suite.js'
import {PROFILE_TARGETS} from './targets/profile.js'

fuzzSuite('profile', PROFILE_TARGETS, new URL('./targets/profile.ts', import.meta.url))
