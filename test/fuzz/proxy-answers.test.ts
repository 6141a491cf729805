import {fuzzSuite} from './harness/suite.js'
import {PROXY_ANSWER_TARGETS} from './targets/proxy-answers.js'

fuzzSuite('proxy answers to tsh login', PROXY_ANSWER_TARGETS, new URL('./targets/proxy-answers.ts', import.meta.url))
