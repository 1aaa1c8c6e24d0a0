// Command demo shows the pieces of semisync that exist today working
// together, with no network and no disk: system variables read from a
// my.cnf and changed with SET GLOBAL; a source whose commits wait for three
// in-process replicas, released by their acknowledgements (with the exact
// N-of-M quorum) and by a runtime change of the wait count; a timeout that
// switches the source to asynchronous mode and the replicas' catch-up that
// switches it back; and the SHOW STATUS counters, wait-latency histogram,
// per-replica ledger and events that result.
//
//	go run ./examples/demo [-flavor mysql|mysql-legacy|mariadb]
//
// Its output is deterministic except for the measured wait times, printed on
// one line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/vars"
)

func main() { os.Exit(run(os.Stdout, os.Stderr, os.Args[1:])) }

// myCnf is the option file the demo's source "starts" with. The %s verbs
// take the enabled and timeout variables' names in the chosen flavor.
const myCnf = `
[mysqld]
server-id = 1
log-bin   = binlog
%s = ON
%s = 2000     # milliseconds
loose-rpl_semi_sync_no_such_option = 1
`

func run(stdout, stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flavorName := fs.String("flavor", "mysql", "naming flavor: mysql, mysql-legacy or mariadb")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	flavor, err := semisync.ParseFlavor(*flavorName)
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 2
	}
	if err := demo(stdout, flavor); err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	return 0
}

// nameIn translates a MySQL 8.0.26+ variable name into flavor f's, through
// the variable's descriptor.
func nameIn(f semisync.Flavor, mysqlName string) string {
	reg, err := vars.NewRegistry(semisync.FlavorMySQL)
	if err != nil {
		panic(err) // FlavorMySQL is valid
	}
	v, err := reg.Lookup(mysqlName)
	if err != nil {
		panic(err) // the demo only names variables that exist
	}
	name, _ := v.Name(f)
	return name
}

