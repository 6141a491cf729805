// Types for the deep imports of undici (src/api/client.ts, http-call.ts): its HTTP/1.1 client
// and its request function, without the index's fetch, cookies and WebSocket.
declare module 'undici/lib/dispatcher/client.js' {
  import type {Client} from 'undici'
  const UndiciClient: typeof Client
  export default UndiciClient
}

declare module 'undici/lib/api/api-request.js' {
  import type {Dispatcher} from 'undici'
  /** What the index adds to every dispatcher as `dispatcher.request(options)`. */
  const request: (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>
  export default request
}
