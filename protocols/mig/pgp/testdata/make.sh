#!/bin/sh
# Regenerates the gpg fixtures of package pgp (see README). Needs gpg 2.2+; tests do not.
set -eu
cd "$(dirname "$0")"
H=$(mktemp -d)
trap 'rm -rf "$H"' EXIT
g() { gpg --no-tty --homedir "$H" --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }
T0=20240101T000000   # fixture clock: keys are made here, signatures a minute later
T1=20240101T000100
printf 'action line one\nline two\r\nline three\n' > message.txt

gen() { # name uid algo usage expire
	g --faked-system-time "$T0" --quick-gen-key "$2" "$3" "$4" "$5"
	g --with-colons --list-keys "$2" | awk -F: '/^fpr/ {print $10; exit}' > "$1.fpr"
}
sign() { # name uid out [extra gpg options]
	n=$1 u=$2 o=$3; shift 3
	g --faked-system-time "$T1" --local-user "$u" --yes "$@" --output "$o" --detach-sign message.txt
}
export_key() { g --armor --export "$2" > "$1.asc"; }

gen rsa 'RSA Tester <rsa@example.net>' rsa2048 sign never
gen ed25519 'Ed Tester <ed@example.net>' ed25519 sign never
g --faked-system-time "$T0" --quick-add-key "$(cat ed25519.fpr)" cv25519 encr never  # gpg 2.3+ default
gen p256 'P256 Tester <p256@example.net>' nistp256 sign never
gen p384 'P384 Tester <p384@example.net>' nistp384 sign never
gen dsa 'DSA Tester <dsa@example.net>' dsa2048 sign never
gen subkey 'Sub Tester <sub@example.net>' rsa2048 cert never
g --faked-system-time "$T0" --quick-add-key "$(cat subkey.fpr)" ed25519 sign never
gen expired 'Expired Tester <exp@example.net>' ed25519 sign 1d
gen revoked 'Revoked Tester <rev@example.net>' ed25519 sign never
gen other 'Other Tester <other@example.net>' ed25519 sign never
# Subkeys we cannot use: ECDSA and ECDH on brainpoolP256r1 (go-crypto can).
gen brainpool 'Brainpool Tester <bp@example.net>' ed25519 sign never
g --faked-system-time "$T0" --quick-add-key "$(cat brainpool.fpr)" brainpoolP256r1/ecdsa sign never
g --faked-system-time "$T0" --quick-add-key "$(cat brainpool.fpr)" brainpoolP256r1 encr never
g --with-colons --list-keys "$(cat brainpool.fpr)" | awk -F: '/^sub/ {s=$12} /^fpr/ && s ~ /s/ {print $10; exit}' > brainpool-sub.fpr

# Several user IDs: a second one marked primary, the first revoked, a third-party certification.
gen uids 'Uids First <uids1@example.net>' ed25519 sign never
g --faked-system-time "$T0" --quick-add-uid "$(cat uids.fpr)" 'Uids Second <uids2@example.net>'
g --faked-system-time "$T0" --quick-set-primary-uid "$(cat uids.fpr)" 'Uids Second <uids2@example.net>'
g --faked-system-time "$T0" --quick-revoke-uid "$(cat uids.fpr)" 'Uids First <uids1@example.net>'
g --faked-system-time "$T0" --local-user "$(cat other.fpr)" --quick-sign-key "$(cat uids.fpr)"

for k in rsa ed25519 p256 p384 dsa subkey expired revoked other uids; do
	sign "$k" "$(cat $k.fpr)" "$k.sig"
done
sign ed25519 "$(cat ed25519.fpr)" sigexpired.sig --default-sig-expire 1d
sign rsa "$(cat rsa.fpr)" sha1.sig --digest-algo SHA1
sign ed25519 "$(cat ed25519.fpr)" text.sig --textmode
sign brainpool "$(cat brainpool.fpr)!" brainpool.sig
sign brainpool "$(cat brainpool-sub.fpr)!" brainpool-sub.sig

# Revoke after signing: gpg leaves a revocation certificate in openpgp-revocs.d.
sed 's/^:-----BEGIN/-----BEGIN/' "$H/openpgp-revocs.d/$(cat revoked.fpr).rev" > "$H/rev.asc"
g --faked-system-time 20240102T000000 --import "$H/rev.asc"

for k in rsa ed25519 p256 p384 dsa subkey expired revoked other uids brainpool; do
	export_key "$k" "$(cat $k.fpr)"
done
