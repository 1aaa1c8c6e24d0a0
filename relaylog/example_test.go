package relaylog_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
)

// xidEvent stands for the 31-byte XID event that ends at logPos. The relay
// log stores events as they are, without looking inside.
func xidEvent(logPos uint32) []byte { return event(fmt.Sprintf("xid at %d", logPos), 31) }

// A File keeps each event with the source position it ends at; after a
// crash, reopening it cuts a torn tail past the last fsync it proves, says
// so, and replication resumes after the last whole record.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "relaylog")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "relay.ssrl")

	relay, _, err := relaylog.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, end := range []uint64{400, 431} {
		if err := relay.Write(xidEvent(uint32(end)), semisync.FilePos("mysql-bin.000001", end)); err != nil {
			log.Fatal(err)
		}
	}
	if err := relay.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := relay.Sync(); err != nil { // fsync, then a sync mark
		log.Fatal(err)
	}
	relay.Close()

	// A crash in the middle of writing a third record.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		log.Fatal(err)
	}
	f.Write([]byte{31, 0, 0, 0, 0xde, 0xad})
	f.Close()

	relay, rec, err := relaylog.Open(path)
	if err != nil {
		log.Fatal(err) // a *relaylog.CorruptError for damage before the last sync mark
	}
	defer relay.Close()
	if rec.Cut() {
		fmt.Printf("cut %d bytes at byte %d (%s); fsync proven up to byte %d\n", rec.CutBytes, rec.CutAt, rec.Reason, rec.Proven)
	}
	fmt.Println("resume after:", rec.End, "records:", rec.Records)
	err = relaylog.Read(path, func(r relaylog.Record) error {
		fmt.Printf("%v %q\n", r.End, r.Event[:10])
		return nil
	})
	fmt.Println(err)
	// Output:
	// cut 6 bytes at byte 165 (a short header); fsync proven up to byte 143
	// resume after: mysql-bin.000001:431 records: 2
	// mysql-bin.000001:400 "xid at 400"
	// mysql-bin.000001:431 "xid at 431"
	// <nil>
}

