package semisynctest

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/dump"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/vars"
)

// Net is the simulated network between the source and each replica. Each
// message (an event to a replica, an ACK to the source) is delayed by
// Delay plus up to Jitter, and independently lost, duplicated or held
// back (up to ten Jitters more, so that it may overtake or be overtaken)
// with the given probabilities. A replica's event stream is a TCP
// connection: a lost, repeated or out-of-order event breaks it, both
// sides notice, and the replica reconnects from its relay log's end after
// Reconnect. ACKs are delivered as they come, repeated or out of order:
// the source must take them as MySQL does.
type Net struct {
	Delay, Jitter      time.Duration
	Loss, Dup, Reorder float64
	Reconnect          time.Duration
}

// Disk is the simulated disk of each replica's relay log.
type Disk struct {
	// SyncFail is the probability that an fsync fails: the relay log
	// takes no more writes, the stream stops, and the replica reconnects
	// (reopening the relay log from what it had synced).
	SyncFail float64
	// Torn, on a crash, keeps a random prefix of what was flushed but not
	// synced, as a power failure may leave part of the page cache on disk;
	// otherwise all of it is lost. (A replica that acknowledges after
	// fsync syncs whenever it flushes: Torn matters with FlushedAcks, or
	// a host's store that syncs lazily.)
	Torn bool
	// Garbage, on a crash, leaves what was flushed but not synced (after
	// what Torn keeps) on the disk as junk: the records are there, their
	// bytes are not. The replica's relay log finds them by their checksums
	// when it is reopened (at a restart, or a promotion) and cuts the log
	// before the first, as package relaylog does.
	Garbage bool
}

// Config describes a simulated cluster. The zero Config is three
// replicas of a MySQL-flavored source (wait count 1, timeout 1 s)
// acknowledging after fsync, on a network of 1 ms ± 1 ms with rare faults.
type Config struct {
	// Replicas is the number of replicas; default 3.
	Replicas int
	// Flavor names the source's variables; default MySQL.
	Flavor semisync.Flavor
	// Vars, if set, is applied to the source's variables before the run
	// (SET GLOBAL assignments, comma-separated). The source is enabled,
	// with a 1 s timeout, unless it says otherwise.
	Vars string
	// FlushedAcks makes replicas acknowledge once their relay log is
	// flushed (replica.Flushed, MySQL's rule) rather than fsynced
	// (replica.Synced, the default): a power failure can then lose an
	// acknowledged commit, and NoLostAck says so.
	FlushedAcks bool
	// Relay, if set, makes each replica's relay log over its simulated
	// disk (a host's own relay log or store); default the disk itself.
	Relay func(d *DiskFile) replica.RelayLog
	// VisibleAtCommit makes the simulation's host (Config.Host nil) show
	// a commit to readers when it is written, before its wait returns,
	// whatever the wait point: an AFTER_COMMIT host claiming AFTER_SYNC,
	// which AfterSyncVisibility finds.
	VisibleAtCommit bool
	// Net is every link's network; Links, if set, gives replica i's own
	// (its zone's latency, say) instead.
	Net   Net
	Links func(replica int) Net
	// Policy, if set, is the source's quorum policy (source.Options.Policy)
	// instead of the wait count; replica i has ID i+1.
	Policy *ackset.Policy
	// Disk is every replica's relay-log disk.
	Disk Disk
	// MaxSteps bounds the schedules Schedules generates; default 60.
	MaxSteps int
	// Heal is how long the run goes on after the schedule, every fault
	// healed, before the liveness check; default 10 s.
	Heal time.Duration
	// Trace keeps a line for everything that happens in History.Events.
	Trace bool
	// PublishBeforeSync makes the simulation's host (Config.Host nil)
	// send a commit to the replicas (and wait for it) before its binlog
	// has fsynced it, which takes BinlogSync (default 1 ms): a source
	// crash in between leaves replicas holding what the restarted source
	// never wrote, and NoPhantom says so. The default host fsyncs first.
	PublishBeforeSync bool
	BinlogSync        time.Duration
	// Host, if set, is the host's commit path on the source's side: it is
	// called with the simulation's Binlog (empty at the start; after a
	// failover, holding the promoted replica's relay log) and returns the
	// host over it, or over a binlog of its own filled from it. By
	// default the simulation's own host commits: its Binlog and an engine
	// that shows transactions in order.
	Host func(b *Binlog) Host
	// Acks, if set, replaces the library's quorum arithmetic with the
	// host's (a new AckContainer at each start of the source): the
	// source then waits for one replica that stands for the container
	// (ID Replicas+1), which acknowledges what the container reports.
	// That replica is always connected, so the source counts one client
	// more, and never finds its quorum unreachable when replicas leave
	// (wait_no_replica OFF does not switch it off). Not with Policy.
	Acks func() AckContainer
}

