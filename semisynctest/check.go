package semisynctest

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/vars"
)

// CommitRecord is one commit of a run.
type CommitRecord struct {
	N   int               // 1 for the first commit
	Pos semisync.Position // its end in the binlog
	// Began is when it was written and its wait began; Ended when its
	// wait returned Outcome (the Outcomes-th time: exactly once is
	// right); Visible when readers could see it (-1: never). Times are
	// since the start of the run.
	Began, Ended, Visible time.Duration
	Outcome               source.Outcome
	Outcomes              int
	// Quorum is the number of replicas the quorum policy in force when
	// the wait returned needs (the wait count, by default), and Policy
	// that policy: NoLostAck counts only the replicas it counts, and for
	// a zone-spanning policy wants its zones covered too.
	Quorum int
	Policy ackset.Policy
	// Err is why it could not be written or waited for (the source
	// crashed during its wait, say).
	Err string
	// Gen is the source's generation it was written in (0, then one more
	// for each source crash or failover).
	Gen int
	// WaitPoint is the wait point in force when it was written: under
	// AFTER_COMMIT readers may see it before its wait returns.
	WaitPoint vars.WaitPoint
}

// AckRecord is one ACK a replica sent.
type AckRecord struct {
	Replica int
	Pos     semisync.Position
	Sent    time.Duration
}

// HoldRecord is a change of what a replica's relay log holds: from At on,
// its events up to End (after a crash, perhaps fewer than before).
type HoldRecord struct {
	At      time.Duration
	Replica int
	End     semisync.Position
}

// History is what a run did: every commit and its outcome, every ACK,
// what each replica held over time, the log of events, and the state at
// the end. String is the same, byte for byte, for the same run.
type History struct {
	// Replicas is the number of replicas; replica i has ID i+1.
	Replicas int
	// Commits are the run's commits in order; Acks every ACK a replica
	// sent (delivered or not); Holds every change of what a replica's
	// relay log holds, in time order.
	Commits []*CommitRecord
	Acks    []AckRecord
	Holds   []HoldRecord
	// Events is the log of what happened, one line each, with
	// Config.Trace (Explore's Failure always has it).
	Events []string
	trace  bool
	// Healed is the number of commits before the liveness probe: the
	// commit after them was made with every fault healed, after one
	// commit that let the source catch up.
	Healed int
	// HealFor is how long the run went on after healing (Config.Heal).
	HealFor time.Duration
	// On is the source's status at the end; Counters its counters after
	// Close.
	On       bool
	Counters status.SourceSnapshot
	// Gen is the source's generation at the end: Counters are that
	// source's.
	Gen int
	// Binlog is the source's binlog, as its cursors read it; Logs what
	// each replica's relay log holds at the end.
	Binlog []Event
	Logs   [][]Event
}

func (h *History) add(at time.Duration, format string, args ...any) {
	if h.trace {
		h.Events = append(h.Events, fmt.Sprintf("%10s ", at)+fmt.Sprintf(format, args...))
	}
}

func (h *History) hold(at time.Duration, r int, end semisync.Position) {
	h.Holds = append(h.Holds, HoldRecord{At: at, Replica: r, End: end})
}

