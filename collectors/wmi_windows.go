package collectors

import (
	"context"
	"errors"
	"fmt"

	"github.com/yusufpapurcu/wmi"
)

// wmiGate admits one WMI query at a time in the whole process. wmi ignores contexts and a query
// can hang (WMI starting at boot, a broken provider); the caller gives up at its deadline but
// the query goroutine stays blocked, and without the gate every later collection would add
// another. Package-level on purpose: the hung goroutine outlives any one collection.
var wmiGate = make(chan struct{}, 1)

// wmiQuery runs a WQL query in namespace and returns the rows as T (fields named like the
// class's properties). It returns when ctx ends even if WMI does not.
func wmiQuery[T any](ctx context.Context, namespace, query string) ([]T, error) {
	select {
	case wmiGate <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wmi %s: waiting for an earlier query: %w", namespace, ctx.Err())
	}
	type result struct {
		rows []T
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-wmiGate }()
		var rows []T
		err := wmi.QueryNamespace(query, &rows, namespace)
		var mismatch *wmi.ErrFieldMismatch
		if errors.As(err, &mismatch) {
			err = nil // a property missing on this Windows version: the rest is loaded
		}
		done <- result{rows, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("wmi %s %q: %w", namespace, query, r.err)
		}
		return r.rows, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wmi %s %q: %w", namespace, query, ctx.Err())
	}
}