func (c Config) withDefaults() Config {
	if c.Replicas <= 0 {
		c.Replicas = 3
	}
	if c.MaxSteps <= 0 {
		c.MaxSteps = 60
	}
	if c.Heal <= 0 {
		c.Heal = 10 * time.Second
	}
	if c.BinlogSync <= 0 {
		c.BinlogSync = time.Millisecond
	}
	if c.Net == (Net{}) {
		c.Net = Net{Delay: time.Millisecond, Jitter: time.Millisecond, Loss: 0.01, Dup: 0.01, Reorder: 0.01, Reconnect: 100 * time.Millisecond}
	}
	if c.Net.Reconnect <= 0 {
		c.Net.Reconnect = 100 * time.Millisecond
	}
	return c
}

// varNames are the source's variables in a flavor's names.
type varNames struct{ enabled, timeout, count, noReplica, waitPoint string }

// MariaDB has no wait count (count is empty): one replica is the quorum.
func (c Config) varNames() varNames {
	switch c.Flavor {
	case semisync.FlavorMySQL:
		p := "rpl_semi_sync_source_"
		return varNames{p + "enabled", p + "timeout", p + "wait_for_replica_count", p + "wait_no_replica", p + "wait_point"}
	case semisync.FlavorMySQLLegacy:
		p := "rpl_semi_sync_master_"
		return varNames{p + "enabled", p + "timeout", p + "wait_for_slave_count", p + "wait_no_slave", p + "wait_point"}
	}
	p := "rpl_semi_sync_master_"
	return varNames{p + "enabled", p + "timeout", "", p + "wait_no_slave", p + "wait_point"}
}

// binlogName is the name of the source's n-th binlog file.
func binlogName(n int) string { return fmt.Sprintf("binlog.%06d", n) }

// Run runs schedule on a new cluster of cfg, seeded with seed, and
// returns its history. The same cfg, seed and schedule give the same
// history, byte for byte (History.String). Run itself fails only for a
// configuration it cannot build or a step it cannot apply (a bad SET
// GLOBAL, a replica out of range); what the checkers judge is in the
// history.
func Run(cfg Config, seed uint64, schedule Schedule) (*History, error) {
	cfg = cfg.withDefaults()
	c, err := newCluster(cfg, seed)
	if err != nil {
		return nil, err
	}
	defer c.closeCursors()
	for i, st := range schedule {
		err := c.step(st)
		if err == nil {
			err = c.err
		}
		if err != nil {
			c.src.Close()
			return nil, fmt.Errorf("semisynctest: step %d (%s): %w", i+1, st, err)
		}
	}
	c.heal()
	if c.err != nil {
		c.src.Close()
		return nil, fmt.Errorf("semisynctest: after the schedule: %w", c.err)
	}
	c.src.Close() // releases what still waits: its outcomes are in the history
	c.h.Counters = c.src.Snapshot()
	return c.h, nil
}

// item is one scheduled event of the simulation.
type item struct {
	at  time.Duration
	seq uint64
	fn  func()
}

// queue is a min-heap of items by (at, seq).
type queue []item

func (q queue) less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}

func (q *queue) push(it item) {
	*q = append(*q, it)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *queue) pop() item {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = item{}
	h = h[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r := l + 1; r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// epoch is the simulated clock's origin.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type cluster struct {
	cfg  Config
	rng  *rand.Rand
	now  time.Duration
	q    queue
	seq  uint64
	src  *source.Source
	host Host
	reps []*node
	h    *History
	// first is where the first binlog began: a replica with an empty
	// relay log starts there. files is the number of binlog files begun.
	first semisync.Position
	files int
	// gen is the source's generation: one more at each crash or failover.
	gen int
	// pending are the current source's commits not yet visible to
	// readers, in order.
	pending []*CommitRecord
	// stage are the current source's commits not yet through the
	// engine's Commit, in binlog order.
	stage      []*staged
	acks       AckContainer    // Config.Acks's, for this source
	agg        *source.Session // the replica standing for acks
	txs        [1]Tx
	wire       []byte // the bytes of events in flight (never overwritten)
	ends       [1]semisync.Position
	failedOver bool
	err        error // the first thing the run could not do
}

// fail records the first error that stops the run (Run returns it).
func (c *cluster) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// Now is the source's clock (source.Clock).
func (c *cluster) Now() time.Time { return epoch.Add(c.now) }

func (c *cluster) at(d time.Duration, fn func()) {
	c.seq++
	c.q.push(item{at: c.now + d, seq: c.seq, fn: fn})
}

// check refuses a network the simulation cannot run.
func (n Net) check() error {
	if n.Delay < 0 || n.Jitter < 0 || n.Reconnect < 0 {
		return fmt.Errorf("semisynctest: negative network times %+v", n)
	}
	return nil
}

func newCluster(cfg Config, seed uint64) (*cluster, error) {
	if err := cfg.Net.check(); err != nil {
		return nil, err
	}
	c := &cluster{cfg: cfg, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), h: &History{Replicas: cfg.Replicas, trace: cfg.Trace}}
	vc := vars.Defaults(cfg.Flavor)
	vc.SourceEnabled, vc.ReplicaEnabled, vc.TimeoutMillis = true, true, 1000
	reg, err := vars.NewRegistry(cfg.Flavor, vars.WithConfig(vc))
	if err != nil {
		return nil, err
	}
	if cfg.Vars != "" {
		if err := reg.Exec("SET GLOBAL " + cfg.Vars); err != nil {
			return nil, err
		}
	}
	if cfg.Acks != nil && cfg.Policy != nil {
		return nil, errors.New("semisynctest: Config.Acks and Config.Policy together")
	}
	c.files = 1
	if err := c.startSource(reg, newBinlog(nil, 1)); err != nil {
		return nil, err
	}
	c.first = c.host.End()
	if err := c.addReplicas(vc); err != nil {
		c.closeCursors()
		c.src.Close()
		return nil, err
	}
	return c, nil
}

