package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/semisynctest"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/vars"
	"github.com/semisync-go/semisync/waitpoint"
)

// cluster is a source and its replicas in one process.
type cluster struct {
	dir   string
	src   *source.Source
	bl    *binlog.File
	blRec relaylog.Recovery // what opening the binlog found and cut
	pipe  *waitpoint.Pipeline[[]byte]
	srv   *transport.Server
	ln    net.Listener
	serve chan error
	nodes []*node

	// wrapRelay, when set, wraps each replica's relay log file before it
	// goes to Replicate (tests: a slower disk).
	wrapRelay func(*relaylog.File) replica.RelayLog

	run string // names this run's commits: "<run>-<seq>"
	seq atomic.Int64

	mu    sync.Mutex
	acked map[string]bool // payloads of the commits acknowledged so far
	all   tally           // every commit of every scene
}

// node is one replica: its own variables, relay log file and connection.
type node struct {
	id        semisync.ReplicaID
	path      string // relay log file
	relay     *relaylog.File
	cancel    context.CancelFunc
	done      chan error
	resumedAt semisync.Position
	recovered relaylog.Recovery // what opening its relay log found and cut, the last time
	synced    semisync.Position // what its relay log had fsynced when it stopped
}

// engine is the source's storage engine for the pipeline: the binlog
// writes, the fsync and publication, and a commit count.
type engine struct {
	bl        *binlog.File
	committed atomic.Int64
}

func (e *engine) Flush(_ context.Context, txs [][]byte, ends []semisync.Position) (err error) {
	for i, tx := range txs {
		if ends[i], err = e.bl.Append(tx); err != nil {
			e.bl.Discard() // a failed Flush leaves nothing of the group behind
			return err
		}
	}
	return nil
}

func (e *engine) Sync(context.Context, semisync.Position) error {
	return e.bl.Sync() // durable, and readable by replicas
}

func (e *engine) Commit(_ context.Context, txs [][]byte) error {
	e.committed.Add(int64(len(txs)))
	return nil
}

// start opens the binlog, starts the source and its server on loopback
// TCP, and the replicas.
func start(dir string, reg *vars.Registry, replicas int) (*cluster, error) {
	return startWith(dir, reg, replicas, nil)
}

// startWith is start with the replicas' relay log files wrapped by
// wrapRelay, unless it is nil.
func startWith(dir string, reg *vars.Registry, replicas int, wrapRelay func(*relaylog.File) replica.RelayLog) (*cluster, error) {
	c := &cluster{dir: dir, acked: map[string]bool{}, run: fmt.Sprintf("run%x", time.Now().UnixNano()), wrapRelay: wrapRelay}
	started := false
	defer func() {
		if !started {
			c.close()
		}
	}()
	var err error
	if err := os.MkdirAll(filepath.Join(dir, "source"), 0o755); err != nil {
		return nil, err
	}
	if c.bl, c.blRec, err = binlog.OpenFile(filepath.Join(dir, "source"), "binlog"); err != nil {
		return nil, err
	}
	if c.src, err = source.New(source.Options{Vars: reg}); err != nil {
		return nil, err
	}
	if err = c.src.Appended(c.bl.Head()); err != nil { // where the binlog read back ends
		return nil, err
	}
	if c.pipe, err = waitpoint.New(c.src, waitpoint.Steps[[]byte](&engine{bl: c.bl}), waitpoint.Options{}); err != nil {
		return nil, err
	}
	if c.srv, err = transport.NewServer(c.src, c.bl, transport.ServerOptions{HeartbeatPeriod: 200 * time.Millisecond}); err != nil {
		return nil, err
	}
	if c.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	c.serve = make(chan error, 1)
	go func() { c.serve <- c.srv.Serve(c.ln) }()
	for i := range replicas {
		n := &node{id: semisync.ReplicaID(i + 1), path: filepath.Join(dir, fmt.Sprintf("replica%d", i+1), "relay.log")}
		if err := os.MkdirAll(filepath.Dir(n.path), 0o755); err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, n)
		if err := c.startReplica(i); err != nil {
			return nil, err
		}
	}
	started = true
	return c, nil
}

