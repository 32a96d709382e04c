package mig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/omniagent/omniagent/httpclient"
)

// AMQP topology (§3.1). The exchanges and the scheduler's queues belong to the scheduler: the
// agent never declares them (its relay user may not).
const (
	exchangeToAgents     = "toagents"
	exchangeToSchedulers = "toschedulers"
	keyResults           = "mig.agt.results"
	keyHeartbeats        = "mig.agt.heartbeats"
	queuePrefix          = "mig.agt."
)

// Timing of the relay client.
const (
	defaultDialTimeout = 5 * time.Second
	confirmTimeout     = 30 * time.Second
	// drainIdle ends a check-in drain when no message came for this long (MIG: 3 s).
	drainIdle = 3 * time.Second
	// maxConcurrent bounds commands running at once; beyond, deliveries wait (back-pressure).
	maxConcurrent = 16
)

// relayConn is one connection to the relay with its single channel.
type relayConn struct {
	conn   *amqp.Connection
	ch     *amqp.Channel
	raw    net.Conn         // the transport, closed abruptly by tests to simulate a network loss
	closed chan *amqp.Error // connection closed (nil on a clean close)
	chDown chan *amqp.Error // channel closed (broker error on the channel)
	pubMu  sync.Mutex       // one publish + confirm at a time
	// returns and pubClose are read by publish only (under pubMu) to tell why a message did
	// not get through: returned unroutable, or the channel closed because of it.
	returns  chan amqp.Return
	pubClose chan *amqp.Error
}

// errRefused marks a publish the broker refused because of the message itself (nack, returned
// unroutable, over the broker's size limit), as opposed to a connection or confirm problem.
var errRefused = errors.New("the broker refused the message")

func (rc *relayConn) close() {
	_ = rc.conn.Close()
}

// connect dials the relay and opens a confirming channel. With declare it also sets prefetch 1,
// declares our durable queue and binds it to toagents (a missing exchange is an error here, so
// the caller retries later: the scheduler may not have started yet).
func (a *Adapter) connect(ctx context.Context, declare bool) (*relayConn, error) {
	rc := &relayConn{}
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName("omniagent mig " + a.d.Server.Name)
	props["version"] = a.version
	cfg := amqp.Config{
		Heartbeat:  a.opts.AMQPHeartbeat.D(),
		Properties: props,
		Dial: func(network, addr string) (net.Conn, error) {
			d := &net.Dialer{Timeout: a.dialTimeout, KeepAlive: 30 * time.Second}
			var c net.Conn
			var err error
			if a.proxy != nil {
				c, err = httpclient.DialConnect(ctx, d, a.proxy, addr, nil, a.dialTimeout, "the server's relay_proxy key")
			} else {
				c, err = d.DialContext(ctx, network, addr)
			}
			if err != nil {
				return nil, err
			}
			// Bounds the TLS and AMQP handshakes; amqp091 clears it once the connection is open.
			if err := c.SetDeadline(time.Now().Add(a.dialTimeout)); err != nil {
				c.Close()
				return nil, err
			}
			rc.raw = c
			return c, nil
		},
	}
	if a.tls != nil {
		cfg.TLSClientConfig = a.tls.Clone()
	}
	conn, err := amqp.DialConfig(a.opts.Relay, cfg)
	if err != nil {
		return nil, fmt.Errorf("mig %s: connect to relay %s: %w", a.d.Server.Name, httpclient.RedactURL(a.opts.Relay), err)
	}
	rc.conn = conn
	rc.closed = conn.NotifyClose(make(chan *amqp.Error, 1))
	// amqp091 waits for the broker's answers below with no limit of its own: a relay that
	// opens the connection and then says nothing would hold the agent. Closing the socket
	// ends every pending call.
	sctx, scancel := context.WithTimeout(ctx, a.setupTimeout)
	defer scancel()
	stop := context.AfterFunc(sctx, func() {
		if rc.raw != nil {
			rc.raw.Close()
		}
	})
	defer stop()
	fail := func(what string, err error) (*relayConn, error) {
		conn.Close()
		if sctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("relay set-up did not finish within %s (request_timeout): %w", a.setupTimeout, err)
		}
		return nil, fmt.Errorf("mig %s: relay: %s: %w", a.d.Server.Name, what, err)
	}
	if rc.ch, err = conn.Channel(); err != nil {
		return fail("open channel", err)
	}
	rc.chDown = rc.ch.NotifyClose(make(chan *amqp.Error, 1))
	if err := rc.ch.Confirm(false); err != nil {
		return fail("enable publisher confirms", err)
	}
	// Results are published mandatory: an unroutable one (no scheduler queue bound) comes back,
	// before its confirm (the client dispatches both in wire order). publish drains them.
	rc.returns = rc.ch.NotifyReturn(make(chan amqp.Return, 16))
	rc.pubClose = rc.ch.NotifyClose(make(chan *amqp.Error, 1))
	if !declare {
		return rc, nil
	}
	if err := rc.ch.Qos(1, 0, false); err != nil {
		return fail("set prefetch", err)
	}
	q := a.queueName()
	if _, err := rc.ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		return fail("declare queue "+q, err)
	}
	if err := rc.ch.QueueBind(q, q, exchangeToAgents, false, nil); err != nil {
		return fail("bind queue "+q+" to exchange "+exchangeToAgents, err)
	}
	return rc, nil
}

