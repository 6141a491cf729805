import {call, site} from '../api.js'
import {WEB_UI_ROUTES, type WebNode} from '../../../src/api/web-ui-routes.js'
import {h, replace} from '../dom.js'
import {menu} from '../menu.js'
import {matchesNode} from '../node-filter.js'
import {BASE, type Page} from '../router.js'
import {errorText, table} from '../ui.js'

// The nodes the user can see: hostname, address, labels as chips (a click filters by it), and a
// Connect menu of the logins the user's roles allow there, each opening a terminal in a new tab.

export function terminalHref(serverId: string, login: string): string {
  return `${BASE}/terminal/${encodeURIComponent(serverId)}/${encodeURIComponent(login)}`
}

export function nodesPage(query: URLSearchParams): Page {
  const search = h('input', {type: 'search', class: 'search', placeholder: 'Search: text or label=value', 'aria-label': 'Search nodes', spellcheck: false, value: query.get('q') ?? ''})
  const count = h('span', {class: 'muted count'})
  const body = h('div', {class: 'table-wrap with-menus'}, h('p', {class: 'muted'}, 'Loading…'))
  let nodes: WebNode[] = []

  const show = () => {
    const shown = nodes.filter((n) => matchesNode(n, search.value))
    count.textContent = `${shown.length} of ${nodes.length} node${nodes.length === 1 ? '' : 's'}`
    replace(
      body,
      table(
        ['Hostname', 'Address', 'Labels', ''],
        shown.map((node) =>
          h(
            'tr',
            {'data-node': node.hostname},
            h('td', {class: 'strong'}, node.hostname),
            h('td', {class: 'mono'}, node.addr),
            h(
              'td',
              null,
              h(
                'div',
                {class: 'chips'},
                node.labels.map((l) => h('button', {type: 'button', class: 'chip', title: `Show nodes with ${l.name}=${l.value}`, onclick: () => addFilter(`${l.name}=${l.value}`)}, `${l.name}: ${l.value}`)),
              ),
            ),
            h('td', {class: 'right'}, menu('Connect', node.logins.map((login) => ({label: login, href: terminalHref(node.id, login), newTab: true})), 'Your roles allow no login on this node')),
          ),
        ),
        nodes.length ? 'No node matches the search.' : 'No nodes are registered in the cluster, or your roles show none.',
      ),
    )
  }
  const addFilter = (word: string) => {
    const words = search.value.split(/\s+/).filter(Boolean)
    if (!words.includes(word)) search.value = [...words, word].join(' ')
    changed()
  }
  const changed = () => {
    const q = search.value.trim()
    history.replaceState(null, '', q ? `?q=${encodeURIComponent(q)}` : location.pathname)
    show()
  }
  search.addEventListener('input', changed)

  void site()
    .then((params) => call(WEB_UI_ROUTES.nodes, {params}))
    .then(
      (res) => {
        nodes = [...res.items].sort((a, b) => a.hostname.localeCompare(b.hostname))
        show()
      },
      (err) => replace(body, h('p', {class: 'message error', role: 'alert'}, errorText(err))),
    )
  return {
    title: 'Nodes',
    el: h('section', null, h('div', {class: 'page-head'}, h('h1', null, 'Nodes'), search, count), body),
  }
}