// addReplicas starts the replicas and lets them connect.
func (c *cluster) addReplicas(vc vars.Config) error {
	cfg := c.cfg
	for i := range cfg.Replicas {
		n := &node{c: c, id: semisync.ReplicaID(i + 1), idx: i, up: true, net: cfg.Net}
		if cfg.Links != nil {
			n.net = cfg.Links(i)
			if n.net.Reconnect <= 0 {
				n.net.Reconnect = cfg.Net.Reconnect
			}
			if err := n.net.check(); err != nil {
				return err
			}
		}
		n.disk = &DiskFile{n: n}
		rr, err := vars.NewRegistry(cfg.Flavor, vars.WithConfig(vc))
		if err != nil {
			return err
		}
		durability := replica.Synced
		if cfg.FlushedAcks {
			durability = replica.Flushed
		}
		if n.rep, err = replica.New(replica.Options{Vars: rr, Durability: durability}); err != nil {
			return err
		}
		c.reps = append(c.reps, n)
		n.connect()
	}
	c.run(0)
	return c.err
}

// startSource starts a source over a host made from b (Config.Host, or
// the simulation's own), with its binlog ending at the host's End.
func (c *cluster) startSource(reg *vars.Registry, b *Binlog) error {
	if c.cfg.Host != nil {
		c.host = c.cfg.Host(b)
	} else {
		c.host = &simHost{Binlog: b, c: c}
	}
	return c.restartSource(reg)
}

// restartSource starts a new source (the old one, if any, is closed)
// over c.host.
func (c *cluster) restartSource(reg *vars.Registry) error {
	opts := source.Options{Vars: reg, Clock: c, Policy: c.cfg.Policy}
	if c.cfg.Acks != nil {
		p := ackset.AnyOf(1, c.aggID())
		opts.Policy = &p
	}
	src, err := source.New(opts)
	if err != nil {
		return err
	}
	c.src = src
	end := c.host.End()
	if err := src.Appended(end); err != nil {
		return err
	}
	for _, st := range c.stage {
		if rec := st.rec; rec.WaitPoint == vars.AfterCommit && rec.Err == "" {
			// Its client saw the connection end before it began to wait.
			rec.Err = "the source crashed before the wait"
		}
	}
	c.pending, c.stage = c.pending[:0], nil
	if c.cfg.Acks != nil {
		c.acks = c.cfg.Acks()
		if c.agg, err = src.Register(c.aggID(), end); err != nil {
			return err
		}
	}
	return nil
}

// ackContainer gives Config.Acks's container replica r's ACK of pos and
// acknowledges what it reports.
func (c *cluster) ackContainer(id semisync.ReplicaID, pos semisync.Position) {
	if q, ok := c.acks.Ack(id, pos, c.count()); ok {
		c.h.add(c.now, "the ack container reports %s", q)
		c.agg.Ack(q)
	}
}

// staged is a commit in the commit stage: ready once through its wait
// point (AFTER_SYNC) or at once (AFTER_COMMIT).
type staged struct {
	rec   *CommitRecord
	ready bool
}

// aggID is the ID of the replica standing for Config.Acks.
func (c *cluster) aggID() semisync.ReplicaID { return semisync.ReplicaID(c.cfg.Replicas + 1) }

// probe asks the host's readers about each of the current source's
// commits they did not see yet, and marks those they now see.
func (c *cluster) probe() {
	keep := c.pending[:0]
	for _, rec := range c.pending {
		if c.host.Visible(Tx{N: rec.N}) {
			rec.Visible = c.now
		} else {
			keep = append(keep, rec)
		}
	}
	clear(c.pending[len(keep):])
	c.pending = keep
}

