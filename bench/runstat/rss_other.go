//go:build !unix

package main

import "os"

// maxRSSKB is not measured here: the benchmark rows run on Linux.
func maxRSSKB(*os.ProcessState) int64 { return 0 }
