package mig

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/migfake"
)

// TestPublishRefusalClassified, on the real broker: a message returned as unroutable is a
// refusal caused by the message (it counts toward dropping a result); a connection lost under
// a publish is not (the result waits for its TTL).
func TestPublishRefusalClassified(t *testing.T) {
	u := os.Getenv("OMNIAGENT_TEST_AMQP_URL")
	if u == "" {
		u = "amqp://guest:guest@127.0.0.1:5672/"
	}
	if err := migfake.Probe(u); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no RabbitMQ broker and CI is set: %v", err)
		}
		t.Skipf("no RabbitMQ broker (set OMNIAGENT_TEST_AMQP_URL): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The scheduler's exchanges must exist; nobody binds our routing key.
	f := migfake.New(migfake.Options{})
	defer f.Close()
	if err := f.Connect(ctx, u); err != nil {
		t.Fatal(err)
	}
	a := goldenAdapter(t, false)
	a.opts.Relay = u
	rc, err := a.connect(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	b := make([]byte, 6)
	rand.Read(b)
	key := "mig.agt.nobody-" + hex.EncodeToString(b)
	err = a.publish(ctx, rc, key, []byte(`{"id":1}`))
	if !errors.Is(err, errRefused) || !strings.Contains(err.Error(), "unroutable") {
		t.Fatalf("unroutable publish: %v, want a refusal naming it", err)
	}
	// The next publish on the same channel is not blamed for the earlier return.
	if err := a.publish(ctx, rc, keyHeartbeats, []byte(`{"hb":1}`)); err != nil {
		t.Fatalf("routable publish after a return: %v", err)
	}
	rc.raw.Close()
	err = a.publish(ctx, rc, keyHeartbeats, []byte(`{"hb":2}`))
	if err == nil || errors.Is(err, errRefused) {
		t.Fatalf("publish on a lost connection: %v, want an error that is not a refusal", err)
	}
}
