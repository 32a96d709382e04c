package migfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/omniagent/omniagent/protocols/mig/action"
	"github.com/omniagent/omniagent/protocols/mig/modules"
)

// Topology names (§3.1).
const (
	ExchangeToAgents     = "toagents"
	ExchangeToSchedulers = "toschedulers"
	KeyResults           = "mig.agt.results"
	KeyHeartbeats        = "mig.agt.heartbeats"
)

// Verdict is what the scheduler made of one body on mig.agt.results.
type Verdict struct {
	Body     []byte
	Props    Props // the message's AMQP properties
	Accepted bool
	Reason   string         // why it was dropped
	Command  action.Command // decoded when possible
}

// Props are the AMQP properties of a message the agent published.
type Props struct {
	DeliveryMode uint8
	ContentType  string
	Expiration   string
	Timestamp    time.Time
}

// Fake is the MIG API plus, once Connect succeeded, the scheduler.
type Fake struct {
	// APIBase is the API root the agent is configured with (…/api/v1).
	APIBase string

	reg *registry
	api interface{ Close() }

	ipMu     sync.Mutex
	publicIP string

	conn   *amqp.Connection
	ch     *amqp.Channel
	pubMu  sync.Mutex
	cancel context.CancelFunc
	done   sync.WaitGroup

	mu       sync.Mutex
	commands map[float64]*action.Command // sent, by id; Status tracks acceptance
	verdicts []Verdict
	legacy   []action.Agent
	queues   map[string]bool // agent queues to delete at Close
	nextCmd  float64
}

// Options tune the fake.
type Options struct {
	// Now is the scheduler's clock (default time.Now).
	Now func() time.Time
	// Idle and Offline are the agent status timers (defaults 1 min and 5 min).
	Idle, Offline time.Duration
	// PublicIP is what GET /ip answers (default 198.51.100.7).
	PublicIP string
}

// New starts the API side. Call Connect for the scheduler side.
func New(o Options) *Fake {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Idle == 0 {
		o.Idle = time.Minute
	}
	if o.Offline == 0 {
		o.Offline = 5 * time.Minute
	}
	if o.PublicIP == "" {
		o.PublicIP = "198.51.100.7"
	}
	f := &Fake{
		reg:      &registry{rows: map[agentKey]*Row{}, now: o.Now, idle: o.Idle, offline: o.Offline, changed: make(chan struct{})},
		publicIP: o.PublicIP,
		commands: map[float64]*action.Command{},
		queues:   map[string]bool{},
		// Random ids: fakes of parallel tests share the results exchange, so ids must not collide.
		nextCmd: float64(28054714187900 + rand.Int64N(1<<40)),
	}
	srv := newAPI(f.reg, func() string {
		f.ipMu.Lock()
		defer f.ipMu.Unlock()
		return f.publicIP
	})
	f.api = srv
	f.APIBase = srv.URL + "/api/v1"
	return f
}

// SetPublicIP changes the /ip answer ("" makes the route answer an empty body).
func (f *Fake) SetPublicIP(ip string) {
	f.ipMu.Lock()
	f.publicIP = ip
	f.ipMu.Unlock()
}

// Probe dials the broker once: tests use it to decide whether to skip.
func Probe(url string) error {
	c, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(2 * time.Second)})
	if err != nil {
		return err
	}
	return c.Close()
}

