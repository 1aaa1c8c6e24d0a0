package vars_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/vars"
)

// lockedConfig is the baseline for reading live values: a Config behind a
// sync.RWMutex, read under RLock.
type lockedConfig struct {
	mu  sync.RWMutex
	cfg vars.Config
}

func (l *lockedConfig) get() vars.Config {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cfg
}

// BenchmarkConfig measures the hot-path read of the live values.
// x-vs-rwmutex is the time per read divided by the RWMutex baseline's,
// measured in the same run (below 1 is faster than the baseline).
func BenchmarkConfig(b *testing.B) {
	r, err := vars.NewRegistry(semisync.FlavorMySQL)
	if err != nil {
		b.Fatal(err)
	}
	var sink vars.Config
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		sink = r.Config()
		n++
	}
	b.StopTimer()
	iters := min(n, 1<<24)

	base := &lockedConfig{cfg: vars.Defaults(semisync.FlavorMySQL)}
	start := time.Now()
	for range iters {
		sink = base.get()
	}
	baseline := time.Since(start)
	if sink.WaitForReplicaCount != 1 {
		b.Fatal("unexpected value")
	}
	b.ReportMetric((float64(b.Elapsed())/float64(n))/(float64(baseline)/float64(iters)), "x-vs-rwmutex")
}

// BenchmarkExec measures a two-item SET GLOBAL statement, parse to publish.
func BenchmarkExec(b *testing.B) {
	r, err := vars.NewRegistry(semisync.FlavorMySQL)
	if err != nil {
		b.Fatal(err)
	}
	stmts := [2]string{
		"SET GLOBAL rpl_semi_sync_source_timeout = 5000, rpl_semi_sync_source_wait_point = 'AFTER_COMMIT'",
		"SET GLOBAL rpl_semi_sync_source_timeout = 10000, rpl_semi_sync_source_wait_point = AFTER_SYNC",
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := r.Exec(stmts[i&1]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkLoadOptionFile measures loading a typical my.cnf.
func BenchmarkLoadOptionFile(b *testing.B) {
	r, err := vars.NewRegistry(semisync.FlavorMySQL)
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString("[client]\nport = 3306\n[mysqld]\ndatadir = /var/lib/mysql\nserver-id = 1\nlog-bin = binlog\n")
	for i, v := range r.Vars() {
		sb.WriteString("loose-" + v.String() + " = " + v.Default() + " # " + strconv.Itoa(i) + "\n")
	}
	file := sb.String()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.LoadOptionFile(strings.NewReader(file), "my.cnf"); err != nil {
			b.Fatal(err)
		}
	}
}
