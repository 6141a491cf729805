import {h, replace, type Child} from './dom.js'
import {dateTimeInput} from './format.js'
import {errorText} from './ui.js'

// A list read a page at a time (startKey from the proxy): Previous goes back through the keys
// already seen, Next follows the last answer's key.

export interface Pager {
  el: HTMLElement
  /** Start again from the first page (a new search). */
  reset: () => void
}

export function pager<T>(load: (startKey: string | undefined) => Promise<{items: T[]; startKey?: string}>, render: (items: T[]) => Child): Pager {
  const body = h('div', {class: 'table-wrap'})
  const prev = h('button', {type: 'button', disabled: true}, '‹ Previous')
  const next = h('button', {type: 'button', disabled: true}, 'Next ›')
  const where = h('span', {class: 'muted'})
  const keys: (string | undefined)[] = [undefined]
  let index = 0
  let nextKey: string | undefined
  let turn = 0

  const show = async () => {
    const mine = ++turn
    prev.disabled = next.disabled = true
    where.textContent = 'Loading…'
    try {
      const page = await load(keys[index])
      if (mine !== turn) return
      nextKey = page.startKey
      replace(body, render(page.items))
      where.textContent = `Page ${index + 1}`
    } catch (err) {
      if (mine !== turn) return
      nextKey = undefined
      replace(body, h('p', {class: 'message error', role: 'alert'}, errorText(err)))
      where.textContent = ''
    }
    prev.disabled = index === 0
    next.disabled = !nextKey
  }
  prev.addEventListener('click', () => {
    index = Math.max(0, index - 1)
    void show()
  })
  next.addEventListener('click', () => {
    keys.splice(index + 1, keys.length, nextKey)
    index++
    void show()
  })
  return {
    el: h('div', null, body, h('div', {class: 'pager'}, prev, where, next)),
    reset: () => {
      keys.splice(0, keys.length, undefined)
      index = 0
      void show()
    },
  }
}

/** from/to inputs for a time range, the last `days` days by default. */
export function timeRange(days: number): {from: HTMLInputElement; to: HTMLInputElement; value: () => {from: string; to: string} | null} {
  const now = new Date()
  const from = h('input', {type: 'datetime-local', 'aria-label': 'From', value: dateTimeInput(new Date(now.getTime() - days * 86_400_000))})
  const to = h('input', {type: 'datetime-local', 'aria-label': 'To', title: 'Empty: now', value: ''})
  return {
    from,
    to,
    // An empty "to" means now, read at each search (so new events show on Search).
    value: () => {
      const start = new Date(from.value)
      const end = to.value ? new Date(to.value) : new Date(Date.now() + 60_000)
      if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || start >= end) return null
      return {from: start.toISOString(), to: end.toISOString()}
    },
  }
}