// Check lists a file's records and sync marks and says what Open would do
// with it; here a bit flipped in a record that a later sync mark proves
// was fsynced: Open would refuse the file.
func ExampleCheck() {
	dir, err := os.MkdirTemp("", "relaylog")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "relay.ssrl")

	relay, _, err := relaylog.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, end := range []uint64{400, 431} {
		relay.Write(xidEvent(uint32(end)), semisync.FilePos("mysql-bin.000001", end))
		relay.Flush()
		relay.Sync()
	}
	relay.Close()
	data, _ := os.ReadFile(path)
	data[130] ^= 0x01 // in the second record's event
	os.WriteFile(path, data, 0o644)

	rep, err := relaylog.Check(path, func(it relaylog.Item) error {
		if it.Mark {
			fmt.Printf("%4d sync mark\n", it.Offset)
		} else {
			fmt.Printf("%4d record of %d bytes, ends at %v\n", it.Offset, it.Len, it.Record.End)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Corrupt)
	_, _, err = relaylog.Open(path)
	fmt.Println(errors.Is(err, relaylog.ErrCorrupt))
	// Output:
	//    5 record of 69 bytes, ends at mysql-bin.000001:400
	//   74 sync mark
	// relaylog: file corrupt at byte 96: a checksum mismatch, before the sync mark at byte 165, which proves it was fsynced
	// true
}

// ExampleFile writes two events, makes them durable and reads them back:
// the position to resume at is the end of the last record.
func ExampleFile() {
	dir, err := os.MkdirTemp("", "relaylog")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "relay")

	relay, _, err := relaylog.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, end := range []uint32{359, 390} {
		if err := relay.Write(xidEvent(end), semisync.FilePos("mysql-bin.000001", uint64(end))); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("after Write:", relay.Last())
	if err := relay.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after Flush:", relay.Last(), "synced:", relay.Synced())
	if err := relay.Sync(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after Sync:", relay.Last(), "synced:", relay.Synced())
	relay.Close()

	err = relaylog.Read(path, func(r relaylog.Record) error {
		fmt.Println("record ending at", r.End, "of", len(r.Event), "bytes")
		return nil
	})
	fmt.Println(err)
	// Output:
	// after Write: 0
	// after Flush: mysql-bin.000001:390 synced: 0
	// after Sync: mysql-bin.000001:390 synced: mysql-bin.000001:390
	// record ending at mysql-bin.000001:359 of 31 bytes
	// record ending at mysql-bin.000001:390 of 31 bytes
	// <nil>
}

// Rewind, before each connection of a replica that acknowledges only
// fsynced events: a record flushed but not fsynced is cut, and the dump
// starts after the last fsynced one.
func ExampleFile_Rewind() {
	dir, err := os.MkdirTemp("", "relaylog")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	relay, _, err := relaylog.Open(filepath.Join(dir, "relay"))
	if err != nil {
		log.Fatal(err)
	}
	defer relay.Close()
	relay.Write(xidEvent(359), semisync.FilePos("mysql-bin.000001", 359))
	relay.Flush()
	relay.Sync()
	relay.Write(xidEvent(390), semisync.FilePos("mysql-bin.000001", 390))
	relay.Flush() // the connection broke before the fsync
	fmt.Println("last:", relay.Last(), "synced:", relay.Synced())

	start, err := relay.Rewind()
	fmt.Println("dump from:", start, err)
	fmt.Println("last:", relay.Last(), "records:", relay.Stats().Records)
	// Output:
	// last: mysql-bin.000001:390 synced: mysql-bin.000001:359
	// dump from: mysql-bin.000001:359 <nil>
	// last: mysql-bin.000001:359 records: 1
}

// Repair cuts what Open would cut from an existing file, and refuses what
// Open would refuse, without creating a file: what command relaylog's
// repair does.
func ExampleRepair() {
	dir, err := os.MkdirTemp("", "relaylog")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "relay.ssrl")

	relay, _, err := relaylog.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	relay.Write(xidEvent(400), semisync.FilePos("mysql-bin.000001", 400))
	relay.Flush()
	relay.Sync()
	relay.Close()
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(make([]byte, 4096)) // a file system extended the file, the data never came
	f.Close()

	rec, err := relaylog.Repair(path)
	fmt.Println(rec.Cut(), rec.CutBytes, rec.Reason, rec.End, err)
	_, err = relaylog.Repair(filepath.Join(dir, "missing"))
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// true 4096 zero bytes mysql-bin.000001:400 <nil>
	// true
}

// A Follower reads a file while it is written, as a source serving
// replicas from its binlog would: it returns the records an fsync covered
// and, at the end, waits on a channel the next Sync makes ready.
func ExampleFile_Follow() {
	dir, err := os.MkdirTemp("", "relaylog")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	binlog, _, err := relaylog.Open(filepath.Join(dir, "binlog.ssrl"))
	if err != nil {
		log.Fatal(err)
	}
	defer binlog.Close()
	write := func(ends ...uint64) {
		for _, end := range ends {
			if err := binlog.Write(xidEvent(uint32(end)), semisync.FilePos("binlog.000001", end)); err != nil {
				log.Fatal(err)
			}
		}
		if err := binlog.Flush(); err != nil {
			log.Fatal(err)
		}
	}
	write(35, 66)
	if err := binlog.Sync(); err != nil {
		log.Fatal(err)
	}
	write(97) // flushed, not yet fsynced

	fl, err := binlog.Follow(semisync.FilePos("binlog.000001", 35)) // after the first record
	if err != nil {
		log.Fatal(err)
	}
	defer fl.Close()
	readAll := func() {
		for {
			r, ok, err := fl.Next()
			if err != nil {
				log.Fatal(err)
			}
			if !ok {
				return
			}
			fmt.Println("read", r.End)
		}
	}
	readAll()
	wait := fl.Wait()
	if err := binlog.Sync(); err != nil {
		log.Fatal(err)
	}
	<-wait // ready: the Sync made more durable
	readAll()
	// Output:
	// read binlog.000001:66
	// read binlog.000001:97
}
