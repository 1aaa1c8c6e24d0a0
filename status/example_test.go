package status_test

import (
	"fmt"
	"os"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/status"
)

// A source records what happens around three commits; the host shows the
// transaction counters as MySQL's SHOW STATUS LIKE '%tx%' would.
func Example() {
	var st status.Source
	st.SetStatus(true)
	st.Add(status.Clients, 1) // a semisync replica connected

	// Two commits wait for their ACK: 250 µs and 1.1 ms.
	for _, wait := range []time.Duration{250 * time.Microsecond, 1100 * time.Microsecond} {
		st.Add(status.WaitSessions, 1)
		st.Add(status.WaitSessions, -1)
		st.RecordTxWait(wait)
		st.Add(status.YesTx, 1)
		st.WaitLatency.Record(wait)
	}
	// The third times out; the source falls back to asynchronous mode.
	st.Add(status.WaitTimeouts, 1)
	st.SwitchOff(status.ReasonTimeout)
	st.Add(status.NoTx, 1)

	snap := st.Snapshot()
	_ = semisync.WriteTable(os.Stdout, status.Show(semisync.FlavorMySQL, "%tx%", &snap, nil))
	fmt.Println("status:", status.Show(semisync.FlavorMySQL, "%source_status", &snap, nil)[0].Value)
	fmt.Println("timeouts:", snap.WaitTimeouts, "by timeout:", snap.SwitchOffs[status.ReasonTimeout])
	// Output:
	// +---------------------------------------+-------+
	// | Variable_name                         | Value |
	// +---------------------------------------+-------+
	// | Rpl_semi_sync_source_no_tx            | 1     |
	// | Rpl_semi_sync_source_tx_avg_wait_time | 675   |
	// | Rpl_semi_sync_source_tx_wait_time     | 1350  |
	// | Rpl_semi_sync_source_tx_waits         | 2     |
	// | Rpl_semi_sync_source_yes_tx           | 2     |
	// +---------------------------------------+-------+
	// status: OFF
	// timeouts: 1 by timeout: 1
}

// A server running both sides, shown with MariaDB's names.
func ExampleShow() {
	var src status.Source
	src.SetStatus(true)
	src.Add(status.RequestAck, 3)
	src.Add(status.GetAck, 3)
	var rep status.Replica
	rep.StartIO(true)
	rep.CountAckSent()

	s, r := src.Snapshot(), rep.Snapshot()
	for _, row := range status.Show(semisync.FlavorMariaDB, "%ack", &s, &r) {
		fmt.Println(row.Name, row.Value)
	}
	// Output:
	// Rpl_semi_sync_master_get_ack 3
	// Rpl_semi_sync_master_request_ack 3
	// Rpl_semi_sync_slave_send_ack 1
}

func ExampleHistogram() {
	var h status.Histogram
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i) * 10 * time.Microsecond) // 10 µs … 1 ms
	}
	s := h.Snapshot()
	fmt.Println("count:", s.Count, "mean:", s.Mean(), "max:", s.Max)
	// Quantiles are bucket upper bounds: at most 12.5% above the true value.
	fmt.Println("p50:", s.P50(), "p90:", s.P90(), "p99:", s.P99())
	// Output:
	// count: 100 mean: 505µs max: 1ms
	// p50: 524.287µs p90: 917.503µs p99: 1ms
}

func ExampleLedger() {
	var l status.Ledger
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

	a := l.Join(2, semisync.FilePos("binlog.000007", 4), now)
	b := l.Join(1, semisync.FilePos("binlog.000006", 800), now)
	a.RecordAck(semisync.FilePos("binlog.000007", 1500), now.Add(time.Second))
	a.RecordAck(semisync.FilePos("binlog.000007", 900), now.Add(2*time.Second)) // stale
	l.Leave(b, now.Add(3*time.Second))
	l.SetHead(semisync.FilePos("binlog.000007", 2000))

	for _, r := range l.Snapshot() {
		fmt.Printf("replica %v connected=%v acked=%v acks=%d stale=%d lag: %d bytes (known=%v), %d files\n",
			r.ID, r.Connected, r.Acked, r.Acks, r.StaleAcks, r.Lag.Bytes, r.Lag.BytesKnown, r.Lag.Files)
	}
	// Output:
	// replica 1 connected=false acked=binlog.000006:800 acks=0 stale=0 lag: 0 bytes (known=false), 1 files
	// replica 2 connected=true acked=binlog.000007:1500 acks=2 stale=1 lag: 500 bytes (known=true), 0 files
}
