package binlogd_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync/interop/binlogd"
	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
)

// BenchmarkBinlogServerCommitLatency measures a MariaDB primary's commit
// latency, p50 and p99, with its semisync ACK coming from, side by side in
// one run:
//
//	direct:  a real MariaDB replica with sync_relay_log=1;
//	local:   a binlog server (ack mode local: its own fsync);
//	chained: a binlog server in chained mode with one real MariaDB
//	         replica (sync_relay_log=1) behind it: two hops.
//
// Each setting has its own primary (same options); each round runs b.N
// autocommit INSERTs per setting from one client, three rounds, and then
// a burst of b.N commits from 8 clients per setting for throughput. It
// reports p50/p99 in µs, commits/s, and the ratios local/direct and
// chained/direct (targets: p50 ≤ 1.0 and ≤ 2.2). Run it with
// BENCH=BinlogServer scripts/interop-bench.
func BenchmarkBinlogServerCommitLatency(b *testing.B) {
	const rounds = 3
	primary := func() *mariadbtest.Server {
		p := mariadbtest.Start(b, mariadbtest.Options{Args: []string{"--rpl-semi-sync-master-enabled=1", "--rpl-semi-sync-master-timeout=10000"}})
		return p
	}
	replicaArgs := []string{"--rpl-semi-sync-slave-enabled=1", "--sync-relay-log=1"}
	pDirect := primary()
	mariadbtest.StartReplica(b, pDirect, mariadbtest.Options{ServerID: 2, Args: []string{"--sync-relay-log=1"}})
	pDirect.WaitStatus(b, "Rpl_semi_sync_master_clients", "1", 30*time.Second)

	pLocal := primary()
	startB := func(p *mariadbtest.Server, mode binlogd.AckMode) (*binlogd.Server, int) {
		return startBinlogdTB(b, config(b, b.TempDir(), p, mode, 10*time.Second), p, 0)
	}
	startB(pLocal, binlogd.Local)
	pChained := primary()
	srvChained, port := startB(pChained, binlogd.Chained)
	down := mariadbtest.Start(b, mariadbtest.Options{ServerID: 3, Args: replicaArgs})
	pointAt(b, down, port)
	mariadbtest.Eventually(b, 30*time.Second, func() bool { return srvChained.Source().State().Clients == 1 }, "no replica behind the chained server")

	settings := []string{"direct", "local", "chained"}
	primaries := map[string]*mariadbtest.Server{"direct": pDirect, "local": pLocal, "chained": pChained}
	conns := map[string]*client.Conn{}
	for _, s := range settings {
		p := primaries[s]
		p.Exec(b, "CREATE DATABASE IF NOT EXISTS t")
		p.Exec(b, "CREATE TABLE IF NOT EXISTS t.k (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB")
		conns[s] = p.Conn(b)
	}
	commit := func(c *client.Conn) {
		if _, err := c.Execute("INSERT INTO t.k (v) VALUES ('bench')"); err != nil {
			b.Fatal(err)
		}
	}
	lat := map[string][]time.Duration{}
	b.ResetTimer()
	for range rounds {
		for _, s := range settings {
			p := primaries[s]
			mariadbtest.Eventually(b, 30*time.Second, func() bool {
				commit(conns[s])
				return p.Status(b, "Rpl_semi_sync_master_status") == "ON"
			}, "%s: the primary did not stay ON", s)
			yes := p.StatusInt(b, "Rpl_semi_sync_master_yes_tx")
			for range b.N {
				t0 := time.Now()
				commit(conns[s])
				lat[s] = append(lat[s], time.Since(t0))
			}
			if got := p.StatusInt(b, "Rpl_semi_sync_master_yes_tx") - yes; got != int64(b.N) {
				b.Fatalf("%s: yes_tx +%d, want +%d", s, got, b.N)
			}
		}
	}
	// Throughput: b.N commits from 8 clients.
	rate := map[string]float64{}
	for _, s := range settings {
		const clients = 8
		cs := make([]*client.Conn, clients)
		for i := range cs {
			cs[i] = primaries[s].Conn(b)
		}
		var wg sync.WaitGroup
		t0 := time.Now()
		for i := range clients {
			wg.Go(func() {
				for range b.N / clients {
					commit(cs[i])
				}
			})
		}
		wg.Wait()
		rate[s] = float64(b.N/clients*clients) / time.Since(t0).Seconds()
	}
	b.StopTimer()
	require.Zero(b, srvChained.Stats().Fallbacks, "the chained server never fell back")
	pct := func(s string, p float64) float64 {
		d := slices.Clone(lat[s])
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(p*float64(len(d))))]) / float64(time.Microsecond)
	}
	for _, s := range settings {
		b.ReportMetric(pct(s, 0.50), "p50-"+s+"-µs")
		b.ReportMetric(pct(s, 0.99), "p99-"+s+"-µs")
		b.ReportMetric(rate[s], s+"-commits/s")
	}
	for _, s := range []string{"local", "chained"} {
		b.ReportMetric(pct(s, 0.50)/pct("direct", 0.50), "p50-"+s+"/direct")
		b.ReportMetric(pct(s, 0.99)/pct("direct", 0.99), "p99-"+s+"/direct")
		b.ReportMetric(rate[s]/rate["direct"], "rate-"+s+"/direct")
	}
	b.ReportMetric(0, "ns/op")
}
