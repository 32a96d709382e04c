// Package wintest runs the Windows build of omniagent under Wine: the binary, its service, its
// MSI and protocol cycles against the fakes. Its tests only run through `make test-windows`
// (which sets OMNIAGENT_WINE_TEST=1); a plain `go test ./...` skips them. See docs/windows.md.
package wintest
