package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/relaylog"
)

var update = flag.Bool("update", false, "rewrite testdata/script.golden")

// script runs the command on files it builds, in a temporary directory that
// is the working directory (so that the paths printed are the names
// given), and writes a transcript: each command line, its output, what it
// wrote to stderr and its exit code.
type script struct {
	t   *testing.T
	out bytes.Buffer
}

// run runs the command with args and checks its exit code.
func (s *script) run(want int, args ...string) {
	s.t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(&stdout, &stderr, args)
	fmt.Fprintf(&s.out, "$ %s\n%s", strings.Join(append([]string{"relaylog"}, args...), " "), stdout.String())
	for _, line := range strings.SplitAfter(stderr.String(), "\n") {
		switch line {
		case "":
		case "\n":
			s.out.WriteString("stderr:\n")
		default:
			fmt.Fprintf(&s.out, "stderr: %s", line)
		}
	}
	fmt.Fprintf(&s.out, "exit %d\n\n", code)
	require.Equal(s.t, want, code, "relaylog %v:\n%s%s", args, stdout.String(), stderr.String())
}

// note adds a comment line to the transcript.
func (s *script) note(format string, a ...any) {
	fmt.Fprintf(&s.out, "# "+format+"\n\n", a...)
}

// writeRelay writes a relay log file of three records, each fsynced (and
// so followed by its sync mark).
func writeRelay(t *testing.T, path string) {
	t.Helper()
	f, _, err := relaylog.Open(path)
	require.NoError(t, err)
	for i, end := range []uint64{359, 390, 421} {
		require.NoError(t, f.Write(fmt.Appendf(nil, "xid event %d.....................", i), semisync.FilePos("mysql-bin.000001", end)))
		require.NoError(t, f.Flush())
		require.NoError(t, f.Sync())
	}
	require.NoError(t, f.Close())
}

// flip flips the bits of mask in the byte at offset at of the file.
func flip(t *testing.T, path string, at int64, mask byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	data[at] ^= mask
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

func appendTo(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(b)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// The command on whole files, tails past the last fsync, damage before
// it, a version 1 file, a binlog of examples/binlog, and bad input, against
// a golden transcript (go test ./cmd/relaylog -update rewrites it).
func TestScript(t *testing.T) {
	t.Chdir(t.TempDir())
	s := &script{t: t}

	s.note("A relay log of three records, each fsynced and followed by its sync mark.")
	writeRelay(t, "relay.log")
	s.run(0, "check", "relay.log")
	s.run(0, "repair", "relay.log")

	s.note("A crash while writing a fourth record: a torn record after the last sync mark.")
	appendTo(t, "relay.log", []byte{31, 0, 0, 0, 16, 0, 0x7a, 0x01})
	s.run(1, "check", "relay.log")
	s.run(0, "repair", "relay.log")
	s.run(0, "check", "relay.log")

	s.note("A power failure: the last sync mark lost, zeros after the last record.")
	whole := fileBytes(t, "relay.log")
	require.NoError(t, os.WriteFile("relay.log", append(whole[:len(whole)-22:len(whole)-22], make([]byte, 4096)...), 0o644))
	s.run(1, "check", "relay.log")
	s.run(0, "repair", "relay.log")
	s.note("repair marked the records it kept as fsynced, as Open does:")
	s.run(0, "check", "relay.log")

	s.note("A bit flipped in the second record, which the marks after it prove was fsynced.")
	require.NoError(t, os.WriteFile("relay.log", whole, 0o644))
	flip(t, "relay.log", 120, 0x04)
	damaged := fileBytes(t, "relay.log")
	s.run(1, "check", "relay.log")
	s.run(1, "repair", "relay.log")
	require.Equal(t, damaged, fileBytes(t, "relay.log"), "a refused repair changes nothing")

	s.note("A file of format version 1 (no sync marks): read with version 1's rules; repair upgrades it.")
	f, _, err := relaylog.Open("old.log")
	require.NoError(t, err)
	require.NoError(t, f.Write([]byte("an event of format version 1"), semisync.LSN(1000)))
	require.NoError(t, f.Flush())
	require.NoError(t, f.Close())
	flip(t, "old.log", 4, 0x02^0x01) // version 2 to 1
	s.run(0, "check", "old.log")
	s.run(0, "repair", "old.log")
	s.run(0, "check", "old.log")

	s.note("A binlog of examples/binlog: the same format.")
	require.NoError(t, os.Mkdir("source", 0o755))
	bl, _, err := binlog.OpenFile("source", "binlog")
	require.NoError(t, err)
	for _, tx := range []string{"INSERT 1", "INSERT 2"} {
		_, err := bl.Append([]byte(tx))
		require.NoError(t, err)
	}
	require.NoError(t, bl.Sync())
	require.NoError(t, bl.Close())
	s.run(0, "check", filepath.Join("source", "binlog.000001"))

	s.note("A new, empty relay log, and files that are not relay logs.")
	f, _, err = relaylog.Open("empty.log")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	s.run(0, "check", "empty.log")
	require.NoError(t, os.WriteFile("notes.txt", []byte("hello\n"), 0o644))
	s.run(1, "check", "notes.txt")
	s.run(1, "repair", "notes.txt")
	s.run(1, "check", "missing.log")
	s.run(1, "repair", "missing.log")
	_, err = os.Stat("missing.log")
	require.ErrorIs(t, err, os.ErrNotExist, "repair creates nothing")

	s.note("Usage errors.")
	s.run(2)
	s.run(2, "check")
	s.run(2, "fix", "relay.log")
	s.run(2, "check", "relay.log", "old.log")
	s.run(0, "-h")

	golden := filepath.Join(testdataDir, "script.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, s.out.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), s.out.String())
}

// testdataDir is the package's testdata directory, found before a test
// changes the working directory.
var testdataDir = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "testdata")
}()
