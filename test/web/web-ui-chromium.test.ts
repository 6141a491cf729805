import {webUiSuite} from './web-ui-suite.js'

// The web UI's end-to-end suite (web-ui-suite.ts) in Debian's Chromium.
webUiSuite('chromium')
