// Command runstat runs one command and prints what it cost, for the benchmark rows:
// "wall_us user_us sys_us maxrss_kb" on one line. /usr/bin/time rounds CPU time to 10 ms,
// which turned a 9 ms inventory into "0 ms CPU"; the rusage the kernel returns is in µs.
//
//	runstat -out FILE -- command args...
//
// The command's stdout goes to FILE, its stderr to runstat's stderr; runstat exits with the
// command's status.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"
)

func main() {
	out := flag.String("out", os.DevNull, "file for the command's standard output")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: runstat [-out FILE] -- command [args...]")
		os.Exit(2)
	}
	os.Exit(run(*out, flag.Args()))
}

func run(out string, argv []string) int {
	f, err := os.Create(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "runstat:", err)
		return 2
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, os.Stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintln(os.Stderr, "runstat:", err)
		return 2
	}
	ps := cmd.ProcessState
	fmt.Printf("%d %d %d %d\n", wall.Microseconds(), ps.UserTime().Microseconds(), ps.SystemTime().Microseconds(), maxRSSKB(ps))
	return ps.ExitCode()
}