// String is the run's log of events (Config.Trace), then its commits'
// outcomes.
func (h *History) String() string {
	var b strings.Builder
	for _, e := range h.Events {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	for _, c := range h.Commits {
		fmt.Fprintf(&b, "commit %d at %s: %s (%d outcomes) at %s, visible at %s\n", c.N, c.Pos, c.Outcome, c.Outcomes, ended(c), c.Visible)
	}
	return b.String()
}

// Checker judges a history; nil means it holds.
type Checker func(*History) error

// Check runs checkers (All if none are given) and joins what they find.
func (h *History) Check(checkers ...Checker) error {
	if len(checkers) == 0 {
		checkers = All
	}
	var errs []error
	for _, c := range checkers {
		errs = append(errs, c(h))
	}
	return errors.Join(errs...)
}

// All is every checker of the package.
var All = []Checker{NoLostAck, NoPhantom, AfterSyncVisibility, OneOutcome, Counters, Liveness}

// NoLostAck: every commit whose wait returned Acknowledged is held by at
// least its quorum's number of replicas at every instant from then on,
// crashes included, is in the source's binlog at the end (after any
// source crash or failover), and is held by the replica a failover at the
// end would promote (the one holding the most).
func NoLostAck(h *History) error {
	holds := slicesSorted(h.Holds)
	var acked []*CommitRecord
	for _, c := range h.Commits {
		if c.Outcomes > 0 && c.Outcome == source.Acknowledged && c.Quorum > 0 {
			acked = append(acked, c)
		}
	}
	sort.SliceStable(acked, func(i, j int) bool { return acked[i].Ended < acked[j].Ended })
	ends := make([]semisync.Position, h.Replicas)
	// held is the number of replicas holding c that its policy counts, or
	// 0 when they do not cover the groups a spanning policy needs.
	held := func(c *CommitRecord) int {
		n := 0
		var groups map[string]bool
		for i, e := range ends {
			id := semisync.ReplicaID(i + 1)
			if e.IsZero() || c.Pos.Compare(e) > 0 || !c.Policy.Counts(id) {
				continue
			}
			n++
			if g, ok := c.Policy.Group(id); ok {
				if groups == nil {
					groups = map[string]bool{}
				}
				groups[g] = true
			}
		}
		if c.Policy.Kind() == ackset.KindGroups && len(groups) < c.Policy.K() {
			return 0
		}
		return n
	}
	// The state in force just after a commit's ACK is the one after every
	// hold up to then; later it changes only at holds, and can lose a
	// commit only where a hold moves back (a crash, a failed fsync).
	active := 0
	check := func(at time.Duration, cs []*CommitRecord) error {
		for _, c := range cs {
			if n := held(c); n < c.Quorum {
				return fmt.Errorf("NoLostAck: commit %d (%s) acknowledged at %s is held by %d replicas at %s, fewer than its quorum %d", c.N, c.Pos, c.Ended, n, at, c.Quorum)
			}
		}
		return nil
	}
	for i := 0; i <= len(holds); i++ {
		var at time.Duration = 1<<63 - 1
		if i < len(holds) {
			at = holds[i].At
		}
		// Commits acknowledged before this hold: judged on the state now.
		for active < len(acked) && acked[active].Ended < at {
			if err := check(acked[active].Ended, acked[active:active+1]); err != nil {
				return err
			}
			active++
		}
		if i == len(holds) {
			break
		}
		x := holds[i]
		back := !ends[x.Replica].IsZero() && (x.End.IsZero() || x.End.Compare(ends[x.Replica]) < 0)
		ends[x.Replica] = x.End
		if back {
			if err := check(x.At, acked[:active]); err != nil {
				return err
			}
		}
	}
	// The binlog at the end (after source crashes and failovers) has
	// every acknowledged commit.
	for _, c := range acked {
		// The binlog is in position order.
		if i := sort.Search(len(h.Binlog), func(i int) bool { return h.Binlog[i].End.Compare(c.Pos) >= 0 }); i == len(h.Binlog) || h.Binlog[i].End != c.Pos {
			return fmt.Errorf("NoLostAck: commit %d (%s) acknowledged at %s is not in the source's binlog at the end", c.N, c.Pos, c.Ended)
		}
	}
	// Failover: the most advanced replica has every acknowledged commit.
	var best []Event
	for _, l := range h.Logs {
		if len(l) > len(best) {
			best = l
		}
	}
	for _, c := range acked {
		if len(best) == 0 || best[len(best)-1].End.Compare(c.Pos) < 0 {
			return fmt.Errorf("NoLostAck: commit %d (%s) acknowledged at %s is not on the replica a failover would promote", c.N, c.Pos, c.Ended)
		}
	}
	return nil
}

// slicesSorted returns the holds in time order (they are recorded so).
func slicesSorted(hs []HoldRecord) []HoldRecord {
	out := append([]HoldRecord(nil), hs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

// NoPhantom: every replica's relay log is a prefix of the source's
// binlog: it holds nothing the source did not write, in the source's
// order, byte for byte.
func NoPhantom(h *History) error {
	for r, l := range h.Logs {
		if len(l) > len(h.Binlog) {
			return fmt.Errorf("NoPhantom: replica %d holds %d events, the source wrote %d", r, len(l), len(h.Binlog))
		}
		for i, e := range l {
			if s := h.Binlog[i]; e.End != s.End {
				return fmt.Errorf("NoPhantom: replica %d's event %d ends at %s, the source's at %s", r, i+1, e.End, s.End)
			} else if !bytes.Equal(e.Data, s.Data) {
				return fmt.Errorf("NoPhantom: replica %d's event %d, ending at %s, is %x, the source's %x", r, i+1, e.End, e.Data, s.Data)
			}
		}
	}
	return nil
}

// AfterSyncVisibility: no commit written under the AFTER_SYNC wait point
// became visible to readers before its wait returned. (Under AFTER_COMMIT
// readers may see a commit first: that is the wait point's meaning.)
func AfterSyncVisibility(h *History) error {
	for _, c := range h.Commits {
		if c.WaitPoint == vars.AfterCommit {
			continue
		}
		if c.Visible >= 0 && (c.Outcomes == 0 || c.Visible < c.Ended) {
			return fmt.Errorf("AfterSyncVisibility: commit %d visible at %s, before its wait returned (%s)", c.N, c.Visible, ended(c))
		}
	}
	return nil
}

func ended(c *CommitRecord) string {
	if c.Outcomes == 0 {
		return "never"
	}
	return c.Ended.String()
}

// OneOutcome: every wait that began returned exactly one outcome.
func OneOutcome(h *History) error {
	for _, c := range h.Commits {
		if c.Err == "" && c.Outcomes != 1 {
			return fmt.Errorf("OneOutcome: commit %d's wait returned %d outcomes", c.N, c.Outcomes)
		}
	}
	return nil
}

// Counters: the source's counters agree with the history: one of yes_tx
// or no_tx for every wait that found the source enabled, yes_tx no more
// than the waits acknowledged, wait_timeouts the waits timed out.
func Counters(h *History) error {
	var counted, acked, timedOut uint64
	for _, c := range h.Commits {
		if c.Outcomes == 0 || c.Gen != h.Gen {
			continue
		}
		switch c.Outcome {
		case source.NoPosition, source.Disabled:
			continue
		case source.Acknowledged:
			acked++
		case source.TimedOut:
			timedOut++
		}
		counted++
	}
	s := h.Counters
	switch {
	case s.YesTx+s.NoTx != counted:
		return fmt.Errorf("Counters: yes_tx %d + no_tx %d, but %d waits found the source enabled", s.YesTx, s.NoTx, counted)
	case s.YesTx > acked:
		return fmt.Errorf("Counters: yes_tx %d, but %d waits were acknowledged", s.YesTx, acked)
	case s.WaitTimeouts != timedOut:
		return fmt.Errorf("Counters: wait_timeouts %d, but %d waits timed out", s.WaitTimeouts, timedOut)
	}
	return nil
}

// Liveness: once every fault healed and one commit let the replicas
// catch up, the source is ON and the next commit is acknowledged within
// Config.Heal.
func Liveness(h *History) error {
	if h.Healed >= len(h.Commits) {
		return errors.New("Liveness: no commit after healing")
	}
	c := h.Commits[h.Healed]
	if c.Outcomes != 1 || c.Outcome != source.Acknowledged || c.Ended-c.Began > h.HealFor {
		return fmt.Errorf("Liveness: the commit after healing (%d) ended %s at %s, began %s", c.N, c.Outcome, ended(c), c.Began)
	}
	if !h.On {
		return errors.New("Liveness: the source is OFF after healing")
	}
	return nil
}

// ErrHeldTwice is wrapped by Held's error for a log that holds an event
// twice: a replica that was sent, or kept, a commit a second time.
var ErrHeldTwice = errors.New("semisynctest: a log holds an event twice")

// Held is NoLostAck's failover question for a real cluster (a demo's, a
// host's test): given the acknowledged commits and what each replica's
// log holds (by any identity: positions, payloads), it returns those held
// by fewer than want logs, in the order given. A log that holds an event
// twice is an error wrapping ErrHeldTwice.
func Held[K comparable](acked []K, logs [][]K, want int) (short []K, err error) {
	count := make(map[K]int, len(acked))
	for _, k := range acked {
		count[k] = 0
	}
	for i, l := range logs {
		seen := make(map[K]bool, len(l))
		for _, k := range l {
			if seen[k] {
				return nil, fmt.Errorf("%w: log %d holds %v twice", ErrHeldTwice, i, k)
			}
			seen[k] = true
			if _, ok := count[k]; ok {
				count[k]++
			}
		}
	}
	for _, k := range acked {
		if count[k] < want {
			short = append(short, k)
		}
	}
	return short, nil
}
