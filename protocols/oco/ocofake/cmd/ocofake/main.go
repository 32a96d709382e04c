// Command ocofake runs the in-repo fake OCO server for trying the agent by hand:
//
//	go run ./protocols/oco/ocofake/cmd/ocofake -listen 127.0.0.1:8443
//
// It prints an agent.toml to use with `omniagent --oneshot --config FILE`.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/omniagent/omniagent/protocols/oco/ocofake"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8443", "address to listen on")
	plain := flag.Bool("http", false, "serve plain HTTP instead of HTTPS (the agent then needs allow_plain_http = true)")
	legacy := flag.Bool("legacy", false, "behave like an OCO 1.1.6 server (plaintext keys; the agent needs oco_protocol = \"legacy\")")
	regKey := flag.String("registration-key", "demo-registration-key", "the agent registration key")
	host := flag.String("job-host", "", "add a demo software job (a small ZIP package) for this hostname")
	dir := flag.String("dir", "", "folder for the CA file and the sample config (default: a new temp folder)")
	flag.Parse()
	if err := run(*listen, *plain, *legacy, *regKey, *host, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "ocofake:", err)
		os.Exit(1)
	}
}

func run(listen string, plain, legacy bool, regKey, host, dir string) error {
	s := ocofake.New(ocofake.Options{RegistrationKey: regKey, SelfRegistration: true, Legacy116: legacy})
	var err error
	if plain {
		err = s.Start(listen)
	} else {
		err = s.StartTLS(listen)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ocofake-"); err != nil {
			return err
		}
	}
	dir, _ = filepath.Abs(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "[agent]\nstate_dir = %q\nsplay = \"0s\"\n\n[[server]]\nname = \"oco-demo\"\nprotocol = \"oco\"\nurl = %q\nregistration_key = %q\n", filepath.Join(dir, "state"), s.URL(), regKey)
	if plain {
		cfg.WriteString("allow_plain_http = true\n")
	} else {
		ca := filepath.Join(dir, "ocofake-ca.pem")
		if err := s.WriteCA(ca); err != nil {
			return err
		}
		fmt.Fprintf(&cfg, "ca_file = %q\n", ca)
	}
	if legacy {
		cfg.WriteString("oco_protocol = \"legacy\"\n")
	}
	if host != "" {
		cfg.WriteString("allow_exec = true\n")
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("install.sh")
		w.Write([]byte("echo \"hello from an ocofake package on $(hostname)\"\n"))
		zw.Close()
		s.AddPackage(1, buf.Bytes())
		s.AddJob(ocofake.Job{ID: 1, ContainerID: 1, PackageID: 1, Hostname: host, Download: true, Procedure: "sh install.sh", SuccessCodes: "0"})
	}
	cfgPath := filepath.Join(dir, "agent.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		return err
	}
	fmt.Printf("ocofake listening on %s\n\n# %s\n%s\nTry: omniagent --oneshot --config %s\n", s.URL(), cfgPath, cfg.String(), cfgPath)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