// run processes events up to now+d in time order, firing the source's
// timer (Tick) when its deadline comes, before events of the same instant.
func (c *cluster) run(d time.Duration) {
	end := c.now + d
	for {
		next, what := end, 0 // 0: nothing before end; 1: an event; 2: the timer
		if len(c.q) > 0 && c.q[0].at <= next {
			next, what = c.q[0].at, 1
		}
		if dl, ok := c.src.NextDeadline(); ok {
			if t := max(dl.Sub(epoch), c.now); t <= next {
				next, what = t, 2
			}
		}
		switch what {
		case 0:
			c.now = end
			return
		case 2:
			c.now = next
			c.src.Tick()
		default:
			it := c.q.pop()
			c.now = it.at
			it.fn()
		}
		c.probe()
	}
}

func (c *cluster) step(st Step) error {
	if st.Op >= Crash && st.Op <= Heal && (st.Replica < 0 || st.Replica >= len(c.reps)) {
		return fmt.Errorf("replica %d of %d", st.Replica, len(c.reps))
	}
	switch st.Op {
	case Commit:
		c.commit()
	case Advance:
		c.run(st.D)
	case Crash:
		c.reps[st.Replica].crash()
	case Restart:
		c.reps[st.Replica].restart()
	case Partition:
		c.reps[st.Replica].partition(true)
	case Heal:
		c.reps[st.Replica].partition(false)
	case CrashSource:
		return c.crashSource()
	case Failover:
		return c.failover()
	case Set:
		if err := c.src.Vars().Exec("SET GLOBAL " + st.Stmt); err != nil {
			return err
		}
		c.h.add(c.now, "set %s", st.Stmt)
	default:
		return fmt.Errorf("unknown step")
	}
	c.run(0)
	return nil
}

// commit commits the next transaction through the host's steps, as
// waitpoint.Pipeline does: Flush, Flushed, Sync (the binlog senders may
// read it now), and the engine's Commit after the wait (AFTER_SYNC) or
// before it (AFTER_COMMIT). Engine commits are in binlog order, as the
// pipeline's commit stage makes them; the waits of successive commits
// overlap (each commit is its own group, and its own client).
func (c *cluster) commit() {
	gen := c.gen
	rec := &CommitRecord{N: len(c.h.Commits) + 1, Began: c.now, Visible: -1, Gen: gen, WaitPoint: c.src.WaitPoint()}
	c.h.Commits = append(c.h.Commits, rec)
	c.txs[0] = Tx{N: rec.N}
	if err := c.host.Flush(context.Background(), c.txs[:], c.ends[:]); err != nil {
		c.fail(fmt.Errorf("the host's Flush: %w", err))
		return
	}
	end := c.ends[0]
	rec.Pos = end
	if err := c.src.Flushed(end); err != nil {
		// waitpoint.Pipeline stops here too (StageFlushed): the host's
		// binlog gave an end the source cannot take.
		c.fail(fmt.Errorf("the host's Flush returned end %s: %w", end, err))
		return
	}
	c.pending = append(c.pending, rec)
	c.probe()
	if err := c.host.Sync(context.Background(), end); err != nil {
		c.fail(fmt.Errorf("the host's Sync: %w", err))
		return
	}
	for _, n := range c.reps {
		n.send()
	}
	st := &staged{rec: rec}
	c.stage = append(c.stage, st)
	if rec.WaitPoint == vars.AfterCommit {
		st.ready = true
		c.drain()
		return
	}
	c.wait(st)
}

// wait begins st's wait; when it returns, an AFTER_SYNC commit may go
// through the engine.
func (c *cluster) wait(st *staged) {
	rec, gen := st.rec, c.gen
	if err := c.src.WaitFunc(rec.Pos, func(r source.Result) {
		if c.gen != gen {
			// The source crashed: its client saw the connection end.
			rec.Err = "the source crashed during the wait"
			return
		}
		rec.Outcomes++
		rec.Outcome, rec.Ended = r.Outcome, c.now
		rec.Policy = c.src.State().Policy
		if c.cfg.Acks != nil {
			rec.Policy = ackset.Count(c.count())
		}
		rec.Quorum = rec.Policy.N()
		c.h.add(c.now, "commit %d %s", rec.N, r.Outcome)
		if rec.WaitPoint != vars.AfterCommit {
			st.ready = true
			c.drain()
		}
	}); err != nil {
		rec.Err = err.Error()
	}
}

