package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/semisync-go/semisync/source"
)

// outcomes are the commit outcomes in the order they are printed; 0 stands
// for a commit that failed before its wait (a binlog error).
var outcomes = []source.Outcome{
	source.Acknowledged, source.TimedOut, source.Async, source.SwitchedOff,
	source.Disabled, source.NoPosition, source.Cancelled, source.Reset, 0,
}

// tally counts commits by outcome.
type tally struct {
	by   map[source.Outcome]int
	took time.Duration
}

func (t *tally) add(o source.Outcome) {
	if t.by == nil {
		t.by = map[source.Outcome]int{}
	}
	t.by[o]++
}

func (t *tally) merge(u tally) {
	if t.by == nil {
		t.by = map[source.Outcome]int{}
	}
	for o, n := range u.by {
		t.by[o] += n
	}
	t.took += u.took
}

func (t tally) total() int {
	n := 0
	for _, k := range t.by {
		n += k
	}
	return n
}

func (t tally) String() string { return tallyLine(t) }

// expectAcknowledged: every commit acknowledged, and the source ON.
func (t tally) expectAcknowledged(on bool) error {
	switch {
	case t.total() == 0:
		return fmt.Errorf("no commits")
	case t.by[source.Acknowledged] != t.total():
		return fmt.Errorf("%d of %d commits acknowledged", t.by[source.Acknowledged], t.total())
	case !on:
		return fmt.Errorf("the source is not semisynchronous")
	}
	return nil
}

// slowNotFailed reports whether a healthy scene's missing acknowledgements
// are all explained by the replicas being slower than the timeout: some
// commits timed out, every switch-off of the scene (offs) was by a
// timeout (timeoutOffs), and every other commit either was acknowledged,
// was released by such a switch-off, or ran while the source was OFF
// after one. Whether the replicas then acknowledged late (the source
// re-enters semisync by itself) is for the caller to see.
func (t tally) slowNotFailed(offs, timeoutOffs uint64) bool {
	if t.by[source.TimedOut] == 0 || offs == 0 || offs != timeoutOffs {
		return false
	}
	for o, n := range t.by {
		switch o {
		case source.Acknowledged, source.TimedOut, source.SwitchedOff, source.Async:
		default:
			if n > 0 {
				return false
			}
		}
	}
	return true
}

// expectFallback: no commit acknowledged and the source OFF at the end;
// if it was ON when the scene began, it switched off exactly once, by a
// timeout.
func (t tally) expectFallback(wasOn, on bool, switchOffs uint64) error {
	switch {
	case t.by[source.Acknowledged] > 0:
		return fmt.Errorf("%d commits acknowledged with too few replicas", t.by[source.Acknowledged])
	case on:
		return fmt.Errorf("the source is still semisynchronous")
	case wasOn && (switchOffs != 1 || t.by[source.TimedOut] == 0):
		return fmt.Errorf("%d switch-offs and %d timeouts, want one switch-off by a timeout", switchOffs, t.by[source.TimedOut])
	case !wasOn && switchOffs != 0:
		return fmt.Errorf("%d switch-offs while already OFF", switchOffs)
	}
	return nil
}

// clone returns a copy of t that shares nothing with it.
func (t tally) clone() tally {
	var u tally
	u.merge(t)
	return u
}

// progress shows a workload's progress: on a terminal a bar redrawn in
// place ten times a second, elsewhere a plain line every second.
type progress struct {
	w    io.Writer
	tty  bool
	d    time.Duration
	done chan struct{}
	wg   sync.WaitGroup
}

func newProgress(w io.Writer, d time.Duration) *progress {
	p := &progress{w: w, d: d}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// start begins reporting from began, reading the counts from read.
func (p *progress) start(began time.Time, read func() tally) {
	every := time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	p.done = make(chan struct{})
	p.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				return
			case now := <-tick.C:
				p.draw(now.Sub(began), read())
			}
		}
	})
}

func (p *progress) draw(elapsed time.Duration, t tally) {
	counts := fmt.Sprintf("%5.1fs  %d commits, %d acknowledged", elapsed.Seconds(), t.total(), t.by[source.Acknowledged])
	if !p.tty {
		fmt.Fprintln(p.w, "  "+counts)
		return
	}
	const width = 30
	k := min(width, int(float64(width)*float64(elapsed)/float64(p.d)))
	fmt.Fprintf(p.w, "\r[%s%s] %s ", strings.Repeat("#", k), strings.Repeat(".", width-k), counts)
}

// stop ends the reports and clears the bar's line.
func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 80))
	}
}
