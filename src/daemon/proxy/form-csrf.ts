import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'

// The invite/reset form's CSRF field: an HMAC of the link's token under a secret made when the
// process starts. A page served by this proxy carries it; a form posted from elsewhere cannot
// (it would need the secret), so a cross-site post cannot set a user's password. A proxy restart
// changes the secret: an open form then asks to be submitted again.

export class FormCsrf {
  private readonly secret = randomBytes(32)

  fieldFor(token: string): string {
    return createHmac('sha256', this.secret).update(`user-token-form\0${token}`).digest('base64url')
  }

  check(token: string, field: unknown): boolean {
    if (typeof field !== 'string') return false
    const expected = Buffer.from(this.fieldFor(token))
    const given = Buffer.from(field)
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
}