// drain runs the engine's Commit for the commits at the head of the
// commit stage that are ready, in order; an AFTER_COMMIT commit then
// begins its wait.
func (c *cluster) drain() {
	for len(c.stage) > 0 && c.stage[0].ready {
		st := c.stage[0]
		rec := st.rec
		c.stage = c.stage[1:]
		c.txs[0] = Tx{N: rec.N}
		if err := c.host.Commit(context.Background(), c.txs[:]); err != nil {
			c.fail(fmt.Errorf("the host's Commit: %w", err))
		}
		c.probe()
		if rec.WaitPoint == vars.AfterCommit {
			c.wait(st)
		}
	}
}

// count is the source's wait count (1 for MariaDB, which has none).
func (c *cluster) count() int {
	if c.cfg.varNames().count == "" {
		return 1
	}
	return int(max(1, c.src.Vars().Config().WaitForReplicaCount))
}

// heal ends every fault (partitions, crashes, lossy links, failing
// disks), runs the cluster for cfg.Heal, commits once (so
// that a source that went OFF can catch up and come back ON), runs for
// cfg.Heal again, and makes the liveness probe: one more commit, which
// must be acknowledged.
func (c *cluster) heal() {
	names := c.cfg.varNames()
	c.src.Vars().Exec(fmt.Sprintf("SET GLOBAL %s = ON", names.enabled))
	c.cfg.Disk.SyncFail = 0
	for _, n := range c.reps {
		n.net.Loss, n.net.Dup, n.net.Reorder = 0, 0, 0
	}
	left := 0
	for _, n := range c.reps {
		n.partition(false)
		if !n.up && !n.promoted {
			n.restart()
		}
		if !n.promoted {
			left++
		}
	}
	if names.count != "" && int(c.src.Vars().Config().WaitForReplicaCount) > left {
		// A wait count the replicas left after failovers cannot meet: the
		// operator lowers it.
		c.src.Vars().Exec(fmt.Sprintf("SET GLOBAL %s = %d", names.count, left))
	}
	c.h.add(c.now, "healed")
	c.run(c.cfg.Heal)
	// A source that went OFF comes back ON when a replica acknowledges
	// the next commit (which itself may be asynchronous): the commit after
	// that is the probe.
	c.commit()
	c.run(c.cfg.Heal)
	c.h.Healed, c.h.HealFor = len(c.h.Commits), c.cfg.Heal
	c.commit()
	c.run(c.cfg.Heal)
	c.h.On, c.h.Gen = c.src.State().On, c.gen
	for _, n := range c.reps {
		c.h.Logs = append(c.h.Logs, n.disk.held())
	}
	c.h.Binlog = c.binlog()
}

// binlog reads the host's binlog from its first position, through a
// cursor as its senders do.
func (c *cluster) binlog() []Event {
	cur, err := c.host.Open(c.first)
	if err != nil {
		c.fail(fmt.Errorf("the host's binlog: %w", err))
		return nil
	}
	defer cur.Close()
	var out []Event
	for {
		ev, ok, err := cur.Next()
		if err != nil {
			c.fail(fmt.Errorf("the host's binlog: %w", err))
		}
		if !ok || err != nil {
			return out
		}
		ev.Data = append([]byte(nil), ev.Data...) // valid until the next call only
		out = append(out, ev)
	}
}

// closeCursors closes the binlog cursors of the connections still open.
func (c *cluster) closeCursors() {
	for _, n := range c.reps {
		if k := n.conn; k != nil && !k.dead {
			k.cur.Close()
		}
	}
}

// endConnections ends every replica's connection with the source, which
// is gone; each reconnects after its Reconnect.
func (c *cluster) endConnections() {
	for _, n := range c.reps {
		if k := n.conn; k != nil {
			k.dead, k.sessClosed = true, true
			k.cur.Close()
			n.conn = nil
			if n.up {
				k.st.Close()
			}
			c.at(n.net.Reconnect, n.connect)
		}
	}
}

// failover: the source's host is lost for good, and the replica whose
// relay log holds the most (up or not: its disk is there) becomes the
// source, once per run. Its relay log is the new source's binlog, which goes on in a
// new file; the other replicas reconnect to it. At least one replica must
// remain, else nothing happens.
func (c *cluster) failover() error {
	best, left := -1, 0
	for i, n := range c.reps {
		if n.promoted {
			continue
		}
		left++
		if best < 0 || n.disk.heldCount() > c.reps[best].disk.heldCount() {
			best = i
		}
	}
	if left < 2 || c.failedOver {
		// Semisync's promise covers the loss of one source: a second
		// failover before the replicas have caught up with the first
		// may lose what only the promoted replica held.
		c.h.add(c.now, "failover: not done (one per run, and a replica must remain)")
		return nil
	}
	c.failedOver = true
	p := c.reps[best]
	c.gen++
	c.endConnections()
	c.src.Close() // what still waits is released into the old generation
	p.promoted, p.up = true, false
	held := p.disk.held()
	c.files++
	c.h.add(c.now, "failover: replica %d promoted with %d events", best, len(held))
	if err := c.startSource(c.src.Vars(), newBinlog(held, c.files)); err != nil {
		return err
	}
	if n := c.cfg.varNames(); n.count != "" && int(c.src.Vars().Config().WaitForReplicaCount) > left-1 {
		// MySQL's wait count cannot be met by fewer replicas: the
		// operator lowers it with the failover.
		if err := c.src.Vars().Exec(fmt.Sprintf("SET GLOBAL %s = %d", n.count, left-1)); err != nil {
			return err
		}
	}
	return nil
}

