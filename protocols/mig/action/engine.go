package action

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/modules"
)

// DefaultModuleTimeout is MIG's module_timeout default.
const DefaultModuleTimeout = 300 * time.Second

// maxParams caps decompressed parameters: they come from a signed action, but a gzip bomb
// must still not exhaust memory.
const maxParams = 16 << 20

// Engine verifies commands and runs their operations. It is safe for concurrent use: the
// transport may handle several commands at once.
type Engine struct {
	Verifier *Verifier
	Modules  modules.Registry
	Logger   *slog.Logger     // nil: discard
	Now      func() time.Time // nil: time.Now
	// DefaultTimeout is module_timeout; each operation gets min(DefaultTimeout,
	// expireafter − now). 0 means DefaultModuleTimeout.
	DefaultTimeout time.Duration
	// QueueLoc, when set, overwrites agent.queueloc in results (§3.3); everything else of the
	// received agent object, pid included, is echoed.
	QueueLoc string
	// Refused, when set, is told of each refused action instead of a WARN line here, so the
	// transport can fold a flood of them (a relay pushing junk) into few lines.
	Refused func(cmdID, actionID float64, err error)
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Handle takes the raw body of a command from the relay and returns the raw result body to
// publish to mig.agt.results: compact json.Marshal bytes of the command with status and
// results replaced, no trailing newline. A command failing verification is answered failed,
// the reason in every result, and nothing runs. Operations run concurrently, results[i]
// answering operations[i]; the command status is the first failed/timeout in operation order.
// An error (and no bytes) means the body cannot be answered at all: not a command, or id 0.
// If ctx ends while operations run, those operations are answered as timed out.
func (e *Engine) Handle(ctx context.Context, raw []byte) ([]byte, error) {
	var cmd Command
	if err := json.Unmarshal(raw, &cmd); err != nil {
		return nil, fmt.Errorf("decode MIG command: %w", err)
	}
	if cmd.ID == 0 {
		return nil, errors.New("decode MIG command: id is 0")
	}
	log := e.logger().With("command", int64(cmd.ID), "action", int64(cmd.Action.ID), "action_name", cmd.Action.Name)

	params, err := e.authorize(&cmd.Action)
	if err != nil {
		if e.Refused != nil {
			e.Refused(cmd.ID, cmd.Action.ID, err)
		} else {
			log.Warn("mig action refused", "err", err)
		}
		cmd.Status = StatusFailed
		n := max(1, len(cmd.Action.Operations)) // the reason must reach the investigator
		cmd.Results = make([]modules.Result, n)
		for i := range cmd.Results {
			cmd.Results[i] = modules.Result{Errors: []string{err.Error()}}
		}
	} else {
		cmd.Status, cmd.Results = e.run(ctx, log, &cmd.Action, params)
		log.Info("mig action done", "status", cmd.Status, "operations", len(params))
	}
	if e.QueueLoc != "" {
		cmd.Agent.QueueLoc = e.QueueLoc
	}
	out, err := json.Marshal(&cmd)
	if err != nil {
		return nil, fmt.Errorf("encode MIG result: %w", err)
	}
	return out, nil
}

// authorize verifies the action and only then expands its parameters, returning MIG-prefixed
// error texts.
func (e *Engine) authorize(a *Action) ([]json.RawMessage, error) {
	if e.Verifier == nil {
		return nil, errors.New("parseCommands() -> checkActionAuthorization() -> no verifier configured")
	}
	if err := e.Verifier.Verify(a); err != nil {
		return nil, fmt.Errorf("parseCommands() -> checkActionAuthorization() -> %w", err)
	}
	params, err := ExpandParameters(a)
	if err != nil {
		return nil, fmt.Errorf("parseCommands() -> %w", err)
	}
	return params, nil
}

// ExpandParameters returns each operation's parameters as JSON for its module, expanding
// compressed ones (base64 → gunzip → JSON). Call it only after Verify: the signature covers
// the compressed form. Failures are *Error of kind ErrDecompress.
func ExpandParameters(a *Action) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(a.Operations))
	for i, op := range a.Operations {
		if !op.IsCompressed {
			b, err := json.Marshal(op.Parameters)
			if err != nil {
				return nil, reject(ErrDecompress, fmt.Sprintf("operation %d (%s): encode parameters: %v", i, op.Module, err), err)
			}
			out[i] = b
			continue
		}
		b, err := decompress(op.Parameters)
		if err != nil {
			return nil, reject(ErrDecompress, fmt.Sprintf("DecompressOperationParam() -> operation %d (%s): %v", i, op.Module, err), err)
		}
		out[i] = b
	}
	return out, nil
}

