package jumpcloud_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/jumpcloud"
)

// BenchmarkSign: one request signature (RSA-2048 PKCS#1 v1.5), done for every request.
func BenchmarkSign(b *testing.B) {
	k := testKey()
	req, _ := http.NewRequest(http.MethodGet, "https://console.jumpcloud.com/api/v2/systems/"+sysID+"/associations?targets=user", nil)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if err := jumpcloud.Sign(req, sysID, k, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSteadyCycle: a cycle with nothing to change (the hourly steady state): key files
// read, record, memberof, associations and users read, no write.
func BenchmarkSteadyCycle(b *testing.B) {
	e := newEnv(b, false)
	a := e.adapter(e.options())
	if _, err := a.Cycle(context.Background()); err != nil {
		b.Fatal(err)
	}
	e.fake.ResetLog()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Cycle(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if v := e.fake.Inspect(sysID); v.Counts["PUT /api/systems/{id}"] != 0 {
		b.Fatalf("steady cycles sent PUTs: %v", v.Counts)
	}
	b.ReportMetric(float64(len(e.fake.Inspect(sysID).Log))/float64(b.N), "requests/op")
}