// crashSource crashes the source's host and starts it again, as MySQL
// does: its binlog keeps what it had fsynced, and it writes a new file.
// The commits waiting lose their client; every replica's connection ends
// and it reconnects.
func (c *cluster) crashSource() error {
	c.gen++
	c.endConnections()
	c.src.Close() // what still waits is released into the old generation
	before := c.host.End()
	if err := c.host.Crash(); err != nil {
		return fmt.Errorf("the host's Crash: %w", err)
	}
	c.files++
	c.h.add(c.now, "source crashed with its binlog at %s: goes on at %s", before, c.host.End())
	return c.restartSource(c.src.Vars())
}

// node is one replica.
type node struct {
	c    *cluster
	id   semisync.ReplicaID
	idx  int
	rep  *replica.Replica
	disk *DiskFile
	net  Net
	up   bool // the process runs
	// promoted: a failover made it the source; it is no replica now.
	promoted bool
	cut      bool // partitioned from the source
	conn     *conn
}

// conn is one connection of a replica to the source.
type conn struct {
	n          *node
	sess       *source.Session
	st         *replica.Stream
	cur        dump.Cursor   // the source's side: reads the host's binlog
	seqOut     uint64        // the source's side: events sent
	seqIn      uint64        // the replica's side: events received
	evLast     time.Duration // when the last event sent arrives
	ackLast    time.Duration // when the last ACK sent arrives
	dead       bool          // the replica's side ended
	sessClosed bool          // the source's side ended
}

// connect opens a connection from the replica's relay log end, if it can.
func (n *node) connect() {
	c := n.c
	if !n.up || n.cut || n.conn != nil || n.promoted {
		return
	}
	start := n.disk.end()
	if start.IsZero() {
		start = c.first
	}
	// The binlog is opened first: a start it does not hold never reaches
	// the source, which would take it as an acknowledgement.
	cur, err := c.host.Open(start)
	if err != nil {
		c.h.add(c.now, "replica %d refused by the host's binlog at %s: %v", n.idx, start, err)
		c.at(n.net.Reconnect, n.connect)
		return
	}
	sess, err := c.src.Register(n.id, start)
	if err != nil {
		cur.Close()
		c.h.add(c.now, "replica %d refused at %s: %v", n.idx, start, err)
		c.at(n.net.Reconnect, n.connect)
		return
	}
	relay := replica.RelayLog(n.disk)
	if c.cfg.Relay != nil {
		relay = c.cfg.Relay(n.disk)
	}
	if c.acks != nil {
		// MySQL takes a replica's start as its ACK (handleAck at the dump's
		// start), into the container too.
		c.ackContainer(n.id, start)
	}
	k := &conn{n: n, sess: sess, cur: cur}
	if k.st, err = n.rep.Open(start, relay, (*ackLink)(k)); err != nil {
		sess.Close()
		cur.Close()
		c.fail(fmt.Errorf("replica %d cannot open its stream: %w", n.idx, err))
		return
	}
	k.st.SetNegotiated(true)
	n.conn = k
	c.h.add(c.now, "replica %d connected at %s", n.idx, start)
	n.send()
}

// send sends the connection every event its cursor has.
func (n *node) send() {
	k := n.conn
	if k == nil || k.dead {
		return
	}
	c := n.c
	for {
		ev, ok, err := k.cur.Next()
		if err != nil {
			c.h.add(c.now, "replica %d: the host's binlog: %v", n.idx, err)
			k.close()
			return
		}
		if !ok {
			return
		}
		flag := !ev.Artificial && k.sess.ReplyRequired(ev.End)
		k.seqOut++
		seq, end := k.seqOut, ev.End
		at := len(c.wire)
		c.wire = append(c.wire, ev.Data...) // Next's bytes are valid until its next call only
		data := c.wire[at:len(c.wire):len(c.wire)]
		c.deliver(n, &k.evLast, func() { k.receive(seq, data, end, flag) }, k, seq)
	}
}

