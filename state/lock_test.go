package state

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestLockHelperProcess is the second process of TestLockExcludesAnotherProcess: it takes the
// lock, says so, and holds it until killed.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv("OMNIAGENT_LOCK_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	st, err := Open(dir)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if _, err := st.Lock(); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	select {}
}

func TestLockExcludesAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "OMNIAGENT_LOCK_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "locked") {
		if strings.HasPrefix(sc.Text(), "error") {
			t.Fatal(sc.Text())
		}
	}
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Lock()
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("second lock: %v, want ErrLocked naming pid %d", err, cmd.Process.Pid)
	}
	// The OS releases the lock when its holder dies, however it dies.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	lk, err := st.Lock()
	if err != nil {
		t.Fatalf("lock after the holder was killed: %v", err)
	}
	data, _ := os.ReadFile(st.Dir() + string(os.PathSeparator) + lockName)
	if strings.TrimSpace(string(data)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file holds %q, want our pid", data)
	}
	if err := lk.Unlock(); err != nil {
		t.Fatal(err)
	}
	lk, err = st.Lock() // released by Unlock too
	if err != nil {
		t.Fatal(err)
	}
	lk.Unlock()
}