// Connect plays the scheduler on the broker at url: declares the exchanges (direct, durable)
// and consumes results and legacy heartbeats. To let tests run in parallel and leave nothing
// behind, the fake binds its own exclusive auto-delete queues with the scheduler's keys
// instead of the shared durable mig.agt.results / mig.agt.heartbeats; it judges only bodies
// from agents it knows, so other tests' traffic is ignored.
func (f *Fake) Connect(ctx context.Context, url string) error {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return fmt.Errorf("migfake: dial %s: %w", url, err)
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return fmt.Errorf("migfake: channel: %w", err)
	}
	for _, ex := range []string{ExchangeToAgents, ExchangeToSchedulers} {
		if err := ch.ExchangeDeclare(ex, "direct", true, false, false, false, nil); err != nil {
			conn.Close()
			return fmt.Errorf("migfake: declare exchange %s: %w", ex, err)
		}
	}
	consume := func(key string) (<-chan amqp.Delivery, error) {
		q, err := ch.QueueDeclare("", false, true, true, false, nil)
		if err != nil {
			return nil, fmt.Errorf("migfake: declare queue for %s: %w", key, err)
		}
		if err := ch.QueueBind(q.Name, key, ExchangeToSchedulers, false, nil); err != nil {
			return nil, fmt.Errorf("migfake: bind %s: %w", key, err)
		}
		return ch.Consume(q.Name, "", true, true, false, false, nil)
	}
	results, err := consume(KeyResults)
	if err != nil {
		conn.Close()
		return err
	}
	beats, err := consume(KeyHeartbeats)
	if err != nil {
		conn.Close()
		return err
	}
	f.conn, f.ch = conn, ch
	cctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.done.Add(2)
	go func() {
		defer f.done.Done()
		for {
			select {
			case <-cctx.Done():
				return
			case d, ok := <-results:
				if !ok {
					return
				}
				f.judgeResult(d.Body, Props{DeliveryMode: d.DeliveryMode, ContentType: d.ContentType, Expiration: d.Expiration, Timestamp: d.Timestamp})
			}
		}
	}()
	go func() {
		defer f.done.Done()
		for {
			select {
			case <-cctx.Done():
				return
			case d, ok := <-beats:
				if !ok {
					return
				}
				f.legacyHeartbeat(d.Body)
			}
		}
	}()
	return nil
}

// Close deletes the agent queues the test used and stops everything.
func (f *Fake) Close() {
	if f.ch != nil {
		f.mu.Lock()
		qs := make([]string, 0, len(f.queues))
		for q := range f.queues {
			qs = append(qs, q)
		}
		f.mu.Unlock()
		for _, q := range qs {
			f.ch.QueueDelete(q, false, false, false)
		}
		f.cancel()
		f.conn.Close()
		f.done.Wait()
	}
	f.api.Close()
}

// Forget marks an agent queue for deletion at Close (tests call it with the agent's queue).
func (f *Fake) Forget(queueLoc string) {
	f.mu.Lock()
	f.queues["mig.agt."+queueLoc] = true
	f.mu.Unlock()
}

// DeleteQueue deletes an agent queue now (the agent's consumer is cancelled by the broker).
func (f *Fake) DeleteQueue(queueLoc string) error {
	f.pubMu.Lock()
	defer f.pubMu.Unlock()
	_, err := f.ch.QueueDelete("mig.agt."+queueLoc, false, false, false)
	return err
}

