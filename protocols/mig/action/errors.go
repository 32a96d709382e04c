package action

import "errors"

// Kinds of verification failure; every error Verify returns is an *Error matching exactly one
// of them with errors.Is.
var (
	ErrNameEmpty          = errors.New("action name is empty")
	ErrTargetEmpty        = errors.New("action target is empty")
	ErrSyntaxVersion      = errors.New("wrong syntax version")
	ErrWindowInverted     = errors.New("expireafter before validfrom")
	ErrExpired            = errors.New("action expired")
	ErrNoOperations       = errors.New("no operations")
	ErrNoSignatures       = errors.New("no signatures")
	ErrNotYetValid        = errors.New("action not yet valid")
	ErrSignatureEncoding  = errors.New("signature encoding invalid")
	ErrUnknownSigner      = errors.New("signature by unknown key")
	ErrBadSignature       = errors.New("signature invalid")
	ErrNoACLEntry         = errors.New("no ACL entry")
	ErrInvalidACL         = errors.New("invalid ACL entry")
	ErrDuplicateSigner    = errors.New("duplicate signer")
	ErrInsufficientWeight = errors.New("insufficient signatures weight")
	ErrDecompress         = errors.New("compressed parameters invalid")
	ErrSignedString       = errors.New("cannot build signed string")
)

// Error is a verification failure. Error() is MIG's wording (without the
// "parseCommands() -> checkActionAuthorization() -> " prefix that Engine adds), so MIG's
// console shows what operators know; Kind classifies it for callers and tests.
type Error struct {
	Kind error
	Msg  string
	Err  error // underlying cause, if any
}

func (e *Error) Error() string { return e.Msg }

// Is matches the Kind sentinel.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap gives the underlying cause (e.g. package pgp's error).
func (e *Error) Unwrap() error { return e.Err }

func reject(kind error, msg string, cause error) *Error {
	return &Error{Kind: kind, Msg: msg, Err: cause}
}