// deliver sends one message over one of replica n's links (last is when
// the link's previous message arrives): delayed, in order, and perhaps
// lost, repeated or held back so that later ones overtake it. A lost event
// (of connection k, numbered seq) breaks its connection when it would
// have arrived: TCP does not lose a segment for good.
func (c *cluster) deliver(n *node, last *time.Duration, fn func(), k *conn, seq uint64) {
	if n.cut {
		return
	}
	net := n.net
	if c.rng.Float64() < net.Loss {
		if k != nil {
			c.at(net.Delay, func() {
				c.h.add(c.now, "replica %d: event %d lost: connection reset", n.idx, seq)
				k.close()
			})
		}
		return
	}
	copies := 1
	if c.rng.Float64() < net.Dup {
		copies = 2
	}
	for range copies {
		d := net.Delay
		if net.Jitter > 0 {
			d += time.Duration(c.rng.Int64N(int64(net.Jitter) + 1))
		}
		at := max(c.now+d, *last) // a link delivers in order...
		*last = at
		if net.Jitter > 0 && c.rng.Float64() < net.Reorder {
			at += time.Duration(c.rng.Int64N(10*int64(net.Jitter)) + 1) // ...unless this one is held back
		}
		c.at(at-c.now, fn)
	}
}

// receive is an event arriving at the replica.
func (k *conn) receive(seq uint64, data []byte, end semisync.Position, flag bool) {
	n := k.n
	if k.dead || n.conn != k || !n.up {
		return
	}
	if seq != k.seqIn+1 {
		k.n.c.h.add(k.n.c.now, "replica %d: event %d after %d: connection reset", n.idx, seq, k.seqIn)
		k.close()
		return
	}
	k.seqIn = seq
	if err := k.st.Queue(data, end, flag); err != nil {
		k.n.c.h.add(k.n.c.now, "replica %d: %v", n.idx, err)
		k.close()
		return
	}
	if err := k.st.Flush(); err != nil {
		k.n.c.h.add(k.n.c.now, "replica %d: %v", n.idx, err)
		k.close()
	}
}

// close ends the connection on both sides (the source notices after a
// network delay) and schedules the replica's reconnection.
func (k *conn) close() {
	if k.dead {
		return
	}
	k.dead = true
	k.cur.Close()
	n, c := k.n, k.n.c
	if n.conn == k {
		n.conn = nil
	}
	if n.up {
		k.st.Close()
	}
	c.at(n.net.Delay, func() { k.sessClosed = true; k.sess.Close() })
	c.at(n.net.Reconnect, n.connect)
}

// ackLink is a connection's ACK path to the source (replica.AckSender).
type ackLink conn

func (a *ackLink) SendAck(pos semisync.Position, _ []byte) error {
	k := (*conn)(a)
	c := k.n.c
	c.h.add(c.now, "replica %d acks %s", k.n.idx, pos)
	c.h.Acks = append(c.h.Acks, AckRecord{Replica: k.n.idx, Pos: pos, Sent: c.now})
	c.deliver(k.n, &k.ackLast, func() {
		// Bytes on the wire arrive until the source has seen the
		// connection end, even after the replica crashed.
		if !k.sessClosed {
			r := k.sess.Ack(pos)
			c.h.add(c.now, "source got ack %s from replica %d: %v", pos, k.n.idx, r)
			if c.acks != nil {
				c.ackContainer(k.n.id, pos)
			}
		}
	}, nil, 0)
	return nil
}

func (n *node) crash() {
	if !n.up || n.promoted {
		return
	}
	c := n.c
	if k := n.conn; k != nil {
		k.close() // the process's stream ends with it
	}
	n.up = false
	lost := n.disk.crash(c.rng, c.cfg.Disk)
	c.h.add(c.now, "replica %d crashed, relay log at %s (%d unsynced events lost)", n.idx, n.disk.end(), lost)
	c.h.hold(c.now, n.idx, n.disk.end())
}

func (n *node) restart() {
	if n.up || n.promoted {
		return
	}
	n.up = true
	n.disk.failed = false
	// A new process: a replica with its own counters and status.
	rep, err := replica.New(replica.Options{Vars: n.rep.Vars(), Durability: n.rep.Durability()})
	if err != nil {
		n.c.fail(err)
		return
	}
	n.rep = rep
	n.c.h.add(n.c.now, "replica %d restarted", n.idx)
	n.connect()
}

func (n *node) partition(cut bool) {
	if n.cut == cut || n.promoted {
		return
	}
	n.cut = cut
	c := n.c
	if cut {
		c.h.add(c.now, "replica %d partitioned", n.idx)
		if k := n.conn; k != nil {
			k.close()
		}
		return
	}
	c.h.add(c.now, "replica %d healed", n.idx)
	n.connect()
}

