import {cluster, secondFactor, signIn, signedIn} from '../api.js'
import {h} from '../dom.js'
import {afterSignIn, navigate, takeExpiredNotice, type Page} from '../router.js'
import {busy, errorText, field, input, isTotpCode, message, totpInput, TOTP_PROBLEM} from '../ui.js'

// Sign-in: user, password and (when the cluster asks for one) a TOTP code. Errors come from auth
// as one line (wrong password or code, locked user); an expired session is said so.

export const EXPIRED = 'Your session has expired. Sign in again.'

export function loginPage(query: URLSearchParams): Page {
  if (signedIn() && !query.has('user')) {
    // Already signed in in this tab: nothing to do here.
    queueMicrotask(() => navigate(afterSignIn(query), {replace: true}))
  }
  const user = input({name: 'user', autocomplete: 'username', required: true, autofocus: true, spellcheck: false, autocapitalize: 'off'})
  user.value = query.get('user') ?? ''
  const pass = input({name: 'password', type: 'password', autocomplete: 'current-password', required: true})
  const code = totpInput()
  const codeField = field('Authenticator code', code)
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Sign in')
  const note = message()
  if (takeExpiredNotice()) note.info(EXPIRED)
  const heading = h('p', {class: 'muted'}, '')
  void cluster().then(
    (name) => (heading.textContent = `Cluster ${name}`),
    () => {},
  )
  void secondFactor().then(
    (mode) => {
      const required = mode !== 'off'
      codeField.hidden = !required
      code.required = mode === 'otp' || mode === 'on'
    },
    () => {},
  )
  const form = h(
    'form',
    {class: 'panel narrow', novalidate: true, 'aria-label': 'Sign in'},
    h('h1', null, 'Sign in to Teleport'),
    heading,
    note.el,
    field('User name', user),
    field('Password', pass),
    codeField,
    h('div', {class: 'actions'}, submit),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    if (!user.value.trim() || !pass.value) return note.error('Enter your user name and password.')
    if (!codeField.hidden && code.required && !isTotpCode(code.value)) return note.error(TOTP_PROBLEM)
    void busy(submit, async () => {
      note.clear()
      try {
        await signIn({user: user.value.trim(), pass: pass.value, ...(code.value.trim() ? {second_factor_token: code.value.trim()} : {})})
      } catch (err) {
        pass.value = ''
        code.value = ''
        note.error(errorText(err))
        return
      }
      navigate(afterSignIn(query), {replace: true})
    })
  })
  return {title: 'Sign in', chrome: 'plain', el: form}
}
