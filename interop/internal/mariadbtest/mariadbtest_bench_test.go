package mariadbtest_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
)

// BenchmarkStart measures Start (datadir copy, mariadbd start, readiness,
// replication user) followed by Stop, once the process-wide template exists.
func BenchmarkStart(b *testing.B) {
	mariadbtest.Start(b, mariadbtest.Options{}) // makes the template first
	b.ReportAllocs()
	for b.Loop() {
		s := mariadbtest.Start(b, mariadbtest.Options{})
		if err := s.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDatadir measures what Start does to get a datadir, copying the
// template, against what it would cost to run mariadb-install-db for each
// server: x-vs-installdb is the copy's time divided by install-db's (below
// 1, copying is faster).
func BenchmarkDatadir(b *testing.B) {
	inst := mariadbtest.Require(b)
	began := time.Now()
	tmpl, err := mariadbtest.MakeTemplate(inst)
	if err != nil {
		b.Fatal(err)
	}
	installDB := time.Since(began)
	b.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(tmpl)) })

	dir := b.TempDir()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		dst := filepath.Join(dir, "data")
		if err := mariadbtest.CopyDatadir(dst, tmpl); err != nil {
			b.Fatal(err)
		}
		if err := os.RemoveAll(dst); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed())/float64(n)/float64(installDB), "x-vs-installdb")
}

// BenchmarkExec measures one statement on the shared admin connection.
func BenchmarkExec(b *testing.B) {
	s := mariadbtest.Start(b, mariadbtest.Options{})
	b.ReportAllocs()
	for b.Loop() {
		s.Exec(b, "DO 1")
	}
}

// BenchmarkStatus measures one SHOW GLOBAL STATUS lookup.
func BenchmarkStatus(b *testing.B) {
	s := mariadbtest.Start(b, mariadbtest.Options{})
	b.ReportAllocs()
	for b.Loop() {
		s.Status(b, "Rpl_semi_sync_master_clients")
	}
}
