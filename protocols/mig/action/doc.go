// Package action verifies and executes MIG actions: the part of the MIG adapter that needs no
// broker. The transport (package mig) hands Engine.Handle the raw body of every command taken
// from the relay and publishes the bytes it returns. Everything follows
// shared/protocols/mig.md; section numbers below refer to it.
//
// Contract:
//
//   - Action, Operation, Description, Threat, ActionCounters, Investigator: MIG's action JSON
//     with MIG's field names, types, order and omitempty rules, so json.Marshal echoes what
//     MIG's agent echoes (§3.2). IDs are float64 and echoed unchanged.
//   - Command, Agent, AgentEnv, AgentEnvAWS: MIG's command object and its legacy lower-case
//     agent schema (also the legacy AMQP heartbeat body, §3.5).
//   - StatusSuccess, StatusFailed, StatusTimeout: the command statuses the agent sets.
//   - SignedString(a): the exact bytes investigators sign (§4.2), quirks included (the
//     "%!s(int64=…)" artefact, generic re-encoding of parameters, \u0008/\u000c).
//   - ParseSignature(s) decodes MIG's one-line signature form (detached v4 signature,
//     armored then reduced to one line with its CRC-24, §4.3), checking the CRC; OneLine
//     reduces any armored signature; Fingerprint gives a key's primary-key fingerprint as ACLs
//     list it. Signing lives in migfake (migfake.Sign): the agent links no signing code.
//   - ParseKeyring(armored...) and LoadKeyringDir(dir, logger): the investigators' public keys,
//     one per file (§4.4), read and verified by package pgp.
//   - ParseACL(json), LoadACLFile(path, logger), DenyAllACL(): the weighted per-module ACL with
//     its "default" entry (§4.5).
//   - Verifier{Keyring, ACL, OnlyVerifyPubKey, Now}.Verify(a): fields and syntax version,
//     validity window, every signature, the weighted ACL with the duplicate-signer rule, in
//     MIG's order (§4.1). Failures are *Error: Error() is MIG's wording, errors.Is matches one
//     of the Err* kinds.
//   - ExpandParameters(a): each operation's parameters as JSON for its module, compressed ones
//     expanded (base64 → gunzip → JSON); only after Verify, since the signature covers the
//     compressed form.
//   - Engine{Verifier, Modules, Logger, Now, DefaultTimeout, QueueLoc}.Handle(ctx, raw): raw
//     command in, raw result out: compact json.Marshal bytes, no trailing newline, action and
//     agent echoed as received (unknown fields dropped, pid kept, agent.queueloc = QueueLoc).
//     A refused action is answered failed with the "parseCommands() -> …" reason in every
//     result (one result when the action has no operations) and nothing runs. Otherwise the
//     operations run concurrently, each under min(DefaultTimeout, expireafter − now);
//     results[i] answers operations[i]; statuses success/failed/timeout, unknown modules
//     "module 'x' is not available", a module panic is a failed result; the command status is
//     the first failed/timeout in operation order. Handle returns an error and no bytes only
//     when nothing can be answered (body not a command, or id 0). Safe for concurrent use.
package action
