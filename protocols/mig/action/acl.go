package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/omniagent/omniagent/limitread"
)

// ACL is MIG's weighted access control list: module name (case-sensitive) or "default" →
// entry. Inner field names match case-insensitively, as encoding/json does for MIG.
type ACL map[string]ACLEntry

// ACLEntry is the minimum summed weight of signers an operation of that module needs, and the
// investigators (name → key and weight) that count.
type ACLEntry struct {
	MinimumWeight int                        `json:"minimumweight"`
	Investigators map[string]ACLInvestigator `json:"investigators"`
}

// ACLInvestigator is one signer: the primary key fingerprint (40 hex, any case) and its weight.
type ACLInvestigator struct {
	Fingerprint string `json:"fingerprint"`
	Weight      int    `json:"weight"`
}

// ParseACL decodes MIG's acl.cfg JSON.
func ParseACL(b []byte) (ACL, error) {
	var acl ACL
	if err := json.Unmarshal(b, &acl); err != nil {
		return nil, fmt.Errorf("parse MIG ACL: %w", err)
	}
	if acl == nil {
		return nil, errors.New("parse MIG ACL: not a JSON object")
	}
	return acl, nil
}

// DenyAllACL is MIG's built-in ACL used when acl.cfg is missing: a default needing weight 1
// with nobody listed, so every operation is denied.
func DenyAllACL() ACL {
	return ACL{"default": {MinimumWeight: 1}}
}

// LoadACLFile reads acl.cfg. A missing, unreadable or invalid file gives DenyAllACL (MIG
// refuses to start on invalid JSON; we keep running, log, and deny everything).
func LoadACLFile(path string, logger *slog.Logger) ACL {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b, err := limitread.File(path, 4<<20)
	if err != nil {
		logger.Warn("mig ACL file unreadable: every action will be denied", "file", path, "err", err)
		return DenyAllACL()
	}
	acl, err := ParseACL(b)
	if err != nil {
		logger.Error("mig ACL file invalid: every action will be denied", "file", path, "err", err)
		return DenyAllACL()
	}
	return acl
}

// check authorises one operation of module given the signers' fingerprints in signature
// order (MIG's verifyPermission, with the note's lower-case wording).
func (acl ACL) check(module string, fingerprints []string) *Error {
	name := module
	ent, ok := acl[module]
	if !ok {
		ent, ok = acl["default"]
		if !ok {
			return reject(ErrNoACLEntry, fmt.Sprintf("no ACL entry found for %s, and no default present", module), nil)
		}
		name = "default"
	}
	if ent.MinimumWeight < 1 {
		return reject(ErrInvalidACL, fmt.Sprintf("invalid ACL %s, weight must be > 0", name), nil)
	}
	seen := make(map[string]bool, len(fingerprints))
	weight := 0
	for _, fp := range fingerprints {
		key := strings.ToUpper(fp)
		if seen[key] {
			return reject(ErrDuplicateSigner, fmt.Sprintf("permission violation: key %s used to sign multiple times", fp), nil)
		}
		seen[key] = true
		for _, inv := range ent.Investigators {
			if strings.EqualFold(inv.Fingerprint, fp) {
				weight += inv.Weight
			}
		}
	}
	if weight < ent.MinimumWeight {
		return reject(ErrInsufficientWeight, fmt.Sprintf(
			"permission denied for operation %s, insufficient signatures weight (need %d, got %d)",
			module, ent.MinimumWeight, weight), nil)
	}
	return nil
}
