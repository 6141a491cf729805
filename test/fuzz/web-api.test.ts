import {fuzzSuite} from './harness/suite.js'
import {WEB_API_TARGETS} from './targets/web-api.js'

fuzzSuite('web-api', WEB_API_TARGETS, new URL('./targets/web-api.ts', import.meta.url))
