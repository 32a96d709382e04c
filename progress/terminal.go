package progress

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/scheduler"
)

// Terminal draws a block of live lines at the bottom of a terminal: one per server while its
// cycle runs, one bar per download. Everything else written through it (the log) goes above
// the block, which is redrawn below. ANSI escapes only: cursor up, erase line.
type Terminal struct {
	mu      sync.Mutex
	w       io.Writer
	width   int
	now     func() time.Time
	drawn   int // lines of the block on screen
	servers []*serverLine
	bars    []*bar
	stop    chan struct{}
	done    chan struct{}
}

type serverLine struct {
	name   string
	start  time.Time
	result string // empty while running
	took   time.Duration
}

type bar struct {
	t            *Terminal
	server, name string
	start        time.Time
	p            jobs.Progress
}

// NewTerminal draws on w (a terminal) width columns wide, redrawing every 200 ms so elapsed
// times move; Close stops it and clears the block.
func NewTerminal(w io.Writer, width int, now func() time.Time) *Terminal {
	if now == nil {
		now = time.Now
	}
	if width < 40 {
		width = 80
	}
	t := &Terminal{w: w, width: width, now: now, stop: make(chan struct{}), done: make(chan struct{})}
	go t.tick()
	return t
}

func (t *Terminal) tick() {
	defer close(t.done)
	tk := time.NewTicker(200 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tk.C:
			t.mu.Lock()
			t.redraw()
			t.mu.Unlock()
		}
	}
}

// Close stops the redraws and removes the block.
func (t *Terminal) Close() {
	close(t.stop)
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
}

// Write prints p above the block (log lines).
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
	n, err := t.w.Write(p)
	t.redraw()
	return n, err
}

// Cycle follows the scheduler: o is nil when the server's cycle starts.
func (t *Terminal) Cycle(server string, o *scheduler.Outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o == nil {
		t.servers = append(t.servers, &serverLine{name: server, start: t.now()})
	} else {
		for _, s := range t.servers {
			if s.name == server && s.result == "" {
				s.result, s.took = o.ResultText(), o.Duration
			}
		}
	}
	t.redraw()
}

// Start begins one download bar.
func (t *Terminal) Start(server, name string) jobs.ProgressTracker {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := &bar{t: t, server: server, name: name, start: t.now(), p: jobs.Progress{Total: -1, Percent: -1}}
	t.bars = append(t.bars, b)
	t.redraw()
	return b
}

func (b *bar) Update(p jobs.Progress) {
	b.t.mu.Lock()
	defer b.t.mu.Unlock()
	b.p = p
	b.t.redraw()
}

// Done removes the bar and leaves one line saying how the download went.
func (b *bar) Done(err error) {
	t := b.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, x := range t.bars {
		if x == b {
			t.bars = append(t.bars[:i], t.bars[i+1:]...)
			break
		}
	}
	t.clear()
	el := t.now().Sub(b.start)
	line := fmt.Sprintf("%s: %s: %s in %s (%s/s)", b.server, b.name, Bytes(b.p.Bytes), el.Round(100*time.Millisecond), Bytes(rate(b.p.Bytes, el)))
	if err != nil {
		line = fmt.Sprintf("%s: %s: failed after %s: %v", b.server, b.name, Bytes(b.p.Bytes), err)
	}
	fmt.Fprintln(t.w, fit(line, t.width))
	t.redraw()
}

// clear erases the block: up one line and erase, for each line drawn.
func (t *Terminal) clear() {
	if t.drawn == 0 {
		return
	}
	io.WriteString(t.w, strings.Repeat("\x1b[1A\x1b[2K", t.drawn)+"\r")
	t.drawn = 0
}

func (t *Terminal) redraw() {
	t.clear()
	var b strings.Builder
	now := t.now()
	n := 0
	for _, s := range t.servers {
		line := fmt.Sprintf("%s: running %s", s.name, now.Sub(s.start).Round(time.Second))
		if s.result != "" {
			line = fmt.Sprintf("%s: %s (%s)", s.name, s.result, s.took.Round(time.Millisecond))
		}
		b.WriteString(fit(line, t.width) + "\n")
		n++
	}
	for _, x := range t.bars {
		b.WriteString(fit(x.line(now, t.width), t.width) + "\n")
		n++
	}
	io.WriteString(t.w, b.String())
	t.drawn = n
}

// line is "  oco: pkg.zip [=======>     ]  45% 20.1 MiB/45.0 MiB 8.2 MiB/s ETA 3s".
func (b *bar) line(now time.Time, width int) string {
	el := now.Sub(b.start)
	r := rate(b.p.Bytes, el)
	head := fmt.Sprintf("  %s: %s ", b.server, b.name)
	if b.p.Total <= 0 || b.p.Percent < 0 {
		return head + fmt.Sprintf("%s %s/s", Bytes(b.p.Bytes), Bytes(r))
	}
	tail := fmt.Sprintf(" %3d%% %s/%s %s/s", int(b.p.Percent), Bytes(b.p.Bytes), Bytes(b.p.Total), Bytes(r))
	if r > 0 && b.p.Bytes < b.p.Total {
		eta := time.Duration(float64(b.p.Total-b.p.Bytes) / float64(r) * float64(time.Second))
		tail += " ETA " + eta.Round(time.Second).String()
	}
	w := width - len(head) - len(tail) - 3
	if w > 40 {
		w = 40
	}
	if w < 5 {
		return head + tail
	}
	fill := int(float64(w) * b.p.Percent / 100)
	bar := strings.Repeat("=", fill)
	if fill < w {
		bar += ">" + strings.Repeat(" ", w-fill-1)
	}
	return head + "[" + bar + "]" + tail
}

func rate(n int64, el time.Duration) int64 {
	if el <= 0 {
		return 0
	}
	return int64(float64(n) / el.Seconds())
}

// fit cuts s to width-1 runes: a wrapped line would break the cursor arithmetic.
func fit(s string, width int) string {
	r := []rune(s)
	if len(r) >= width {
		return string(r[:width-2]) + "…"
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
