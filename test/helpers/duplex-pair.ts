// Tests take the same in-memory socketpair the proxy uses.
export {duplexPair} from '../../src/lib/net/duplex-pair.js'