// publish sends one message to toschedulers with the §3.1 properties and waits for the broker's
// confirm.
func (a *Adapter) publish(ctx context.Context, rc *relayConn, key string, body []byte) error {
	rc.pubMu.Lock()
	defer rc.pubMu.Unlock()
	start := time.Now()
	defer func() { // the debug exchange log, as httpclient does for HTTP: never the body
		a.log.Debug("amqp exchange", "op", "publish", "exchange", exchangeToSchedulers, "key", key, "sent", len(body), "took", time.Since(start).Round(time.Millisecond))
	}()
	ttl := 10 * a.opts.HeartbeatInterval.D()
	dc, err := rc.ch.PublishWithDeferredConfirmWithContext(ctx, exchangeToSchedulers, key, true, false, amqp.Publishing{
		DeliveryMode: amqp.Persistent,
		ContentType:  "text/plain",
		Expiration:   strconv.FormatInt(ttl.Milliseconds(), 10),
		Timestamp:    a.now().UTC(),
		Body:         body,
	})
	if err != nil {
		return fmt.Errorf("mig %s: publish to %s/%s: %w", a.d.Server.Name, exchangeToSchedulers, key, err)
	}
	cctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	ok, err := dc.WaitContext(cctx)
	if err != nil {
		return fmt.Errorf("mig %s: publish to %s/%s: waiting for the broker's confirm: %w", a.d.Server.Name, exchangeToSchedulers, key, err)
	}
	where := fmt.Sprintf("mig %s: publish to %s/%s", a.d.Server.Name, exchangeToSchedulers, key)
	if !ok {
		var closeErr *amqp.Error
		select {
		case closeErr = <-rc.pubClose: // sent by the client before it fails the confirms
		default:
		}
		switch {
		case closeErr != nil && closeErr.Code == amqp.PreconditionFailed && strings.Contains(strings.ToLower(closeErr.Reason), "size"):
			return fmt.Errorf("%s: %w: %d bytes are over its message size limit (%s)", where, errRefused, len(body), closeErr.Reason)
		case closeErr != nil || rc.ch.IsClosed():
			// Not the message's fault: the connection or channel went away before the confirm.
			return fmt.Errorf("%s: the connection was lost before the broker confirmed: %v", where, errString(closeErr))
		default:
			return fmt.Errorf("%s: %w (nack)", where, errRefused)
		}
	}
	for {
		select {
		case r := <-rc.returns:
			if r.RoutingKey == key && bytes.Equal(r.Body, body) {
				return fmt.Errorf("%s: %w: returned as unroutable (%d %s): no scheduler queue is bound (is the MIG scheduler running?)", where, errRefused, r.ReplyCode, r.ReplyText)
			}
			a.log.Debug("mig: relay returned an earlier message as unroutable", "key", r.RoutingKey, "reply", r.ReplyText)
		default:
			return nil
		}
	}
}