// DiskFile is a replica's relay log on its simulated disk: events written,
// flushed to the operating system, synced to stable storage. It is a
// replica.RelayLog, replica.Syncer and replica.Discarder; Config.Relay may
// put a host's relay log over it instead.
type DiskFile struct {
	n       *node
	recs    []Event
	sums    []uint32 // each record's checksum, as written
	arena   []byte
	flushed int // recs[:flushed] are in the operating system
	synced  int // recs[:synced] are on stable storage
	checked int // recs[:checked] passed their checksums since the last crash
	failed  bool
}

// ErrSyncFailed is the error of a simulated failed fsync.
var ErrSyncFailed = errors.New("semisynctest: fsync failed")

// Write appends one event.
func (d *DiskFile) Write(ev []byte, end semisync.Position) error {
	if d.failed {
		return ErrSyncFailed
	}
	at := len(d.arena)
	d.arena = append(d.arena, ev...)
	d.recs = append(d.recs, Event{Data: d.arena[at:len(d.arena):len(d.arena)], End: end})
	d.sums = append(d.sums, crc32.ChecksumIEEE(ev))
	return nil
}

// Flush hands what was written to the operating system: a restarted
// replica process finds it (a power failure may not).
func (d *DiskFile) Flush() error {
	if d.failed {
		return ErrSyncFailed
	}
	if d.flushed != len(d.recs) {
		d.flushed = len(d.recs)
		d.n.c.h.hold(d.n.c.now, d.n.idx, d.recs[d.flushed-1].End)
	}
	return nil
}

// Sync makes what was flushed durable, or fails (Disk.SyncFail): the
// file then takes nothing more until the replica restarts or reconnects.
func (d *DiskFile) Sync() error {
	c := d.n.c
	if d.failed {
		return ErrSyncFailed
	}
	if c.cfg.Disk.SyncFail > 0 && c.rng.Float64() < c.cfg.Disk.SyncFail {
		d.failed = true
		d.truncate(d.synced)
		d.flushed = d.synced
		c.h.add(c.now, "replica %d: fsync failed", d.n.idx)
		c.h.hold(c.now, d.n.idx, d.end()) // the pages it could not write may be gone
		return ErrSyncFailed
	}
	d.synced = d.flushed
	return nil
}

// Discard drops what was written since the last Flush.
func (d *DiskFile) Discard() { d.truncate(d.flushed) }

// truncate keeps the first n events.
func (d *DiskFile) truncate(n int) {
	if n < len(d.recs) {
		d.arena = d.arena[:len(d.arena)-len(d.recs[n].Data)]
		for _, e := range d.recs[n+1:] {
			d.arena = d.arena[:len(d.arena)-len(e.Data)]
		}
		d.recs, d.sums = d.recs[:n], d.sums[:n]
		d.checked = min(d.checked, n)
	}
}

// recover is the relay log's reopening: it checks the records it has not
// checked since the last crash and cuts the log before the first whose
// bytes do not match their checksum (junk a crash left, Disk.Garbage).
func (d *DiskFile) recover() {
	for i := d.checked; i < d.flushed; i++ {
		if crc32.ChecksumIEEE(d.recs[i].Data) != d.sums[i] {
			c := d.n.c
			c.h.add(c.now, "replica %d: relay log cut at %s, %d damaged events", d.n.idx, d.recs[i].End, len(d.recs)-i)
			d.truncate(i)
			d.flushed, d.synced = i, min(d.synced, i)
			break
		}
	}
	d.checked = d.flushed
}

// end is where the relay log ends as the replica reopens it.
func (d *DiskFile) end() semisync.Position {
	d.truncate(d.flushed)
	d.recover()
	d.failed = false
	if len(d.recs) == 0 {
		return semisync.Position{}
	}
	return d.recs[len(d.recs)-1].End
}

// held returns the events a restarted replica finds; they are the
// caller's.
func (d *DiskFile) held() []Event {
	d.recover()
	return copyEvents(d.recs[:d.flushed])
}

// heldCount is the number of events a restarted replica finds.
func (d *DiskFile) heldCount() int {
	d.recover()
	return d.flushed
}

// crash loses what was not synced, or keeps a prefix of it
// (Disk.Torn), or leaves the rest as junk (Disk.Garbage), and returns how
// many events were lost or damaged.
func (d *DiskFile) crash(rng *rand.Rand, disk Disk) int {
	keep := d.synced
	if disk.Torn && d.flushed > d.synced {
		keep += rng.IntN(d.flushed - d.synced + 1)
	}
	lost := len(d.recs) - keep
	if disk.Garbage && d.flushed > keep {
		for _, e := range d.recs[keep:d.flushed] {
			for i := range e.Data {
				e.Data[i] ^= byte(rng.IntN(255) + 1) // every byte changes
			}
		}
		d.truncate(d.flushed)
	} else {
		d.truncate(keep)
		d.flushed = keep
	}
	d.synced = keep
	d.checked = min(d.checked, keep)
	return lost
}