func demo(w io.Writer, f semisync.Flavor) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	n := func(s string) string { return nameIn(f, s) }

	p("== 1. Variables (%s names): a my.cnf, then SET GLOBAL\n\n", f)
	reg, err := vars.NewRegistry(f)
	if err != nil {
		return err
	}
	cnf := fmt.Sprintf(myCnf, n("rpl_semi_sync_source_enabled"), n("rpl_semi_sync_source_timeout"))
	if err := reg.LoadOptionFile(strings.NewReader(cnf), "my.cnf"); err != nil {
		return err
	}
	set := "SET GLOBAL " + n("rpl_semi_sync_source_wait_point") + " = 'AFTER_SYNC'"
	if f != semisync.FlavorMariaDB { // MariaDB waits for one replica only
		set += ", " + n("rpl_semi_sync_source_wait_for_replica_count") + " = 3"
	}
	p("mysql> %s;\n", set)
	if err := reg.Exec(set); err != nil {
		return err
	}
	bad := "SET GLOBAL " + n("rpl_semi_sync_source_timeout") + " = 500, " + n("rpl_semi_sync_source_wait_point") + " = 'AFTER_LUNCH'"
	p("mysql> %s;\n", bad)
	err = reg.Exec(bad)
	var verr *vars.Error
	if !errors.As(err, &verr) {
		return fmt.Errorf("a bad SET was accepted: %v", err)
	}
	p("ERROR %d: %v\n(nothing changed: the timeout is still %v)\n\n", verr.Code, err, reg.Config().Timeout())
	pattern := strings.TrimSuffix(n("rpl_semi_sync_source_enabled"), "enabled") + "%"
	p("mysql> SHOW VARIABLES LIKE '%s';\n", pattern)
	if err := semisync.WriteTable(w, reg.Show(pattern)); err != nil {
		return err
	}

	p("\n== 2. A source and three replicas (in process, no network)\n\n")
	var evMu sync.Mutex
	var events []source.Event
	src, err := source.New(source.Options{Vars: reg, Observer: source.ObserverFunc(func(e source.Event) {
		evMu.Lock()
		events = append(events, e)
		evMu.Unlock()
	})})
	if err != nil {
		return err
	}
	defer src.Close()
	start := semisync.FilePos("binlog.000001", 4)
	// The binlog is new: it ends at its first position. A replica may not
	// start after the end the source knows (MySQL's error 1236).
	if err := src.Appended(start); err != nil {
		return err
	}
	replicas := map[semisync.ReplicaID]*source.Session{}
	for id := semisync.ReplicaID(1); id <= 3; id++ {
		if replicas[id], err = src.Register(id, start); err != nil {
			return err
		}
	}
	p("policy %v; replicas 1, 2 and 3 registered at %v\n", src.State().Policy, start)
	at := func(off uint64) semisync.Position { return semisync.FilePos("binlog.000001", off) }
	type result struct {
		pos  semisync.Position
		line string
	}
	results := make(chan result, 16)
	commit := func(off uint64) error {
		if err := src.Flushed(at(off)); err != nil {
			return err
		}
		go func() {
			res, err := src.Wait(context.Background(), at(off))
			if err != nil {
				results <- result{at(off), fmt.Sprintf("%v: %v", at(off), err)}
				return
			}
			results <- result{at(off), fmt.Sprintf("%v: %v", at(off), res)}
		}()
		return nil
	}
	// settle waits until the source has n commits waiting.
	settle := func(n int) {
		for src.State().Waiting != n {
			runtime.Gosched()
		}
	}
	// released prints the commits one source call released: the calls
	// unlink them before returning, so the count is exact.
	released := func(before int) {
		var rs []result
		for range before - src.State().Waiting {
			rs = append(rs, <-results)
		}
		slices.SortFunc(rs, func(a, b result) int { return a.pos.Compare(b.pos) })
		for _, r := range rs {
			p("    commit at %s\n", r.line)
		}
	}
	for i, off := range []uint64{50, 100, 200} {
		if err := commit(off); err != nil {
			return err
		}
		settle(i + 1) // one at a time, so the output does not depend on scheduling
	}
	p("commits at :50, :100 and :200 wait; reply-required flags for replica 1: %v %v %v\n",
		replicas[1].ReplyRequired(at(50)), replicas[1].ReplyRequired(at(100)), replicas[1].ReplyRequired(at(200)))
	ack := func(id semisync.ReplicaID, off uint64, note string) {
		before, wasOn := src.State().Waiting, src.State().On
		r := replicas[id].Ack(at(off))
		if !wasOn && src.State().On {
			note += " (caught up: status ON)"
		}
		p("replica %d acks %v -> %s, quorum %v%s\n", id, at(off), r, src.State().Acknowledged, note)
		released(before)
	}
	ack(1, 100, "")
	ack(2, 50, "")
	note := ""
	if src.State().Policy.N() == 3 {
		note = " (MySQL's AckContainer says 100 here: mysql-server PR #509)"
	}
	ack(3, 200, note)
	ack(2, 50, "")

	if f != semisync.FlavorMariaDB { // MariaDB has no wait count to change
		p("\n== 3. A runtime change releases commits at once\n\n")
		stmt := "SET GLOBAL " + n("rpl_semi_sync_source_wait_for_replica_count") + " = 2"
		p("mysql> %s;\n", stmt)
		before := src.State().Waiting
		if err := reg.Exec(stmt); err != nil {
			return err
		}
		p("quorum %v\n", src.State().Acknowledged)
		released(before)
	}
	ack(2, 200, "")
	ack(1, 200, "")

	p("\n== 4. The replicas fall silent: timeout, asynchronous mode, re-entry\n\n")
	stmt := "SET GLOBAL " + n("rpl_semi_sync_source_timeout") + " = 50"
	p("mysql> %s;\n", stmt)
	if err := reg.Exec(stmt); err != nil {
		return err
	}
	if err := commit(300); err != nil {
		return err
	}
	settle(1)
	p("commit at :300 waits; nobody acknowledges it for 50ms\n")
	p("    commit at %s\n", (<-results).line)
	p("status %s; the next commit does not wait:\n", onOff(src.State().On))
	if err := commit(400); err != nil {
		return err
	}
	p("    commit at %s\n", (<-results).line)
	p("while asynchronous, every event at or after the newest write asks for an ACK: flag for :400 %v\n",
		replicas[1].ReplyRequired(at(400)))
	ack(1, 400, "")
	ack(2, 400, "")
	if err := commit(500); err != nil {
		return err
	}
	settle(1)
	ack(3, 500, "")
	ack(1, 500, "")

	p("\n== 5. Status\n\n")
	snap := src.Snapshot()
	p("mysql> SHOW STATUS LIKE 'Rpl_semi_sync_%%';   -- wait times left out: they vary\n")
	var rows []semisync.Row
	for _, r := range src.Show("Rpl_semi_sync_%") {
		if !strings.Contains(r.Name, "wait_time") {
			rows = append(rows, r)
		}
	}
	if err := semisync.WriteTable(w, rows); err != nil {
		return err
	}
	h := snap.WaitLatency
	p("\nwait latency: %d waits, p50 %v, p99 %v, max %v\n", h.Count, h.P50(), h.P99(), h.Max)
	p("switch-offs by reason: timeout %d\n", snap.SwitchOffs[status.ReasonTimeout])
	p("per-replica ledger (head %v):\n", src.Counters().Replicas.Head())
	for _, r := range snap.Replicas {
		p("    replica %d: acked %v, %d acks (%d stale), %d bytes behind\n", r.ID, r.Acked, r.Acks, r.StaleAcks, r.Lag.Bytes)
	}
	if err := src.Close(); err != nil { // delivers the remaining events
		return err
	}
	p("events:\n")
	for _, e := range events {
		p("    %v\n", e)
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}
