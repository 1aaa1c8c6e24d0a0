// Command relaylog inspects and repairs a file in package relaylog's
// format: a replica's relay log (relaylog.File) or a binlog of
// examples/binlog.File.
//
//	relaylog check FILE
//	relaylog repair FILE
//
// check reads the file without changing it and prints one line per record
// (its offset, its length, the source position it ends at) and per sync
// mark (every byte before it had been fsynced), then the first bad bytes
// with their offset, and a summary saying what relaylog.Open would do:
// nothing, cut a tail that lies past the last fsync the file proves, or
// refuse damage that lies before it. It exits 0 when the file is whole, 1
// when Open would cut or refuse something (or the file cannot be read),
// and 2 on a usage error.
//
// repair cuts exactly the tail relaylog.Open would cut (relaylog.Repair)
// and prints what it cut; it also upgrades a format version 1 file and
// marks what it keeps as fsynced, as Open does. It refuses, with exit code
// 1 and the file unchanged, when the damage lies before the last proven
// fsync: those records were fsynced and possibly acknowledged, so the file
// needs an operator (restore it, or the records from another replica),
// not a cut. Run it only while no process has the file open.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/semisync-go/semisync/relaylog"
)

func main() { os.Exit(run(os.Stdout, os.Stderr, os.Args[1:])) }

const usage = `usage: relaylog check FILE
       relaylog repair FILE

check prints the records and sync marks of a relay log or binlog file, any
damage with its offset, and what opening the file would do; it exits 0 when
the file is whole and 1 when opening it would cut or refuse something.
repair cuts only a tail past the last fsync the file proves, and refuses
(exit 1, file unchanged) when the damage lies before it.
`

// run is the program: it returns the exit code.
func run(stdout, stderr io.Writer, args []string) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if len(args) != 2 || (args[0] != "check" && args[0] != "repair") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if args[0] == "check" {
		return check(stdout, stderr, args[1])
	}
	return repair(stdout, stderr, args[1])
}

// records describes the records a Recovery counts.
func records(rec relaylog.Recovery) string {
	switch rec.Records {
	case 0:
		return "no records"
	case 1:
		return fmt.Sprintf("1 record, ending at %v", rec.End)
	}
	return fmt.Sprintf("%d records, the last ending at %v", rec.Records, rec.End)
}

// check prints the file's items and what Open would do with it.
func check(stdout, stderr io.Writer, path string) int {
	header := false
	printHeader := func() {
		if !header {
			fmt.Fprintf(stdout, "%12s %10s  %s\n", "OFFSET", "LENGTH", "ITEM")
			header = true
		}
	}
	rep, err := relaylog.Check(path, func(it relaylog.Item) error {
		printHeader()
		if it.Mark {
			_, err := fmt.Fprintf(stdout, "%12d %10d  sync mark: every byte before %d fsynced\n", it.Offset, it.Len, it.Offset)
			return err
		}
		_, err := fmt.Fprintf(stdout, "%12d %10d  record ending at %v (event of %d bytes)\n", it.Offset, it.Len, it.Record.End, len(it.Record.Event))
		return err
	})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	rec := rep.Recovery
	if rep.Corrupt != nil || rec.Cut() {
		printHeader()
	}
	switch {
	case rep.Corrupt != nil:
		fmt.Fprintf(stdout, "%12d %10d  DAMAGE: %s\n", rep.Corrupt.Offset, rep.Size-rep.Corrupt.Offset, rep.Corrupt.Reason)
	case rec.Cut():
		fmt.Fprintf(stdout, "%12d %10d  TAIL: %s\n", rec.CutAt, rec.CutBytes, rec.Reason)
	}
	marks := "no sync marks"
	switch {
	case rep.Marks == 1:
		marks = "1 sync mark"
	case rep.Marks > 1:
		marks = fmt.Sprintf("%d sync marks", rep.Marks)
	}
	if rec.Proven > 0 {
		marks += fmt.Sprintf(", fsync proven up to byte %d", rec.Proven)
	}
	fmt.Fprintf(stdout, "%s: format version %d, %d bytes: %s; %s\n", path, rep.Version, rep.Size, records(rec), marks)
	switch {
	case rep.Corrupt != nil:
		fmt.Fprintf(stdout, "%s: DAMAGED at byte %d, before the last proven fsync: Open and repair refuse the file; the records from there on were fsynced and may have been acknowledged\n", path, rep.Corrupt.Offset)
		return 1
	case rec.Cut():
		fmt.Fprintf(stdout, "%s: a tail of %d bytes from byte %d lies past the last proven fsync: Open and repair cut it, keeping %s\n", path, rec.CutBytes, rec.CutAt, records(rec))
		return 1
	}
	fmt.Fprintf(stdout, "%s: whole\n", path)
	return 0
}

// repair cuts the tail Open would cut, or refuses.
func repair(stdout, stderr io.Writer, path string) int {
	rec, err := relaylog.Repair(path)
	if ce := (*relaylog.CorruptError)(nil); errors.As(err, &ce) {
		fmt.Fprintln(stderr, err)
		fmt.Fprintf(stderr, "%s: refused, nothing changed: the damage at byte %d lies before the last proven fsync\n", path, ce.Offset)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if rec.Cut() {
		fmt.Fprintf(stdout, "%s: cut %d bytes from byte %d (%s); kept %s\n", path, rec.CutBytes, rec.CutAt, rec.Reason, records(rec))
	} else {
		fmt.Fprintf(stdout, "%s: nothing to cut; %s\n", path, records(rec))
	}
	if rec.Upgraded {
		fmt.Fprintf(stdout, "%s: upgraded from format version 1 to 2\n", path)
	}
	return 0
}
