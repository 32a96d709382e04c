// Package keyparse reads SSH private keys, public keys, certificates and authorized_keys lines
// and returns the public key in SSH wire format, byte for byte as golang.org/x/crypto/ssh would
// marshal it after parsing, so fingerprints match what that package reports. It accepts and
// rejects the same inputs, without linking x/crypto/ssh (its init and symbols) into the agent.
package keyparse