func (c *cluster) addr() string { return c.ln.Addr().String() }

// startReplica starts replica i as a new process would: it opens its relay
// log file (which checks every record and cuts a tail past the last fsync
// it proves, kept in n.recovered) and replicates from its last fsynced
// record: after a cut, the shorter position.
func (c *cluster) startReplica(i int) (err error) {
	n := c.nodes[i]
	cfg := vars.Defaults(c.src.Flavor()) // the source's names
	cfg.ReplicaEnabled = true
	reg, err := vars.NewRegistry(c.src.Flavor(), vars.WithConfig(cfg))
	if err != nil {
		return err
	}
	rep, err := replica.New(replica.Options{Vars: reg, Durability: replica.Synced})
	if err != nil {
		return err
	}
	if n.relay, n.recovered, err = relaylog.Open(n.path); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			n.relay.Close()
		}
	}()
	if n.resumedAt, err = n.relay.Rewind(); err != nil {
		return err
	}
	conn, err := net.Dial("tcp", c.addr())
	if err != nil {
		return err
	}
	var relay replica.RelayLog = n.relay
	if c.wrapRelay != nil {
		relay = c.wrapRelay(n.relay)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() {
		// A replica declares the source dead after 5 s of silence (the
		// default, three 200 ms heartbeats, cut a healthy demo short on a
		// busy machine); the demo stops its replicas with COM_QUIT, so no
		// scene waits for this.
		_, err := transport.Replicate(ctx, conn, transport.ReplicaConfig{
			Replica: rep, ID: n.id, Start: n.resumedAt, RelayLog: relay, PeerTimeout: 5 * time.Second,
		})
		n.done <- err
	}()
	return nil
}

// printRecovery prints what opening the binlog (source true) or replica
// i's relay log cut, if anything.
func (c *cluster) printRecovery(w io.Writer, source bool, i int) {
	if source && c.blRec.Cut() {
		fmt.Fprintf(w, "source binlog recovered: %v\n", c.blRec)
	}
	if n := c.nodes[i]; !source && n.recovered.Cut() {
		fmt.Fprintf(w, "replica %d relay log recovered: %v\n", n.id, n.recovered)
	}
}

