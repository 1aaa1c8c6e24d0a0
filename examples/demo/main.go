// Command demo shows the pieces of semisync that exist today working
// together, with no network and no disk: system variables read from a
// my.cnf and changed with SET GLOBAL, the quorum math deciding which commits
// three replicas have acknowledged, a runtime change of the wait count
// releasing commits at once, and SHOW STATUS-style counters with a
// per-replica ledger.
//
//	go run ./examples/demo [-flavor mysql|mysql-legacy|mariadb]
//
// Its output is deterministic: the "replicas" are a scripted sequence of
// acknowledgements and the clock is fixed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
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

	p("\n== 2. Quorum: which commits do enough replicas hold?\n\n")
	cfg := reg.Config()
	set3, err := ackset.New(ackset.Count(int(cfg.WaitForReplicaCount)))
	if err != nil {
		return err
	}
	var st status.Source
	st.SetStatus(cfg.SourceEnabled)
	clock := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	start := semisync.FilePos("binlog.000001", 4)
	entries := map[semisync.ReplicaID]*status.LedgerEntry{}
	for id := semisync.ReplicaID(1); id <= 3; id++ {
		set3.Connect(id, start)
		entries[id] = st.Replicas.Join(id, start, clock)
		st.Add(status.Clients, 1)
	}
	p("policy %v; replicas 1, 2 and 3 connected at %v\n", set3.Policy(), start)
	commits := []semisync.Position{
		semisync.FilePos("binlog.000001", 50),
		semisync.FilePos("binlog.000001", 100),
		semisync.FilePos("binlog.000001", 200),
	}
	st.Replicas.SetHead(commits[len(commits)-1])
	p("commits waiting at %v, %v and %v\n", commits[0], commits[1], commits[2])
	t0, released := clock, 0
	release := func(u ackset.Update) {
		for u.Advanced && released < len(commits) && commits[released].Compare(u.Quorum) <= 0 {
			wait := clock.Sub(t0)
			p("    commit at %v acknowledged after %v\n", commits[released], wait)
			st.RecordTxWait(wait)
			st.WaitLatency.Record(wait)
			st.Add(status.YesTx, 1)
			released++
		}
	}
	ack := func(id semisync.ReplicaID, pos semisync.Position, note string) {
		clock = clock.Add(150 * time.Microsecond)
		u := set3.Ack(id, pos)
		entries[id].RecordAck(pos, clock)
		st.Add(status.GetAck, 1)
		p("replica %d acks %v -> %s, quorum %v%s\n", id, pos, u.Ack, u.Quorum, note)
		release(u)
	}
	ack(1, commits[1], "")
	ack(2, commits[0], "")
	note := ""
	if set3.Policy().N() == 3 {
		note = " (MySQL's AckContainer says 100 here: mysql-server PR #509)"
	}
	ack(3, commits[2], note)
	ack(2, commits[0], "")

	if f != semisync.FlavorMariaDB { // MariaDB has no wait count to change
		p("\n== 3. A runtime change releases commits at once\n\n")
		cancel := reg.OnChange(func(prev, next vars.Config) {
			if prev.WaitForReplicaCount == next.WaitForReplicaCount {
				return
			}
			u, err := set3.SetPolicy(ackset.Count(int(next.WaitForReplicaCount)))
			if err != nil {
				p("policy change refused: %v\n", err)
				return
			}
			p("wait count %d -> %d: quorum %v\n", prev.WaitForReplicaCount, next.WaitForReplicaCount, u.Quorum)
			release(u)
		})
		stmt := "SET GLOBAL " + n("rpl_semi_sync_source_wait_for_replica_count") + " = 2"
		p("mysql> %s;\n", stmt)
		err := reg.Exec(stmt)
		cancel()
		if err != nil {
			return err
		}
	}
	ack(2, commits[2], "")
	ack(1, commits[2], "")
	if released != len(commits) {
		return fmt.Errorf("%d of %d commits acknowledged", released, len(commits))
	}

	p("\n== 4. Status\n\n")
	snap := st.Snapshot()
	p("mysql> SHOW STATUS LIKE 'Rpl_semi_sync_%%';\n")
	if err := semisync.WriteTable(w, status.Show(f, "Rpl_semi_sync_%", &snap, nil)); err != nil {
		return err
	}
	h := snap.WaitLatency
	p("\nwait latency: %d samples, p50 %v, p99 %v, max %v (bucket upper bounds)\n", h.Count, h.P50(), h.P99(), h.Max)
	p("per-replica ledger (head %v):\n", st.Replicas.Head())
	for _, r := range snap.Replicas {
		p("    replica %d: acked %v, %d acks (%d stale), %d bytes behind, last ack %s\n",
			r.ID, r.Acked, r.Acks, r.StaleAcks, r.Lag.Bytes, r.LastAck.UTC().Format("15:04:05.000000"))
	}
	return nil
}
