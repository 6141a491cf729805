// The proxy's invite and reset pages as a browser user sees them: the link's token, the TOTP
// secret shown beside the QR code, and the form's CSRF field.

export function tokenOf(url: string): string {
  const token = /\/web\/(?:invite|reset)\/([0-9a-f]{32})$/.exec(url)?.[1]
  if (!token) throw new Error(`no token in ${url}`)
  return token
}

/** What the invite page shows: the TOTP secret, the CSRF field and the QR code image. */
export function parseInvitePage(html: string): {secret?: string; csrf: string; qr?: string} {
  const secret = /id="totp-secret" data-secret="([A-Z2-7]+)"/.exec(html)?.[1]
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1]
  const qr = /<img class="qr" src="(data:image\/png;base64,[A-Za-z0-9+/=]+)"/.exec(html)?.[1]
  if (!csrf) throw new Error('no CSRF field on the page')
  return {csrf, ...(secret ? {secret} : {}), ...(qr ? {qr} : {})}
}
