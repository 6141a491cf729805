// Types for the `bcrypt` package (v6 ships none and @types/bcrypt is not installed).
// Only what src/services/password.ts uses.
declare module 'bcrypt' {
  export function hash(data: string | Buffer, saltOrRounds: string | number): Promise<string>
  export function compare(data: string | Buffer, encrypted: string): Promise<boolean>
  export function getRounds(encrypted: string): number
  const bcrypt: {hash: typeof hash; compare: typeof compare; getRounds: typeof getRounds}
  export default bcrypt
}
