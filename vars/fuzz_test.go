package vars_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/vars"
)

// checkOutcome asserts the invariants every write must keep: a rejected one
// changes nothing and returns a well-formed *vars.Error (or, for option
// files, an I/O error); an accepted one leaves every value in range and
// bumps the version by at most one.
func checkOutcome(t *testing.T, r *vars.Registry, before vars.Config, version uint64, err error) {
	t.Helper()
	if err != nil {
		if r.Config() != before || r.Version() != version {
			t.Fatalf("rejected write changed the values: %v", err)
		}
		var e *vars.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T) is not a *vars.Error", err, err)
		}
		if e.Code == 0 || e.Code != e.Kind.Code() || !errors.Is(err, e.Kind) {
			t.Fatalf("malformed error %#v", e)
		}
		if !strings.HasPrefix(err.Error(), "vars: ") {
			t.Fatalf("error text %q lacks the package prefix", err)
		}
		return
	}
	if verr := r.Config().Validate(r.Flavor()); verr != nil {
		t.Fatalf("accepted write left a value out of range: %v", verr)
	}
	if v := r.Version(); v != version && v != version+1 {
		t.Fatalf("version went from %d to %d in one write", version, v)
	}
	if (r.Version() == version) != (r.Config() == before) {
		t.Fatalf("version and values disagree about whether anything changed")
	}
}

func FuzzExec(f *testing.F) {
	for _, s := range []string{
		"SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 1000",
		"SET @@global.rpl_semi_sync_master_wait_point := 'AFTER_COMMIT';",
		"SET PERSIST rpl_semi_sync_slave_kill_conn_timeout = 4294967295",
		"SET GLOBAL rpl_semi_sync_source_timeout = 10*1000",
		"set global `rpl_semi_sync_source_wait_for_replica_count` = 65536",
		"SET SESSION rpl_semi_sync_replica_enabled = 1",
		"SET /* c */ GLOBAL x = 'a\\'b' 'c', y = -1.5e3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stmt string) {
		for _, fl := range semisync.Flavors {
			r, err := vars.NewRegistry(fl)
			if err != nil {
				t.Fatal(err)
			}
			before, version := r.Config(), r.Version()
			err = r.Exec(stmt)
			checkOutcome(t, r, before, version, err)
			// A second, identical statement changes nothing more.
			if err == nil {
				before, version = r.Config(), r.Version()
				if err := r.Exec(stmt); err != nil || r.Version() != version || r.Config() != before {
					t.Fatalf("re-running an accepted SET was not a no-op: %v", err)
				}
			}
		}
	})
}

func FuzzLoadOptionFile(f *testing.F) {
	for _, s := range []string{
		"[mysqld]\nrpl_semi_sync_source_enabled\nrpl-semi-sync-source-timeout = 5k # comment\n",
		"[mariadb]\nloose-rpl_semi_sync_master_wait_point = 'after_sync'\nskip-rpl-semi-sync-slave-enabled=0\n",
		"[client]\nx=1\n[server]\n!include other.cnf\n",
		"rpl_semi_sync_source_enabled=1\n",
		"[mysqld]\nrpl_semi_sync_master_timeout = \"1\\s2\"\n",
		"[mariadb]\nrpl_semi_sync_master_timeout=700\n[mysqld-8.0]\nloose-rpl-semi-sync-source-timout\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fl := range semisync.Flavors {
			r, err := vars.NewRegistry(fl)
			if err != nil {
				t.Fatal(err)
			}
			before, version := r.Config(), r.Version()
			err = r.LoadOptionFile(bytes.NewReader(data), "fuzz.cnf")
			checkOutcome(t, r, before, version, err)
			var e *vars.Error
			if errors.As(err, &e) && (e.File != "fuzz.cnf" || e.Line < 1) {
				t.Fatalf("option-file error without its location: %#v", e)
			}
			_, ws, _ := r.ParseOptionFileWarnings(bytes.NewReader(data), "fuzz.cnf")
			for _, w := range ws {
				if w.File != "fuzz.cnf" || w.Line < 1 || w.Option == "" || w.Kind.String() == "" {
					t.Fatalf("warning without its location or option: %#v", w)
				}
			}
		}
	})
}
