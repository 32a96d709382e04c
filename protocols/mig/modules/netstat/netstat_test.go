package netstat

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/protocols/mig/modules/moduletest"
)

type result struct {
	FoundAnything bool       `json:"foundanything"`
	Success       bool       `json:"success"`
	Elements      Elements   `json:"elements"`
	Statistics    Statistics `json:"statistics"`
	Errors        []string   `json:"errors"`
}

func run(t *testing.T, m Module, params string) (result, string) {
	return moduletest.Run[result](t, m, params)
}

// TestLiveListener runs against the machine's own tables with a listener and a connection the
// test opens.
func TestLiveListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer func() {
		if s := <-accepted; s != nil {
			s.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	clientPort := c.LocalAddr().(*net.TCPAddr).Port
	r, b := run(t, Module{}, fmt.Sprintf(`{"listeningport":["%d"],"connectedip":["127.0.0.0/8"],"localip":["127.0.0.1"]}`, port))
	if !r.Success || !r.FoundAnything {
		t.Fatalf("%s", b)
	}
	lp := r.Elements.ListeningPort[fmt.Sprint(port)]
	if len(lp) != 1 || lp[0].LocalAddr != "127.0.0.1" || lp[0].LocalPort != float64(port) {
		t.Fatalf("listening port: %s", b)
	}
	if runtime.GOOS == "linux" && lp[0].Namespace != "default" {
		t.Fatalf("namespace: %s", b)
	}
	// Both ends of the loopback connection are connected to 127.0.0.1.
	var sawClient, sawServer bool
	for _, e := range r.Elements.ConnectedIP["127.0.0.0/8"] {
		sawClient = sawClient || (e.LocalPort == float64(clientPort) && e.RemotePort == float64(port))
		sawServer = sawServer || (e.LocalPort == float64(port) && e.RemotePort == float64(clientPort))
	}
	if !sawClient || !sawServer {
		t.Fatalf("connected ip: %s", b)
	}
	if li := r.Elements.LocalIP["127.0.0.1"]; len(li) != 1 || li[0].LocalAddr != "127.0.0.1" {
		t.Fatalf("local ip: %s", b)
	}
	if r.Statistics.Examined == 0 || r.Statistics.Totalhits < 4 {
		t.Fatalf("statistics: %s", b)
	}
	if runtime.GOOS == "linux" {
		r, b = run(t, Module{}, fmt.Sprintf(`{"listeningport":["%d"],"namespaces":true}`, port))
		lp := r.Elements.ListeningPort[fmt.Sprint(port)]
		if len(lp) != 1 || !strings.HasPrefix(lp[0].Namespace, "net:[") {
			t.Fatalf("namespaces mode: %s", b)
		}
	}
	// A port nobody listens on: null list, nothing found.
	r, b = run(t, Module{}, `{"listeningport":["1"]}`)
	if r.FoundAnything || !strings.Contains(b, `"elements":{"listeningport":{"1":null}}`) {
		t.Fatalf("closed port: %s", b)
	}
}

type fakeSource struct {
	ifaces []Interface
	socks  []Socket
	neighs []Neighbor
}

func (f fakeSource) Interfaces(context.Context) ([]Interface, error) { return f.ifaces, nil }
func (f fakeSource) Sockets(context.Context, bool) ([]Socket, error) { return f.socks, nil }
func (f fakeSource) Neighbors(context.Context, bool) ([]Neighbor, error) {
	return f.neighs, nil
}

func TestSearchesOnFakeTables(t *testing.T) {
	tcp4, err := parseProcNet(strings.NewReader(procTCP), "tcp", "default")
	if err != nil {
		t.Fatal(err)
	}
	tcp6, err := parseProcNet(strings.NewReader(procTCP6), "tcp", "default")
	if err != nil {
		t.Fatal(err)
	}
	udp, err := parseProcNet(strings.NewReader(procUDP), "udp", "default")
	if err != nil {
		t.Fatal(err)
	}
	arp, err := parseARP(strings.NewReader(procARP), "default")
	if err != nil {
		t.Fatal(err)
	}
	src := fakeSource{
		ifaces: []Interface{{MAC: "52:54:00:12:34:56", Addrs: []net.IP{net.ParseIP("192.0.2.2"), net.ParseIP("fd00::2")}}, {MAC: ""}},
		socks:  append(append(tcp4, tcp6...), udp...),
		neighs: arp,
	}
	r, b := run(t, Module{Source: src}, `{"localmac":["^52:54:00"],"localip":["192.0.2.0/24","fd00::2"],"neighbormac":["AA:BB"],`+
		`"neighborip":["192.0.2.1"],"connectedip":["198.51.100.7","2001:db8::/32"],"listeningport":["22","53","8080"]}`)
	want := `{"foundanything":true,"success":true,"elements":{` +
		`"connectedip":{"198.51.100.7":[{"localaddr":"192.0.2.2","localport":22,"namespace":"default","remoteaddr":"198.51.100.7","remoteport":40000},` +
		`{"localaddr":"127.0.0.1","localport":8080,"namespace":"default","remoteaddr":"198.51.100.7","remoteport":80}],` +
		`"2001:db8::/32":[{"localaddr":"fd00::2","localport":22,"namespace":"default","remoteaddr":"2001:db8::5","remoteport":51000}]},` +
		`"listeningport":{"22":[{"localaddr":"0.0.0.0","localport":22,"namespace":"default"},{"localaddr":"::","localport":22,"namespace":"default"}],` +
		`"53":[{"localaddr":"127.0.0.53","localport":53,"namespace":"default"}],"8080":null},` +
		`"localip":{"192.0.2.0/24":[{"localaddr":"192.0.2.2"}],"fd00::2":[{"localaddr":"fd00::2"}]},` +
		`"localmac":{"^52:54:00":[{"localmacaddr":"52:54:00:12:34:56"}]},` +
		`"neighborip":{"192.0.2.1":[{"namespace":"default","remoteaddr":"192.0.2.1","remotemacaddr":"aa:bb:cc:dd:ee:ff"}]},` +
		`"neighbormac":{"AA:BB":[{"namespace":"default","remoteaddr":"192.0.2.1","remotemacaddr":"aa:bb:cc:dd:ee:ff"}]}},` +
		`"statistics":{"examined":`
	if !r.Success || !strings.HasPrefix(b, want) || r.Statistics.Totalhits != 11 {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestInvalidParams(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{`{"localmac":["("]}`, "invalid MAC regexp"},
		{`{"localip":["300.1.1.1"]}`, "invalid IP"},
		{`{"connectedip":["10.0.0.0/33"]}`, "invalid CIDR"},
		{`{"listeningport":["http"]}`, "not a valid port"},
		{`{"listeningport":["70000"]}`, "not a valid port"},
		{`{"listeningport":[22]}`, "invalid netstat parameters"},
	} {
		r, b := run(t, Module{Source: fakeSource{}}, tc.params)
		if r.Success || len(r.Errors) != 1 || !strings.Contains(r.Errors[0], tc.want) {
			t.Errorf("%s: %s", tc.params, b)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"hdr\n 0: 0100007F 00000000:0000 0A\n", "hdr\n 0: 0100007F:ZZZZ 00000000:0000 0A\n", "hdr\n 0: 01007F:0016 00000000:0000 0A\n"} {
		if _, err := parseProcNet(strings.NewReader(bad), "tcp", "x"); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

const procTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1000 1 0000000000000000 100 0 0 10 0
   1: 020200C0:0016 076433C6:9C40 01 00000000:00000000 02:000A7C6C 00000000     0        0 2000 4 0000000000000000 20 4 29 10 -1
   2: 0100007F:1F90 076433C6:0050 08 00000000:00000000 00:00000000 00000000     0        0 3000 1 0000000000000000 20 4 29 10 -1
`

// [::]:22 listening, [fd00::2]:22 <- [2001:db8::5]:51000
const procTCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 000000FD000000000000000002000000:0016 B80D0120000000000000000005000000:C738 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 29 10 -1
`

const procUDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   991        0 4000 2 0000000000000000 0
`

const procARP = `IP address       HW type     Flags       HW address            Mask     Device
192.0.2.1        0x1         0x2         aa:bb:cc:dd:ee:ff     *        eth0
192.0.2.9        0x1         0x2         11:22:33:44:55:66     *        eth0
`