// stopReplica stops replica i (it leaves with COM_QUIT) and closes its
// relay log, as its process ending would.
func (c *cluster) stopReplica(i int) error {
	n := c.nodes[i]
	if n.cancel == nil {
		return nil
	}
	n.cancel()
	err := <-n.done
	n.cancel = nil
	n.synced = n.relay.Synced()
	if cerr := n.relay.Close(); cerr != nil {
		return cerr
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("replica %d: %w", n.id, err)
}

// stopAll stops every replica still running.
func (c *cluster) stopAll() error {
	var errs []error
	for i := range c.nodes {
		errs = append(errs, c.stopReplica(i))
	}
	return errors.Join(errs...)
}

// waitFor polls the source's state until cond holds, ctx ends or limit
// passes, and returns how long it waited and whether cond held.
func (c *cluster) waitFor(ctx context.Context, limit time.Duration, cond func(source.State) bool) (time.Duration, bool) {
	began := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond(c.src.State()) {
		if time.Since(began) > limit || ctx.Err() != nil {
			return time.Since(began), false
		}
		<-tick.C
	}
	return time.Since(began), true
}

// waitClients waits until the source counts exactly n replica sessions.
func (c *cluster) waitClients(n int) error {
	if _, ok := c.waitFor(context.Background(), 10*time.Second, func(st source.State) bool { return st.Clients == n }); !ok {
		return fmt.Errorf("%d replicas connected after 10s, want %d", c.src.State().Clients, n)
	}
	return nil
}

// workload runs committers concurrent sessions for d, each committing one
// small transaction after another, and returns what happened to them.
// A session starts no commit after d, or once ctx ends; the commits
// running then finish.
func (c *cluster) workload(ctx context.Context, d time.Duration, committers int, pb *progress) tally {
	var t tally
	var mu sync.Mutex
	var wg sync.WaitGroup
	began := time.Now()
	stop := began.Add(d)
	pb.start(began, func() tally {
		mu.Lock()
		defer mu.Unlock()
		return t.clone()
	})
	for range committers {
		wg.Go(func() {
			for time.Now().Before(stop) && ctx.Err() == nil {
				tx := fmt.Appendf(nil, "%s-%08d", c.run, c.seq.Add(1))
				res, err := c.pipe.Commit(context.Background(), tx)
				o := res.Wait.Outcome
				if err != nil {
					o = 0
				}
				mu.Lock()
				t.add(o)
				mu.Unlock()
				if o == source.Acknowledged {
					c.mu.Lock()
					c.acked[string(tx)] = true
					c.mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	pb.stop()
	t.took = time.Since(began)
	c.mu.Lock()
	c.all.merge(t)
	c.mu.Unlock()
	return t
}

// statusRows are the SHOW STATUS rows printed after each scene.
var statusRows = []string{"clients", "status", "yes_tx", "no_tx", "no_times", "timefunc_failures", "tx_avg_wait_time", "wait_sessions"}

func (c *cluster) showStatus(w io.Writer) error {
	prefix := statusPrefix(c.src.Flavor())
	fmt.Fprintf(w, "mysql> SHOW STATUS LIKE '%s%%';   -- the main rows; yes_tx counts waits, one per group under AFTER_SYNC\n", prefix)
	var rows []semisync.Row
	for _, r := range c.src.Show(prefix + "%") {
		for _, name := range statusRows {
			if r.Name == prefix+name {
				rows = append(rows, r)
			}
		}
	}
	return semisync.WriteTable(w, rows)
}

// failoverCheck reads every replica's relay log file back, up to what it
// had fsynced when it stopped, and counts this run's acknowledged commits
// that fewer than want of them hold (semisynctest.Held, the simulator's
// failover check). A relay log holding a commit twice is an error.
func (c *cluster) failoverCheck(want int) (acked, short int, err error) {
	logs := make([][]string, len(c.nodes))
	for i, n := range c.nodes {
		err := relaylog.Read(n.path, func(r relaylog.Record) error {
			if n.synced.Less(r.End) {
				return nil // flushed, never fsynced
			}
			logs[i] = append(logs[i], string(r.Event))
			return nil
		})
		if err != nil {
			return 0, 0, err
		}
	}
	c.mu.Lock()
	txs := make([]string, 0, len(c.acked))
	for tx := range c.acked {
		txs = append(txs, tx)
	}
	c.mu.Unlock()
	missing, err := semisynctest.Held(txs, logs, want)
	if err != nil {
		return 0, 0, err
	}
	return len(txs), len(missing), nil
}

// summary prints the commits of all scenes by outcome, the wait-latency
// histogram and the per-replica ledger.
func (c *cluster) summary(w io.Writer) {
	snap := c.src.Snapshot()
	c.mu.Lock()
	all := c.all
	c.mu.Unlock()
	fmt.Fprintf(w, "\n== Summary\n%s\n", all)
	fmt.Fprintf(w, "binlog: %d fsyncs for %d commits (group commit)\n", c.bl.Syncs(), all.total())
	h := snap.WaitLatency
	us := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	fmt.Fprintf(w, "wait latency: %d waits, p50 %v, p90 %v, p99 %v, max %v\n", h.Count, us(h.P50()), us(h.P90()), us(h.P99()), us(h.Max))
	fmt.Fprintf(w, "per-replica ledger (source head %v):\n", c.src.Counters().Replicas.Head())
	for _, r := range snap.Replicas {
		fmt.Fprintf(w, "    replica %d: acked %v, %d acks (%d stale), %d sessions, %d bytes behind\n",
			r.ID, r.Acked, r.Acks, r.StaleAcks, r.Sessions, r.Lag.Bytes)
	}
}

// close stops everything that runs and closes the files.
func (c *cluster) close() {
	c.stopAll()
	for _, n := range c.nodes {
		if n.relay != nil {
			n.relay.Close()
		}
	}
	if c.srv != nil {
		c.srv.Close()
		if c.serve != nil {
			<-c.serve
		}
	}
	if c.src != nil {
		c.src.Close()
	}
	if c.bl != nil {
		c.bl.Close()
	}
}
