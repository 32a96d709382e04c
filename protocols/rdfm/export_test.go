package rdfm

import (
	"context"
	"crypto/rsa"
	"time"
)

// SetKeyGen replaces the 4096-bit generation in tests (slow) with a pre-generated key.
func (a *Adapter) SetKeyGen(fn func() (*rsa.PrivateKey, error)) { a.genKey = fn }

// CloseWait exposes the close-code reaction.
func (a *Adapter) CloseWait(err error) time.Duration { return closeWait(a, err) }

// ServeOnce runs one management connection.
func (a *Adapter) ServeOnce(ctx context.Context) (time.Duration, error) { return a.serveOnce(ctx) }
