import {signOut, webContext} from './api.js'
import {h} from './dom.js'
import {BASE, navigate, type Page} from './router.js'

// The frame around every page but the terminal: a top bar with the cluster, the sections, the
// user and sign-out.

const SECTIONS: [path: string, label: string][] = [
  ['nodes', 'Nodes'],
  ['sessions', 'Active sessions'],
  ['recordings', 'Recordings'],
  ['audit', 'Audit log'],
  ['account', 'Account'],
]

/** Signs out (auth revokes the session) and shows sign-in. */
export async function signOutHere(): Promise<void> {
  try {
    await signOut()
  } finally {
    navigate(`${BASE}/login`, {replace: true})
  }
}

export async function frame(page: Page, signedIn: boolean): Promise<HTMLElement> {
  if (page.chrome === 'bare') return page.el
  if (!signedIn || page.chrome === 'plain') return h('div', {class: 'anonymous'}, h('header', {class: 'topbar'}, h('span', {class: 'brand'}, 'Teleport')), h('main', {class: 'content'}, page.el))
  let cluster = ''
  let user = ''
  try {
    const context = await webContext()
    cluster = context.cluster.name
    user = context.user.name
  } catch {
    // a refused session is handled by the API layer (back to sign-in); the bar stays plain
  }
  const here = location.pathname
  return h(
    'div',
    {class: 'signed-in'},
    h(
      'header',
      {class: 'topbar'},
      h('span', {class: 'brand'}, 'Teleport'),
      cluster && h('span', {class: 'cluster', title: 'Cluster'}, cluster),
      h(
        'nav',
        {'aria-label': 'Sections'},
        SECTIONS.map(([path, label]) => h('a', {href: `${BASE}/${path}`, class: here.startsWith(`${BASE}/${path}`) ? 'active' : null, 'aria-current': here.startsWith(`${BASE}/${path}`) ? 'page' : null}, label)),
      ),
      h('span', {class: 'spacer'}),
      user && h('span', {class: 'user', title: 'Signed in as'}, user),
      h('button', {class: 'link', type: 'button', onclick: () => void signOutHere()}, 'Sign out'),
    ),
    h('main', {class: 'content'}, page.el),
  )
}
