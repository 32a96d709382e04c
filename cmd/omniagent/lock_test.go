package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/state"
)

// A second agent on a state folder in use — a daemon or --oneshot — exits at once with an
// error naming the running instance's pid. (The lock across processes, kill -9 included, is
// tested in the state package.)
func TestSecondInstanceRefused(t *testing.T) {
	cfg := writeConfig(t, "[[server]]\nname = \"one\"\nprotocol = \"test\"\n")
	st, err := state.Open(filepath.Join(filepath.Dir(cfg), "state"))
	if err != nil {
		t.Fatal(err)
	}
	lk, err := st.Lock() // the "running instance" is this test process
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Unlock()
	for _, args := range [][]string{{"--oneshot"}, {"run"}} {
		t.Run(args[0], func(t *testing.T) {
			e, out, errb := testEnv()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			code := dispatch(ctx, e, append(args, "--config", cfg, "--log-level", "error"))
			if code != 1 || !strings.Contains(errb.String(), "pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(errb.String(), "in use by another omniagent") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("took %s: not at once", took)
			}
		})
	}
	lk.Unlock()
	e, out, errb := testEnv()
	if code := dispatch(context.Background(), e, []string{"--oneshot", "--config", cfg, "--log-level", "error"}); code != 0 {
		t.Fatalf("after the first instance ended: exit %d\n%s\n%s", code, out, errb)
	}
}

// `status` shows a cycle in progress.
func TestStatusShowsRunningSince(t *testing.T) {
	cfg := writeConfig(t, "[[server]]\nname = \"one\"\nprotocol = \"test\"\n")
	st, err := state.Open(filepath.Join(filepath.Dir(cfg), "state"))
	if err != nil {
		t.Fatal(err)
	}
	// A cycle started a minute ago (one older than the cycle limit is not shown as running).
	since := time.Now().Add(-time.Minute).Truncate(time.Second).UTC()
	if err := st.SaveStatus(state.Status{Server: "one", Protocol: "test", RunningSince: since}); err != nil {
		t.Fatal(err)
	}
	e, out, errb := testEnv()
	if code := dispatch(context.Background(), e, []string{"status", "--config", cfg}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if want := "running since: " + since.Local().Format("2006-01-02 15:04:05"); !strings.Contains(out.String(), want) {
		t.Fatalf("status lacks %q:\n%s", want, out)
	}
}
