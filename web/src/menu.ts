import {h, type Child} from './dom.js'

// A button that opens a list of links below it; Escape or a click elsewhere closes it.

let open: {close: () => void} | null = null
document.addEventListener('click', () => open?.close())
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') open?.close()
})

export function menu(label: string, items: {label: string; href: string; newTab?: boolean}[], empty: string): HTMLElement {
  if (items.length === 0) return h('button', {type: 'button', class: 'menu-button', disabled: true, title: empty}, label)
  const list = h(
    'ul',
    {class: 'menu-list', role: 'menu', hidden: true},
    items.map((item): Child =>
      h(
        'li',
        {role: 'none'},
        // rel=opener: a tab opened from here starts with this tab's sessionStorage (the session).
        h('a', {role: 'menuitem', href: item.href, ...(item.newTab ? {target: '_blank', rel: 'opener'} : {})}, item.label),
      ),
    ),
  )
  const button = h('button', {type: 'button', class: 'menu-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false'}, label, h('span', {class: 'caret', 'aria-hidden': 'true'}, '▾'))
  const self = {
    close: () => {
      list.hidden = true
      button.setAttribute('aria-expanded', 'false')
      if (open === self) open = null
    },
  }
  button.addEventListener('click', (event) => {
    event.stopPropagation()
    const wasOpen = !list.hidden
    open?.close()
    if (wasOpen) return
    list.hidden = false
    button.setAttribute('aria-expanded', 'true')
    open = self
    list.querySelector('a')?.focus()
  })
  list.addEventListener('click', () => self.close())
  return h('div', {class: 'menu'}, button, list)
}
