import {h, replace, type Child} from './dom.js'

// Pieces every page uses: labelled fields, a one-line message, a busy button, tables.

let fields = 0

/** A labelled input; the hint is its description, not part of its name. */
export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  const id = (input.id ||= `field-${++fields}`)
  const described = hint ? h('span', {class: 'hint', id: `${id}-hint`}, hint) : null
  if (described) input.setAttribute('aria-describedby', described.id)
  return h('div', {class: 'field'}, h('label', {class: 'label', for: id}, label), input, described)
}

export interface Message {
  el: HTMLElement
  error: (text: string) => void
  info: (text: string) => void
  clear: () => void
}

/** A one-line message under a form or above a table: an error or a notice. */
export function message(): Message {
  const el = h('p', {class: 'message', role: 'alert', hidden: true})
  const show = (kind: string, text: string) => {
    el.className = `message ${kind}`
    el.textContent = text
    el.hidden = false
  }
  return {el, error: (text) => show('error', text), info: (text) => show('info', text), clear: () => ((el.hidden = true), (el.textContent = ''))}
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Runs `work` with `button` disabled (no double submit). */
export async function busy(button: HTMLButtonElement, work: () => Promise<void>): Promise<void> {
  button.disabled = true
  try {
    await work()
  } finally {
    button.disabled = false
  }
}

export function table(headers: string[], rows: Child[], empty: string): HTMLElement {
  return h(
    'table',
    {class: 'grid'},
    h('thead', null, h('tr', null, headers.map((name) => h('th', {scope: 'col'}, name)))),
    h('tbody', null, rows.length ? rows : h('tr', {class: 'empty'}, h('td', {colspan: headers.length}, empty))),
  )
}

/** A region that shows "Loading…", then what `load` makes, or its error in one line. */
export function loading(el: HTMLElement, load: () => Promise<Child>): Promise<void> {
  replace(el, h('p', {class: 'muted'}, 'Loading…'))
  return load().then(
    (content) => replace(el, content),
    (err) => replace(el, h('p', {class: 'message error', role: 'alert'}, errorText(err))),
  )
}

export function input(props: Record<string, string | boolean>): HTMLInputElement {
  return h('input', props)
}

/** The field for a code from an authenticator app. */
export function totpInput(required = false): HTMLInputElement {
  return input({name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6', placeholder: '123456', required})
}

export const TOTP_PROBLEM = 'Enter the 6-digit code from your authenticator app.'

export function isTotpCode(value: string): boolean {
  return /^\d{6}$/.test(value.trim())
}

/** What is wrong with a new password and its confirmation (auth checks it again), or null. */
export function newPasswordProblem(password: string, confirm: string): string | null {
  if (password.length < 6 || password.length > 128) return 'The password must be 6 to 128 characters long.'
  if (password !== confirm) return 'The two passwords differ.'
  return null
}

/** New-password fields: 6 to 128 characters, as auth requires. */
export function newPasswordInput(name: string): HTMLInputElement {
  return input({type: 'password', name, autocomplete: 'new-password', minlength: '6', maxlength: '128', required: true})
}