// Serve keeps the relay connection: consume commands, run them, publish results; reconnect with
// back-off (1 s doubling to 2 min, plus jitter) and re-declare after any loss. A check-in agent
// holds no connection: Serve just waits.
func (a *Adapter) Serve(ctx context.Context) error {
	if a.opts.Checkin {
		<-ctx.Done()
		return nil
	}
	if err := a.prepare(ctx); err != nil {
		return err
	}
	var running sync.WaitGroup
	defer running.Wait()
	backoff := a.backoffBase
	for {
		start := time.Now()
		err := a.serveOnce(ctx, &running)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) >= time.Minute {
			backoff = a.backoffBase
		}
		d := backoff + time.Duration(rand.Int64N(int64(backoff)/4+1))
		backoff = min(backoff*2, a.backoffMax)
		a.setRelayState("disconnected: " + errString(err))
		a.log.Warn("mig: relay connection ended; reconnecting", "err", err, "in", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}

// serveOnce runs one connection until it is lost or ctx ends. Commands run under ctx (not the
// connection) and leave their result in the outbox, so a drop does not lose them.
func (a *Adapter) serveOnce(ctx context.Context, running *sync.WaitGroup) error {
	rc, err := a.connect(ctx, true)
	if err != nil {
		return err
	}
	defer rc.close()
	deliveries, err := rc.ch.Consume(a.queueName(), "", false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("mig %s: relay: consume %s: %w", a.d.Server.Name, a.queueName(), err)
	}
	a.setLive(rc)
	defer a.setLive(nil)
	a.sessions.Add(1)
	a.setRelayState("connected")
	a.log.Info("mig: relay connected", "queue", a.queueName())

	// The publisher ends with the session: it writes the result queue's file, which must not
	// change after Serve has returned.
	sctx, cancel := context.WithCancel(ctx)
	pubErr := make(chan error, 1)
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		pubErr <- a.publishLoop(sctx, rc)
	}()
	defer func() {
		cancel()
		<-pubDone
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-rc.closed:
			return connLost(e)
		case e := <-rc.chDown:
			return connLost(e)
		case err := <-pubErr:
			return err
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("relay: the broker cancelled our consumer (queue deleted?)")
			}
			if err := a.accept(ctx, d, running); err != nil {
				return err
			}
		}
	}
}

func connLost(e *amqp.Error) error {
	if e == nil {
		return errors.New("relay connection closed")
	}
	return fmt.Errorf("relay connection lost: %w", e)
}

// accept acks a delivery at once (MIG's rule: a command is never redelivered) and runs it in the
// background, waiting for a free slot first.
func (a *Adapter) accept(ctx context.Context, d amqp.Delivery, running *sync.WaitGroup) error {
	a.log.Debug("amqp exchange", "op", "deliver", "queue", a.queueName(), "received", len(d.Body))
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return nil // unacked: the broker requeues it when we disconnect
	}
	if err := d.Ack(false); err != nil {
		<-a.slots
		// Not acked means the broker will deliver it again: do not run it twice.
		return fmt.Errorf("mig %s: relay: ack command: %w", a.d.Server.Name, err)
	}
	running.Add(1)
	go func() {
		defer running.Done()
		defer func() { <-a.slots }()
		a.handle(ctx, d.Body)
	}()
	return nil
}

// handle verifies and runs one command and queues its result for publishing.
func (a *Adapter) handle(ctx context.Context, body []byte) {
	eng, err := a.engine()
	if err != nil {
		a.log.Error("mig: cannot build the action engine; command dropped", "err", err)
		return
	}
	refused := false
	eng.Refused = func(cmdID, actionID float64, err error) {
		refused = true
		a.junk.warn("action refused", "command", int64(cmdID), "action", int64(actionID), "err", err, "bytes", len(body))
	}
	out, err := eng.Handle(ctx, body)
	if err != nil {
		a.junk.warn("not a MIG command, nothing to answer", "err", err, "bytes", len(body))
		return
	}
	a.handled.Add(1)
	a.outbox.push(out, a.now())
	if refused {
		a.log.Debug("mig: refusal queued for the scheduler", "bytes", len(out))
		return
	}
	a.log.Info("mig: command handled", "bytes", len(out))
}