// QueueExists reports whether the agent's queue is declared, and how many consumers it has.
func (f *Fake) QueueExists(queueLoc string) (exists bool, consumers int, err error) {
	// A passive declare of a missing queue closes the channel: use a throwaway one.
	ch, err := f.conn.Channel()
	if err != nil {
		return false, 0, err
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive("mig.agt."+queueLoc, true, false, false, false, nil)
	var ae *amqp.Error
	if errors.As(err, &ae) && ae.Code == amqp.NotFound {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	return true, q.Consumers, nil
}

// legacyHeartbeat applies the scheduler's legacy heartbeat checks (§3.5).
func (f *Fake) legacyHeartbeat(body []byte) {
	if len(body) > 100*1024 {
		f.reg.refuse("legacy heartbeat larger than 100 kB")
		return
	}
	var ag action.Agent
	if err := json.Unmarshal(body, &ag); err != nil {
		f.reg.refuse("legacy heartbeat: " + err.Error())
		return
	}
	switch {
	case ag.Mode != "daemon" && ag.Mode != "checkin" && ag.Mode != "":
		f.reg.refuse("legacy heartbeat: invalid mode " + ag.Mode)
		return
	case len(ag.Name) > 1024 || len(ag.Version) > 128:
		f.reg.refuse("legacy heartbeat: name or version too long")
		return
	case f.reg.now().Sub(ag.HeartBeatTS) > f.reg.offline:
		f.reg.refuse("legacy heartbeat: heartbeatts too old")
		return
	case ag.QueueLoc == "" || ag.Name == "":
		f.reg.refuse("legacy heartbeat: no name or queueloc")
		return
	}
	f.mu.Lock()
	f.legacy = append(f.legacy, ag)
	f.mu.Unlock()
	f.reg.upsert(ag, "amqp")
}

// Judge applies the scheduler's acceptance rules (§3.3) to a result body without recording it.
// known reports whether the command id exists and its status; online whether the agent row
// (queueloc, pid) is online or idle.
func Judge(body []byte, known func(id float64) (status string, ok bool), online func(queueLoc string, pid int) bool) Verdict {
	v := Verdict{Body: body}
	if len(body) < 10 || body[0] != '{' || body[len(body)-1] != '}' {
		v.Reason = "malformed body: want at least 10 bytes from '{' to '}'"
		return v
	}
	if err := json.Unmarshal(body, &v.Command); err != nil {
		v.Reason = "cannot decode command: " + err.Error()
		return v
	}
	c := v.Command
	switch {
	case c.Agent.Name == "" || c.Agent.QueueLoc == "" || c.Status == "":
		v.Reason = "missing agent.name, agent.queueloc or status"
		return v
	}
	st, ok := known(c.ID)
	if !ok {
		v.Reason = "unknown command id " + strconv.FormatFloat(c.ID, 'f', -1, 64)
		return v
	}
	if st == action.StatusSuccess {
		v.Reason = "command already succeeded"
		return v
	}
	if !online(c.Agent.QueueLoc, c.Agent.PID) {
		v.Reason = fmt.Sprintf("agent (%s, %d) is not online or idle", c.Agent.QueueLoc, c.Agent.PID)
		return v
	}
	v.Accepted = true
	return v
}

func (f *Fake) judgeResult(body []byte, props Props) {
	var probe struct {
		ID    float64 `json:"id"`
		Agent struct {
			QueueLoc string `json:"queueloc"`
		} `json:"agent"`
	}
	_ = json.Unmarshal(body, &probe)
	f.mu.Lock()
	c, ours := f.commands[probe.ID]
	ours = ours && c.Agent.QueueLoc == probe.Agent.QueueLoc
	f.mu.Unlock()
	if !ours && json.Valid(body) {
		return // another test's result on the shared exchange
	}
	v := Judge(body, func(id float64) (string, bool) {
		f.mu.Lock()
		defer f.mu.Unlock()
		c, ok := f.commands[id]
		if !ok {
			return "", false
		}
		return c.Status, true
	}, func(ql string, pid int) bool {
		f.reg.mu.Lock()
		defer f.reg.mu.Unlock()
		row, ok := f.reg.rows[agentKey{ql, pid}]
		if !ok {
			return false
		}
		s := f.reg.status(row)
		return s == "online" || s == "idle"
	})
	v.Props = props
	f.mu.Lock()
	if v.Accepted {
		f.commands[v.Command.ID].Status = v.Command.Status
	}
	f.verdicts = append(f.verdicts, v)
	f.mu.Unlock()
	f.reg.mu.Lock()
	f.reg.notify()
	f.reg.mu.Unlock()
}

// wait blocks until cond (evaluated under no lock) holds or ctx ends.
func (f *Fake) wait(ctx context.Context, what string, cond func() bool) error {
	for {
		f.reg.mu.Lock()
		ch := f.reg.changed
		f.reg.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migfake: waiting for %s: %w", what, ctx.Err())
		case <-ch:
		case <-time.After(200 * time.Millisecond): // status timers move without events
		}
	}
}

// Agent returns the row of the latest heartbeat for queueLoc with its current status.
func (f *Fake) Agent(queueLoc string) (Row, bool) {
	f.reg.mu.Lock()
	defer f.reg.mu.Unlock()
	var best *Row
	for k, r := range f.reg.rows {
		if k.queueLoc == queueLoc && (best == nil || r.LastSeen.After(best.LastSeen)) {
			best = r
		}
	}
	if best == nil {
		return Row{}, false
	}
	out := *best
	out.Agent.Status = f.reg.status(best)
	return out, true
}

// WaitAgent waits for a heartbeat from queueLoc and returns its row.
func (f *Fake) WaitAgent(ctx context.Context, queueLoc string) (Row, error) {
	var row Row
	err := f.wait(ctx, "a heartbeat from "+queueLoc, func() bool {
		var ok bool
		row, ok = f.Agent(queueLoc)
		return ok
	})
	return row, err
}

// Heartbeats returns the HTTP heartbeats accepted so far.
func (f *Fake) Heartbeats() []HTTPHeartbeat {
	f.reg.mu.Lock()
	defer f.reg.mu.Unlock()
	return append([]HTTPHeartbeat(nil), f.reg.beats...)
}

// LegacyHeartbeats returns the AMQP heartbeats accepted so far.
func (f *Fake) LegacyHeartbeats() []action.Agent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]action.Agent(nil), f.legacy...)
}