func decompress(p any) (json.RawMessage, error) {
	s, ok := p.(string)
	if !ok {
		return nil, errors.New("compressed parameter was not a string")
	}
	gz, err := gzip.NewReader(base64.NewDecoder(base64.StdEncoding, strings.NewReader(s)))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(gz, maxParams+1))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	if len(b) > maxParams {
		return nil, fmt.Errorf("decompressed parameters exceed %d bytes", maxParams)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("decompressed parameters are not JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// run executes every operation concurrently, each under min(DefaultTimeout, expireafter − now).
func (e *Engine) run(ctx context.Context, log *slog.Logger, a *Action, params []json.RawMessage) (string, []modules.Result) {
	timeout := e.DefaultTimeout
	if timeout <= 0 {
		timeout = DefaultModuleTimeout
	}
	if left := a.ExpireAfter.Sub(e.now()); left < timeout {
		timeout = max(left, 0)
	}
	results := make([]modules.Result, len(params))
	statuses := make([]string, len(params))
	var wg sync.WaitGroup
	for i := range params {
		wg.Go(func() {
			op := a.Operations[i]
			statuses[i], results[i] = e.runOne(ctx, op.Module, params[i], timeout)
			log.Debug("mig operation done", "index", i, "module", op.Module, "status", statuses[i])
		})
	}
	wg.Wait()
	status := StatusSuccess
	for _, s := range statuses {
		if s != StatusSuccess {
			status = s
			break
		}
	}
	return status, results
}

type outcome struct {
	res modules.Result
	err error
}

// runOne runs one module in-process. A module that ignores its context is abandoned at the
// deadline (its goroutine finishes on its own); a panic becomes a failed result (MIG ran each
// operation in a child process, so a crash never took the agent down).
func (e *Engine) runOne(ctx context.Context, name string, params json.RawMessage, timeout time.Duration) (string, modules.Result) {
	mod, ok := e.Modules[name]
	if !ok || mod == nil {
		return StatusFailed, modules.Result{Errors: []string{fmt.Sprintf("module '%s' is not available", name)}}
	}
	octx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{err: fmt.Errorf("module '%s' panicked: %v", name, r)}
			}
		}()
		res, err := mod.Run(octx, params)
		done <- outcome{res: res, err: err}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-octx.Done():
		return StatusTimeout, modules.Result{}
	}
	if octx.Err() != nil {
		// Finished, but only because its time ran out: MIG reports the timeout.
		return StatusTimeout, modules.Result{}
	}
	if o.err != nil {
		return StatusFailed, stripNUL(modules.Failed(o.err))
	}
	res, err := modules.Normalize(o.res)
	if err != nil {
		return StatusFailed, stripNUL(modules.Failed(fmt.Errorf("module '%s': %w", name, err)))
	}
	return StatusSuccess, stripNUL(res)
}

// stripNUL replaces NUL characters as the scheduler would (quirk 9), so our bytes are the
// stored ones.
func stripNUL(r modules.Result) modules.Result {
	r.Elements = stripNULValue(r.Elements)
	r.Statistics = stripNULValue(r.Statistics)
	for i, s := range r.Errors {
		r.Errors[i] = strings.ReplaceAll(s, "\x00", "NULL")
	}
	return r
}

func stripNULValue(v any) any {
	switch t := v.(type) {
	case string:
		return strings.ReplaceAll(t, "\x00", "NULL")
	case []any:
		for i := range t {
			t[i] = stripNULValue(t[i])
		}
	case map[string]any:
		for k, e := range t {
			nk := strings.ReplaceAll(k, "\x00", "NULL")
			if nk != k {
				delete(t, k)
			}
			t[nk] = stripNULValue(e)
		}
	}
	return v
}