// publishLoop publishes queued results on rc whenever there are some, until ctx ends or a
// publish fails (the session then reconnects and the result is retried).
func (a *Adapter) publishLoop(ctx context.Context, rc *relayConn) error {
	for {
		if err := a.flushOutbox(ctx, rc); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-a.outbox.wake:
		}
	}
}

// flushOutbox publishes every queued result, oldest first, removing each once confirmed.
// Results older than their message TTL are dropped: the broker would discard them anyway.
func (a *Adapter) flushOutbox(ctx context.Context, rc *relayConn) error {
	ttl := 10 * a.opts.HeartbeatInterval.D()
	for ctx.Err() == nil {
		p, ok := a.outbox.front()
		if !ok {
			return nil
		}
		if a.now().Sub(p.queued) > ttl {
			a.log.Warn("mig: result expired before the relay could take it; dropped", "queued", p.queued)
			a.outbox.pop(p)
			continue
		}
		// Publish first: a count left by earlier refusals must not drop a result the relay
		// would take now.
		err := a.publish(ctx, rc, keyResults, p.body)
		if err == nil {
			a.outbox.pop(p)
			a.published.Add(1)
			continue
		}
		// Only refusals caused by the result itself count; anything else (connection lost,
		// confirm timeout, relay down) keeps it until its TTL.
		if errors.Is(err, errRefused) {
			if n := a.outbox.refused(p); n >= maxAttempts {
				a.log.Error("mig: result refused by the relay too many times; dropped", "refusals", n, "bytes", len(p.body), "err", err)
				a.outbox.pop(p)
				continue
			}
		}
		return err
	}
	return nil
}

// drain is a check-in run (--oneshot, checkin = true): connect, heartbeat, take commands until
// none came for drainIdle, run them, publish every result, disconnect. The whole run is capped
// at 1.1 × module_timeout.
func (a *Adapter) drain(parent context.Context) (taken int, hbErr error, err error) {
	ctx, cancel := context.WithTimeout(parent, a.opts.ModuleTimeout.D()*11/10)
	defer cancel()
	rc, err := a.connect(ctx, true)
	if err != nil {
		return 0, nil, err
	}
	defer rc.close()
	a.setLive(rc)
	defer a.setLive(nil)
	hbErr = a.heartbeat(ctx)

	tag := "omniagent-checkin"
	deliveries, err := rc.ch.Consume(a.queueName(), tag, false, false, false, false, nil)
	if err != nil {
		return 0, hbErr, fmt.Errorf("mig %s: relay: consume %s: %w", a.d.Server.Name, a.queueName(), err)
	}
	var running sync.WaitGroup
	idle := time.NewTimer(a.drainIdle)
	defer idle.Stop()
	cancelled := false
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case e := <-rc.closed:
			err = connLost(e)
			break loop
		case e := <-rc.chDown:
			err = connLost(e)
			break loop
		case <-idle.C:
			// Stop the consumer; a delivery already on its way still arrives and is run.
			if cerr := rc.ch.Cancel(tag, false); cerr != nil {
				err = fmt.Errorf("mig %s: relay: cancel consumer: %w", a.d.Server.Name, cerr)
				break loop
			}
			cancelled = true
		case d, ok := <-deliveries:
			if !ok {
				if !cancelled {
					err = errors.New("relay: the broker cancelled our consumer (queue deleted?)")
				}
				break loop
			}
			if aerr := a.accept(ctx, d, &running); aerr != nil {
				err = aerr
				break loop
			}
			taken++
			if !cancelled {
				idle.Reset(a.drainIdle)
			}
		}
	}
	running.Wait()
	if ctx.Err() != nil && err == nil {
		err = fmt.Errorf("mig %s: check-in run exceeded its time cap: %w", a.d.Server.Name, ctx.Err())
	}
	// Publish what we have even after a consumer problem or the time cap, as long as the
	// connection lives.
	fctx, fcancel := context.WithTimeout(parent, confirmTimeout)
	defer fcancel()
	if ferr := a.flushOutbox(fctx, rc); ferr != nil {
		err = errors.Join(err, ferr)
	}
	return taken, hbErr, err
}
