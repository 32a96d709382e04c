// Package pgp verifies OpenPGP v4 detached signatures against armored public keys
// (RFC 4880, RFC 9580), implementing only what MIG's action signatures need: no encryption,
// no signing, no secret keys, no v5/v6 keys or signatures.
//
// Supported public-key algorithms for signing: RSA (1, 3), DSA (17), ECDSA (19) on NIST P-256,
// P-384 and P-521, EdDSA-legacy (22) on Ed25519, and Ed25519 (27). Subkeys of any other
// algorithm (ECDH, ElGamal, Ed448, brainpool curves...) are kept opaque: their binding
// signatures are still checked (the primary key made them), but they are never used.
//
// API: ReadArmoredKey (or ReadKey for binary) reads one investigator key and checks its
// self-signatures; Key.Fingerprint is what MIG's ACL lists. ParseSignature exposes a
// signature's CreationTime; VerifyDetached(keys, message, sig, at) returns the key that made
// sig, judging expiry and revocation at time at. Errors: ErrUnknownIssuer when no key of the
// keyring may have made it, ErrBadSignature, ErrKeyExpired, ErrKeyRevoked,
// ErrSignatureExpired, and descriptive errors for malformed input, all with go-crypto's
// "openpgp: " texts, which MIG's agent logs.
//
// The accept/reject rules follow ProtonMail go-crypto v1.4.1 (openpgp.ReadArmoredKeyRing and
// openpgp.CheckDetachedSignature), which the agent used before; the differential tests hold
// the two side by side. Deliberate differences, all of them refusals where go-crypto would
// accept (errors carrying the unexported errStricter marker), because this code decides
// whether a remote action runs and refusing is the safe side when unsure:
//
//   - The armor CRC24 is checked when present; private key blocks and more than one armor
//     block or primary key per input are refused.
//   - Packets must be framed exactly: no partial or indeterminate lengths, no bytes left over
//     inside a key or signature packet, nothing but signature packets in a signature.
//   - The two-byte hash prefix of every v4 signature is checked (go-crypto checks it only for
//     v5+ signatures).
//   - Primary keys of unsupported algorithms or curves, RSA or DSA moduli over 8192 bits, and
//     v6 key or signature packets are refused; so are secret key packets, message packets,
//     malformed marker or user attribute packets in a key, a user ID revoked but never
//     certified, key files over 1 MiB, and an embedded signature inside an embedded
//     signature.
//   - A signature made before its key was created is refused.
//   - A subkey we cannot use never signs: a signature by it is "unknown issuer".
//
// Like go-crypto, a signature packet it cannot read (version other than 4 or 6, unknown
// algorithm or hash, unknown critical subpacket in the hashed area, non-exportable) is
// ignored: in a key it certifies nothing, and a detached signature made only of such
// packets is "unknown issuer", so the action is refused.
//
// Hashes are go-crypto v1's: SHA-1, SHA-2 and SHA3-256/512; signature packets using MD5 or
// RIPEMD-160 are skipped as go-crypto skips them (so such a signature is "unknown issuer").
// SHA-1 message signatures still verify, as before and as MIG requires
// (shared/protocols/mig.md §4.3), although go-crypto's v2 API would refuse them by default.
//
// Two differences go the other way, on purpose. A v4 subkey whose algorithm or curve
// go-crypto cannot parse, or a signing subkey of an algorithm only go-crypto verifies
// (brainpool, Ed448) with a bad back-signature, would make go-crypto refuse the whole key;
// here such a subkey is kept opaque and unused and the rest of the key loads (the agent must
// load investigators' gpg keys whatever subkeys they carry). And when several keys of
// the keyring share the signature's 64-bit key ID, each is tried with the right digest
// (go-crypto reuses a finished hash after the first, so only the first can verify); they
// are all trusted keys, and the one that verified is the one returned.
package pgp
