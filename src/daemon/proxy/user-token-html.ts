import {createHash} from 'node:crypto'

// The invite and reset pages: plain server-rendered HTML, no JavaScript, readable in any browser
// and with curl. Every dynamic value is escaped. The one inline style sheet is allowed by its hash
// in the Content-Security-Policy, so nothing else inline can run or style the page.

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1c1e21;margin:0}
main{max-width:30rem;margin:3rem auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin-top:0}
label{display:block;margin:1rem 0 .3rem;font-weight:600}
input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #bbb;border-radius:4px}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:4px;background:#512fc9;color:#fff;cursor:pointer}
.error{background:#fdecea;color:#8a1c12;border:1px solid #f5c2bd;border-radius:4px;padding:.6rem}
.qr{display:block;margin:1rem auto;width:200px;height:200px;image-rendering:pixelated}
code,pre{background:#f0f0f0;border-radius:4px;padding:.15rem .35rem;font-size:.95rem;word-break:break-all}
pre{padding:.7rem;white-space:pre-wrap}
.muted{color:#666;font-size:.9rem}
`

/** What the page's Content-Security-Policy header must say. */
export const PAGE_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "script-src 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ')

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c] as string)
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} - Teleport</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`
}

export interface UserTokenFormView {
  kind: 'invite' | 'reset'
  user: string
  /** When the link stops working. */
  expires: Date
  /** The path the form posts back to. */
  action: string
  csrf: string
  /** Absent when the cluster's second factor is off. */
  totp?: {qrDataUrl: string; secret: string; required: boolean}
  error?: string
}

export function renderUserTokenForm(view: UserTokenFormView): string {
  const title = view.kind === 'invite' ? 'Set up your account' : 'Reset your password'
  const intro =
    view.kind === 'invite'
      ? `Welcome, <strong>${escapeHtml(view.user)}</strong>. Choose a password${view.totp ? ' and set up your authenticator app' : ''} to finish creating your account.`
      : `Choose a new password${view.totp ? ' and set up your authenticator app again' : ''} for <strong>${escapeHtml(view.user)}</strong>.`
  const grouped = view.totp ? view.totp.secret.replace(/(.{4})(?=.)/g, '$1 ') : ''
  const totp = view.totp
    ? `
<h2>Authenticator app</h2>
<p>Scan this QR code with an authenticator app (Google Authenticator, Authy, 1Password, ...):</p>
<img class="qr" src="${escapeHtml(view.totp.qrDataUrl)}" alt="QR code of the one-time password secret" width="200" height="200">
<p>Or enter this secret by hand (time-based, 6 digits, 30 seconds):</p>
<p><code id="totp-secret" data-secret="${escapeHtml(view.totp.secret)}">${escapeHtml(grouped)}</code></p>
<label for="otp_code">6-digit code from the app${view.totp.required ? '' : ' (optional)'}</label>
<input id="otp_code" name="otp_code" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code"${view.totp.required ? ' required' : ''}>`
    : ''
  return page(
    title,
    `<h1>${title}</h1>
${view.error ? `<p class="error" role="alert">${escapeHtml(view.error)}</p>` : ''}
<p>${intro}</p>
<form method="post" action="${escapeHtml(view.action)}" autocomplete="off">
<input type="hidden" name="csrf_token" value="${escapeHtml(view.csrf)}">
<input type="text" name="username" value="${escapeHtml(view.user)}" autocomplete="username" hidden>
<label for="password">Password (6 to 128 characters)</label>
<input id="password" name="password" type="password" minlength="6" maxlength="128" autocomplete="new-password" required>
<label for="password_confirm">Confirm password</label>
<input id="password_confirm" name="password_confirm" type="password" minlength="6" maxlength="128" autocomplete="new-password" required>
${totp}
<button type="submit">${view.kind === 'invite' ? 'Create account' : 'Set password'}</button>
</form>
<p class="muted">This link works once and expires at ${escapeHtml(view.expires.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}.</p>`,
  )
}

export function renderUserTokenDone(view: {user: string; kind: 'invite' | 'reset'; loginCommand: string}): string {
  return page(
    'Account ready',
    `<h1>Your account is ready</h1>
<p>${view.kind === 'invite' ? 'The account' : 'The new password'} for <strong>${escapeHtml(view.user)}</strong> is set. Log in from a terminal with:</p>
<pre id="login-command">${escapeHtml(view.loginCommand)}</pre>`,
  )
}

export function renderMessagePage(title: string, message: string, hint?: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p class="error" role="alert">${escapeHtml(message)}</p>${hint ? `\n<p>${escapeHtml(hint)}</p>` : ''}`)
}
