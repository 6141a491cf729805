// Ed25519 key pairs and OpenSSH certificates: mint, parse, verify. The public face of src/sshca.

export {generateKeyPair, publicKeyFromPrivate, loadPrivateKey, encodeOpenSshPrivateKey, type KeyPair} from './private-key.js'
export {fingerprint, fingerprintOfBlob, caPin} from './fingerprint.js'
export {parsePublicKeyLine, publicKeyLine, publicKeyObjectFromBlob, blobFromKeyObject, certBaseType, type SshPublicKeyLine} from './public-key.js'
export {signSsh, verifySshSignature, type SignatureCheck} from './signature.js'
export {FOREVER, type CertType} from './cert-format.js'
export {signUserCert, signHostCert, CLOCK_SKEW_BACKDATE_SECONDS, type UserCertRequest, type HostCertRequest} from './sign.js'
export {parseCert, type ParsedCert} from './parse.js'
export {verifyCert, CertificateError, type CertificateErrorReason, type VerifyOptions} from './verify.js'
export {sourceAddressAllows, parseSourceAddressList} from './source-address.js'
export * from './teleport-extensions.js'
