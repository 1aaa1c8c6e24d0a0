package mysqlsource_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlsource"
)

// The command parsers never panic, and what they accept is exactly the
// bytes the encoders make of it: nothing read twice, nothing ignored.

func FuzzParseRegisterReplica(f *testing.F) {
	seed, _ := mysqlsource.AppendRegisterReplica(nil, mysqlsource.RegisterReplica{ServerID: 77, Host: "replica", User: "repl", Port: 3306, SourceID: 1})
	f.Add(seed)
	f.Add([]byte{mysqlsource.ComRegisterSlave})
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := mysqlsource.ParseRegisterReplica(p)
		if err != nil {
			require.ErrorIs(t, err, mysqlsource.ErrMalformedCommand)
			return
		}
		out, err := mysqlsource.AppendRegisterReplica(nil, r)
		require.NoError(t, err)
		require.Equal(t, p, out)
	})
}

func FuzzParseDump(f *testing.F) {
	seed, _ := mysqlsource.AppendDump(nil, mysqlsource.Dump{Start: semisync.FilePos("mysql-bin.000001", 4), ServerID: 77})
	f.Add(seed)
	f.Add([]byte{mysqlsource.ComBinlogDump, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		d, err := mysqlsource.ParseDump(p)
		if err != nil {
			require.ErrorIs(t, err, mysqlsource.ErrMalformedCommand)
			return
		}
		out, err := mysqlsource.AppendDump(nil, d)
		require.NoError(t, err)
		require.Equal(t, p, out)
	})
}

func FuzzParseGTIDDump(f *testing.F) {
	seed, _ := mysqlsource.AppendGTIDDump(nil, mysqlsource.GTIDDump{Flags: mysqlsource.DumpThroughGTID, ServerID: 77, Pos: 4,
		GTIDs: []mysqlsource.UUIDSet{{SID: [16]byte{1}, Intervals: []mysqlsource.Interval{{Start: 1, End: 10}}}}})
	f.Add(seed)
	noSet, _ := mysqlsource.AppendGTIDDump(nil, mysqlsource.GTIDDump{File: "binlog.000001", Pos: 4})
	f.Add(noSet)
	f.Fuzz(func(t *testing.T, p []byte) {
		d, err := mysqlsource.ParseGTIDDump(p)
		if err != nil {
			require.ErrorIs(t, err, mysqlsource.ErrMalformedCommand)
			return
		}
		out, err := mysqlsource.AppendGTIDDump(nil, d)
		require.NoError(t, err)
		require.Equal(t, p, out)
	})
}

// A MariaDB replica's @slave_connect_state comes from the network: the
// parser never panics, and what it accepts is a position it writes back
// the same (one triple per domain).
func FuzzParseGTIDState(f *testing.F) {
	f.Add("0-1-5,2-7-900")
	f.Add("")
	f.Add(" 0-1-18446744073709551615 ")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := mysqlsource.ParseGTIDState(s)
		if err != nil {
			return
		}
		require.LessOrEqual(t, len(got), mysqlsource.MaxGTIDDomains)
		parts := make([]string, len(got))
		seen := map[uint32]bool{}
		for i, g := range got {
			require.False(t, seen[g.Domain], "domain %d twice", g.Domain)
			seen[g.Domain] = true
			parts[i] = g.String()
		}
		again, err := mysqlsource.ParseGTIDState(strings.Join(parts, ","))
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}

// A MySQL GTID set's text comes from a server's answer or an operator: the
// parser never panics, and what it accepts is a set in normal form that
// it reads back the same from FormatGTIDSet, and that COM_BINLOG_DUMP_GTID
// can carry.
func FuzzParseGTIDSet(f *testing.F) {
	f.Add("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11")
	f.Add("")
	f.Add("3E11FA47-71CA-11E1-9E33-C80AA9429562:7:1-3,\n 00000000-0000-0000-0000-000000000001:9223372036854775807")
	f.Add("3e11fa4771ca11e19e33c80aa9429562:1-2:2-4")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := mysqlsource.ParseGTIDSet(s)
		if err != nil {
			return
		}
		again, err := mysqlsource.ParseGTIDSet(mysqlsource.FormatGTIDSet(got))
		require.NoError(t, err)
		require.Equal(t, got, again)
		_, err = mysqlsource.AppendGTIDDump(nil, mysqlsource.GTIDDump{GTIDs: got})
		require.NoError(t, err, "a set MySQL accepts")
	})
}