// Refusals lists the heartbeat refusals (API answers and legacy drops).
func (f *Fake) Refusals() []string {
	f.reg.mu.Lock()
	defer f.reg.mu.Unlock()
	return append([]string(nil), f.reg.refusals...)
}

// Verdicts lists every judged result of our commands.
func (f *Fake) Verdicts() []Verdict {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Verdict(nil), f.verdicts...)
}

// WaitResult waits for a judged result of command id.
func (f *Fake) WaitResult(ctx context.Context, id float64) (Verdict, error) {
	var v Verdict
	err := f.wait(ctx, "the result of command "+strconv.FormatFloat(id, 'f', -1, 64), func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, x := range f.verdicts {
			if x.Command.ID == id {
				v = x
				return true
			}
		}
		return false
	})
	return v, err
}

// Prepare records a command carrying act for the agent of row (its legacy row, pid included)
// without publishing it, and returns its id and body. act must be signed already.
func (f *Fake) Prepare(row Row, act action.Action) (float64, []byte, error) {
	f.mu.Lock()
	f.nextCmd++
	id := f.nextCmd
	f.mu.Unlock()
	ag := row.Agent
	if ag.Status == "" {
		ag.Status = "online"
	}
	act.Status = "inflight"
	act.Counters = action.ActionCounters{Sent: 1}
	act.SyntaxVersion = action.SyntaxVersion
	cmd := action.Command{
		ID: id, Action: act, Agent: ag, Status: "sent",
		Results:   make([]modules.Result, len(act.Operations)),
		StartTime: time.Now().UTC(),
	}
	body, err := json.Marshal(&cmd)
	if err != nil {
		return 0, nil, fmt.Errorf("migfake: encode command: %w", err)
	}
	f.mu.Lock()
	f.commands[id] = &cmd
	f.queues["mig.agt."+ag.QueueLoc] = true
	f.mu.Unlock()
	return id, body, nil
}

// Send publishes a prepared command to the agent's queue with the §3.1 properties (persistent,
// text/plain, expiration = expireafter − validfrom, timestamp) and returns its id.
func (f *Fake) Send(ctx context.Context, row Row, act action.Action) (float64, error) {
	if f.ch == nil {
		return 0, errors.New("migfake: Send before Connect")
	}
	id, body, err := f.Prepare(row, act)
	if err != nil {
		return 0, err
	}
	ttl := act.ExpireAfter.Sub(act.ValidFrom)
	f.pubMu.Lock()
	defer f.pubMu.Unlock()
	err = f.ch.PublishWithContext(ctx, ExchangeToAgents, "mig.agt."+row.Agent.QueueLoc, false, false, amqp.Publishing{
		DeliveryMode: amqp.Persistent,
		ContentType:  "text/plain",
		Expiration:   strconv.FormatInt(ttl.Milliseconds(), 10),
		Timestamp:    time.Now(),
		Body:         body,
	})
	if err != nil {
		return 0, fmt.Errorf("migfake: publish command: %w", err)
	}
	return id, nil
}

// Agents lists the queuelocs seen, sorted.
func (f *Fake) Agents() []string {
	f.reg.mu.Lock()
	defer f.reg.mu.Unlock()
	seen := map[string]bool{}
	for k := range f.reg.rows {
		seen[k.queueLoc] = true
	}
	out := make([]string, 0, len(seen))
	for q := range seen {
		out = append(out, q)
	}
	sort.Strings(out)
	return out
}
