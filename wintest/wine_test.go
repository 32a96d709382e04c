package wintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// gateEnv is set by `make test-windows`: without it the suite skips (it needs Wine and takes
// minutes, too slow for every `go test ./...`).
const gateEnv = "OMNIAGENT_WINE_TEST"

// Debian packages the suite needs, named in the skip message.
const packages = "wine64, wixl, gcc-mingw-w64-x86-64"

// wine is the prepared prefix the tests share: one wineboot costs ~25 s, so every test runs
// in the same prefix, in file order (binary, service, MSI, protocols, shell).
type wine struct {
	dir    string // temp folder holding the prefix, the binaries and the fakes' files
	prefix string
	loader string // wine64
	server string // wineserver
	exe    string // omniagent.exe (unix path)
	msi    string // built MSI (unix path), empty when wixl failed
	// servicesLog collects the stderr of services.exe and of every service it starts, with
	// Wine's eventlog channel on: Wine keeps no event log, its ReportEventW prints the event
	// strings there, so this is where the agent's Event Log sink writes under Wine.
	servicesLog string
	keep        *exec.Cmd
}

var (
	suite    *wine
	setupErr error // why the suite cannot run (tools missing); nil when it can
)

func TestMain(m *testing.M) {
	if os.Getenv(gateEnv) == "" {
		os.Exit(m.Run()) // every test skips through need()
	}
	dir, err := os.MkdirTemp("", "omniagent-wine-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	suite, setupErr = setup(ctx, dir)
	cancel()
	code := m.Run()
	if suite != nil { // also after a failed setup: the wineserver may run
		suite.stop()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// errMissing marks a setup failure caused by an absent tool: a skip outside CI.
var errMissing = errors.New("missing tool")

// need returns the prepared prefix, or skips (fails under CI) when Wine cannot run here.
func need(t *testing.T) *wine {
	t.Helper()
	if os.Getenv(gateEnv) == "" {
		t.Skipf("the Wine suite runs through `make test-windows` (%s=1)", gateEnv)
	}
	if setupErr != nil {
		if errors.Is(setupErr, errMissing) && os.Getenv("CI") == "" {
			t.Skipf("Windows suite skipped: %v (install the Debian packages %s)", setupErr, packages)
		}
		t.Fatalf("Windows suite setup: %v", setupErr)
	}
	return suite
}

// lookTool finds a tool in PATH or at Debian's fixed location.
func lookTool(names ...string) (string, error) {
	for _, n := range names {
		if filepath.IsAbs(n) {
			if _, err := os.Stat(n); err == nil {
				return n, nil
			}
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: none of %s found", errMissing, strings.Join(names, ", "))
}

func setup(ctx context.Context, dir string) (*wine, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return nil, fmt.Errorf("%w: the Wine suite runs on linux/amd64 only", errMissing)
	}
	w := &wine{dir: dir, prefix: filepath.Join(dir, "prefix")}
	var err error
	if w.loader, err = lookTool("/usr/lib/wine/wine64", "wine64", "wine"); err != nil {
		return nil, err
	}
	if w.server, err = lookTool("/usr/lib/wine/wineserver", "wineserver"); err != nil {
		return nil, err
	}
	gcc, err := lookTool("x86_64-w64-mingw32-gcc")
	if err != nil {
		return nil, err
	}
	wixl, err := lookTool("wixl")
	if err != nil {
		return nil, err
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	// Build the agent while Wine boots the prefix: both take tens of seconds.
	w.exe = filepath.Join(dir, "stage", "omniagent.exe")
	// The release build's tags (packaging/release.sh), so the suite runs what ships.
	build := exec.CommandContext(ctx, "go", "build", "-o", w.exe, "-tags", "nethttpomithttp2",
		"-ldflags", "-X github.com/omniagent/omniagent/version.Version=0.0.0-wine", "./cmd/omniagent")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	var buildOut bytes.Buffer
	build.Stdout, build.Stderr = &buildOut, &buildOut
	if err := build.Start(); err != nil {
		return nil, fmt.Errorf("build omniagent.exe: %w", err)
	}
	if err := os.MkdirAll(w.prefix, 0o755); err != nil {
		_ = build.Wait()
		return nil, err
	}
	if err := w.startServer(); err != nil {
		_ = build.Wait()
		return nil, err
	}
	// From here on TestMain stops the server whatever happens.
	bootErr := w.mustExec(ctx, "wineboot", "-i")
	if err := build.Wait(); err != nil {
		return w, fmt.Errorf("build omniagent.exe: %w\n%s", err, buildOut.Bytes())
	}
	if bootErr != nil {
		return w, bootErr
	}
	// Wine 8 lacks bcryptprimitives.dll (ProcessPrng), which Go's runtime loads at start.
	shim := filepath.Join(w.prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	cc := exec.CommandContext(ctx, gcc, "-shared", "-O2", "-o", shim,
		filepath.Join(root, "packaging", "windows", "wineshim", "bcryptprimitives.c"), "-ladvapi32")
	if out, err := cc.CombinedOutput(); err != nil {
		return w, fmt.Errorf("build the bcryptprimitives shim: %w\n%s", err, out)
	}
	// Wine reports Windows 7 by default: the ConPTY and other version-gated paths need 10.
	if err := w.mustExec(ctx, "winecfg", "-v", "win10"); err != nil {
		return w, err
	}
	// "Reboot": the services.exe that creating the prefix left behind does not start services
	// reliably (a service just created is "not found" by StartService, RpcSs stops on its own);
	// one started on a finished prefix does. It also starts with the eventlog channel on.
	w.stop()
	if err := w.startServer(); err != nil {
		return w, err
	}
	w.servicesLog = filepath.Join(dir, "services.log")
	if err := w.boot(ctx); err != nil {
		return w, err
	}
	// Wine starts its WMI service on first use, which can take longer than a collector's 10 s
	// budget on a loaded machine: start it now so the inventory measures the collectors. (Before
	// the reboot above, RpcSs stopped on its own and every WMI query hung until that budget.)
	if err := w.mustExec(ctx, "wmic", "os", "get", "caption"); err != nil {
		return w, err
	}
	if err := copyFile(filepath.Join(root, "agent.toml.example"), filepath.Join(dir, "stage", "agent.toml.example")); err != nil {
		return w, err
	}
	// The MSI as packaging/release.sh builds it (wixl resolves sources from the working dir).
	msi := filepath.Join(dir, "omniagent.msi")
	wx := exec.CommandContext(ctx, wixl, "-a", "x64", "-D", "Version="+msiVersion, "-D", "SourceDir=.",
		"-o", msi, filepath.Join(root, "packaging", "windows", "omniagent.wxs"))
	wx.Dir = filepath.Join(dir, "stage")
	if out, err := wx.CombinedOutput(); err != nil {
		return w, fmt.Errorf("wixl: %w\n%s", err, out)
	}
	w.msi = msi
	return w, nil
}

// startServer starts the prefix's wineserver, persistent (services stop when the last client
// exits otherwise) and in the foreground so the suite owns it and waits for it at the end.
func (w *wine) startServer() error {
	keep := exec.Command(w.server, "-p", "-f")
	keep.Env = w.env()
	if err := keep.Start(); err != nil {
		return fmt.Errorf("wineserver -p: %w", err)
	}
	w.keep = keep
	return nil
}

// boot starts services.exe, which writes (as do the services it starts, which inherit its
// stderr and WINEDEBUG) to w.servicesLog.
func (w *wine) boot(ctx context.Context) error {
	f, err := os.Create(w.servicesLog)
	if err != nil {
		return err
	}
	defer f.Close()
	c := w.cmd(ctx, "wineboot")
	c.Env = append(c.Env, "WINEDEBUG=-all,trace+eventlog,warn+eventlog,err+eventlog")
	c.Stdout, c.Stderr = f, f
	if err := c.Run(); err != nil {
		b, _ := os.ReadFile(w.servicesLog)
		return fmt.Errorf("wineboot: %w\n%s", err, b)
	}
	return nil
}

func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return filepath.Dir(wd), nil // this package sits at the module root
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// env is the environment of every Wine process: the prefix, no debug channels, and no
// Mono/Gecko install prompts.
func (w *wine) env() []string {
	env := []string{"WINEPREFIX=" + w.prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml="}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "WINEPREFIX" || k == "WINEDEBUG" || k == "WINEDLLOVERRIDES" || k == "DISPLAY" || k == "WAYLAND_DISPLAY" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// cmd prepares a Windows program (a path or a name Wine resolves, like sc or msiexec).
func (w *wine) cmd(ctx context.Context, prog string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, w.loader, append([]string{prog}, args...)...)
	c.Env = w.env()
	c.Dir = w.dir
	c.WaitDelay = 5 * time.Second
	return c
}

// result is one finished Windows command.
type result struct {
	stdout, stderr string
	code           int
}

// exec runs a Windows program to its end. Output goes through files, not pipes: Wine's
// background processes (services.exe, winedevice, explorer) inherit the handles and would keep
// a pipe open long after the program exited.
func (w *wine) exec(ctx context.Context, prog string, args ...string) (result, error) {
	var r result
	so, err := os.CreateTemp(w.dir, "out-")
	if err != nil {
		return r, err
	}
	defer os.Remove(so.Name())
	defer so.Close()
	se, err := os.CreateTemp(w.dir, "err-")
	if err != nil {
		return r, err
	}
	defer os.Remove(se.Name())
	defer se.Close()
	c := w.cmd(ctx, prog, args...)
	c.Stdout, c.Stderr = so, se
	err = c.Run()
	b, _ := os.ReadFile(so.Name())
	r.stdout = string(b)
	b, _ = os.ReadFile(se.Name())
	r.stderr = string(b)
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s %s: no exit in time (%w)\nstdout: %s\nstderr: %s", prog, strings.Join(args, " "), ctx.Err(), r.stdout, r.stderr)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		return r, fmt.Errorf("%s %s: %w", prog, strings.Join(args, " "), err)
	}
	return r, nil
}

// mustExec runs a setup command that must exit 0.
func (w *wine) mustExec(ctx context.Context, prog string, args ...string) error {
	r, err := w.exec(ctx, prog, args...)
	if err == nil && r.code != 0 {
		err = fmt.Errorf("%s %s: exit %d\n%s%s", prog, strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return err
}

// run runs a Windows program with a deadline and returns its output and exit code.
func (w *wine) run(t *testing.T, limit time.Duration, prog string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	r, err := w.exec(ctx, prog, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// agent runs omniagent.exe.
func (w *wine) agent(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	return w.run(t, limit, w.exe, args...)
}

// winPath is the Windows name of a unix path through Wine's Z: drive.
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// cDrive is the unix path of a C:\ path inside the prefix.
func (w *wine) cDrive(winp string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(winp, `C:\`), `c:\`)
	return filepath.Join(w.prefix, "drive_c", filepath.FromSlash(strings.ReplaceAll(rest, `\`, "/")))
}

// stop ends the prefix's wineserver: only ours, named by WINEPREFIX.
func (w *wine) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	k := exec.CommandContext(ctx, w.server, "-k")
	k.Env = w.env()
	_ = k.Run()
	if w.keep != nil {
		done := make(chan struct{})
		go func() { _ = w.keep.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = w.keep.Process.Kill()
			<-done
		}
		w.keep = nil
	}
}
