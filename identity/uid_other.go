//go:build !linux && !windows && !darwin

package identity

import "context"

func machineUID(_ context.Context) (string, string) { return "", "" }
