import {signedIn} from './api.js'
import {frame} from './layout.js'
import {accountPage} from './pages/account.js'
import {auditPage} from './pages/audit.js'
import {loginPage} from './pages/login.js'
import {nodesPage} from './pages/nodes.js'
import {playerPage} from './pages/player.js'
import {recordingsPage} from './pages/recordings.js'
import {sessionsPage} from './pages/sessions.js'
import {terminalPage} from './pages/terminal.js'
import {userTokenPage} from './pages/user-token.js'
import {start, type Route} from './router.js'
import './styles.css'

// The web UI's entry: the routes under /web (docs/WEB.md) and the frame around them.

const ROUTES: Route[] = [
  {pattern: /^\/login$/, anonymous: true, page: (_, query) => loginPage(query)},
  {pattern: /^\/invite\/([^/]+)$/, anonymous: true, page: ([token]) => userTokenPage('invite', token!)},
  {pattern: /^\/reset\/([^/]+)$/, anonymous: true, page: ([token]) => userTokenPage('reset', token!)},
  {pattern: /^\/nodes$/, page: (_, query) => nodesPage(query)},
  {pattern: /^\/sessions$/, page: () => sessionsPage()},
  {pattern: /^\/recordings$/, page: () => recordingsPage()},
  {pattern: /^\/player\/([^/]+)$/, page: ([sid]) => playerPage(sid!)},
  {pattern: /^\/audit$/, page: () => auditPage()},
  {pattern: /^\/account$/, page: () => accountPage()},
  {pattern: /^\/terminal\/(join)\/([^/]+)$/, page: (match, query) => terminalPage(match, query)},
  {pattern: /^\/terminal\/([^/]+)\/([^/]+)$/, page: (match, query) => terminalPage(match, query)},
]

start(ROUTES, (page) => frame(page, signedIn()))
