// Command mysqlsource is a semisync source that real MariaDB replicas
// replicate from: a database of its own (one table, demo.t, one row per
// commit) whose binlog is a file on disk, served on a MySQL-protocol port
// by package mysqlsource. It prints the CHANGE MASTER TO statement to paste
// into a MariaDB replica, then commits a transaction every -every and says
// how each commit's semisync wait ended: acknowledged by a replica, or
// timed out (the source switches to asynchronous replication until a
// replica catches up).
//
//	cd interop && go run ./examples/mysqlsource [-listen 127.0.0.1:3307] [-dir DIR]
//	    [-every 1s] [-commits 0] [-timeout 10s] [-password secret] [-admin-password admin]
//
// On the replica (a MariaDB 10.6 or later started with
// --rpl-semi-sync-slave-enabled=1, or SET GLOBAL rpl_semi_sync_slave_enabled=ON):
//
//	CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=3307, MASTER_USER='repl',
//	    MASTER_PASSWORD='secret', MASTER_USE_GTID=slave_pos;
//	START SLAVE;
//	SELECT * FROM demo.t;
//
// and as an operator, with the mariadb client:
//
//	mariadb -h 127.0.0.1 -P 3307 -u admin -padmin -e "SHOW STATUS LIKE 'Rpl%'; SHOW SLAVE HOSTS"
//
// With -dir, the binlog survives the program and a later run goes on from
// where it ended (replicas resume by GTID); without, it lives in a
// temporary directory removed at exit. -commits 0 commits until
// interrupted. It exits 1 on an error and 2 on bad flags.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/source"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is the command line.
type config struct {
	listen, dir             string
	every, timeout          time.Duration
	commits                 int
	password, adminPassword string
}

// run is the program: it returns the exit code.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("mysqlsource", flag.ContinueOnError)
	fs.SetOutput(errOut)
	var c config
	fs.StringVar(&c.listen, "listen", "127.0.0.1:3307", "address to serve replicas on")
	fs.StringVar(&c.dir, "dir", "", "directory of the binlog (default: a temporary one, removed at exit)")
	fs.DurationVar(&c.every, "every", time.Second, "time between two commits")
	fs.IntVar(&c.commits, "commits", 0, "commits to make before exiting (0: until interrupted)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "rpl_semi_sync_master_timeout: how long a commit waits for an ACK")
	fs.StringVar(&c.password, "password", "secret", "password of the replication account repl")
	fs.StringVar(&c.adminPassword, "admin-password", "admin", "password of the operator's account admin")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if c.every < 0 || c.commits < 0 || c.timeout < time.Millisecond || fs.NArg() > 0 {
		fmt.Fprintln(errOut, "mysqlsource: -every and -commits must not be negative, -timeout at least 1ms, and no arguments")
		return 2
	}
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "semisync-mysqlsource")
		if err != nil {
			fmt.Fprintln(errOut, "mysqlsource:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		c.dir = dir
	}
	d, err := start(c, out)
	if err != nil {
		fmt.Fprintln(errOut, "mysqlsource:", err)
		return 1
	}
	defer d.close()
	fmt.Fprintf(out, "serving on %s. On a MariaDB replica started with --rpl-semi-sync-slave-enabled=1:\n\n  %s\n  START SLAVE;\n\n", d.addr, d.changeMaster())
	fmt.Fprintf(out, "As an operator:\n\n  mariadb -h %s -P %d -u admin -p%s -e \"SHOW STATUS LIKE 'Rpl%%'; SHOW SLAVE HOSTS\"\n\n",
		d.addr.IP, d.addr.Port, c.adminPassword)
	tick := time.NewTicker(max(c.every, time.Millisecond))
	defer tick.Stop()
	for n := 0; c.commits == 0 || n < c.commits; n++ {
		if n > 0 {
			select {
			case <-ctx.Done():
				return 0
			case <-tick.C:
			}
		}
		if err := d.commit(ctx, out); err != nil {
			if ctx.Err() != nil {
				return 0
			}
			fmt.Fprintln(errOut, "mysqlsource:", err)
			return 1
		}
	}
	return 0
}

// demo is the running source: its binlog, its source and its server.
type demo struct {
	bl     *fileBinlog
	src    *source.Source
	srv    *mysqlsource.Server
	addr   *net.TCPAddr
	served chan error
	seq    uint64 // the last GTID's sequence number
	pw     string
}

// fileBinlog is a binlog.File as package mysqlsource reads it.
type fileBinlog struct {
	*binlog.File
	fde []byte // the file's format description, its first event
}

// FormatDescription returns the file's format description.
func (b *fileBinlog) FormatDescription(file string) ([]byte, error) {
	if file != b.Head().File() {
		return nil, fmt.Errorf("no binlog file %s", file)
	}
	return b.fde, nil
}

// Files returns the one file.
func (b *fileBinlog) Files() ([]string, error) { return []string{b.Head().File()}, nil }

// header is the header of the events the demo writes (server_id 1).
func header() mysqlsource.Header {
	return mysqlsource.Header{Timestamp: uint32(time.Now().Unix()), ServerID: 1}
}

// start opens (or makes) the binlog in c.dir, starts the source and
// serves it on c.listen.
func start(c config, out io.Writer) (_ *demo, err error) {
	f, rec, err := binlog.OpenFile(c.dir, "mysql-bin")
	if err != nil {
		return nil, err
	}
	if rec.CutBytes > 0 {
		fmt.Fprintf(out, "recovered: %d bytes of an unsynced tail cut at %d\n", rec.CutBytes, rec.CutAt)
	}
	d := &demo{bl: &fileBinlog{File: f}, pw: c.password}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	d.src, err = source.New(source.Options{Flavor: semisync.FlavorMariaDB})
	if err != nil {
		return nil, err
	}
	if err := d.src.Vars().Exec(fmt.Sprintf("SET GLOBAL rpl_semi_sync_master_enabled = ON, GLOBAL rpl_semi_sync_master_timeout = %d", c.timeout.Milliseconds())); err != nil {
		return nil, err
	}
	if err := d.open(); err != nil {
		return nil, err
	}
	if err := d.src.Appended(f.Head()); err != nil {
		return nil, err
	}
	d.srv, err = mysqlsource.NewServer(d.src, d.bl, mysqlsource.Options{ServerID: 1, User: "repl", Password: c.password,
		Admin: "admin", AdminPassword: c.adminPassword, Checksum: true})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return nil, err
	}
	d.addr = ln.Addr().(*net.TCPAddr)
	d.served = make(chan error, 1)
	go func() { d.served <- d.srv.Serve(ln) }()
	return d, nil
}

// open reads the binlog of an earlier run (its format description and
// last GTID), or starts a new one: the format description, an empty GTID
// list, the schema.
func (d *demo) open() error {
	if d.bl.Len() > 0 {
		cur, err := d.bl.Open(semisync.FilePos(d.bl.Head().File(), binlog.FirstOffset))
		if err != nil {
			return err
		}
		defer cur.Close()
		for {
			ev, ok, err := cur.Next()
			if err != nil || !ok {
				return err
			}
			if d.bl.fde == nil {
				d.bl.fde = bytes.Clone(ev.Data) // the cursor reuses its buffer
			}
			if len(ev.Data) >= mysqlsource.HeaderLen+8 && ev.Data[4] == mysqlsource.TypeMariaGTID {
				d.seq = max(d.seq, binary.LittleEndian.Uint64(ev.Data[mysqlsource.HeaderLen:]))
			}
		}
	}
	fde, err := mysqlsource.AppendFormatDescription(nil, header(), mysqlsource.FormatDescription{BinlogVersion: 4,
		ServerVersion: "10.11.0-semisync-demo-log", PostHeaderLens: mysqlsource.MariaDB1011PostHeaderLens(), Checksum: mysqlsource.ChecksumCRC32})
	if err != nil {
		return err
	}
	list, err := mysqlsource.AppendGTIDList(nil, header(), nil, 0, true)
	if err != nil {
		return err
	}
	if _, err := d.write(fde, list); err != nil {
		return err
	}
	d.bl.fde = fde
	for _, ddl := range []string{"CREATE DATABASE IF NOT EXISTS demo",
		"CREATE TABLE IF NOT EXISTS demo.t (id BIGINT PRIMARY KEY, committed_at VARCHAR(40) NOT NULL) ENGINE=InnoDB"} {
		d.seq++
		g, err := mysqlsource.AppendMariaGTID(nil, header(), d.seq, 0, mysqlsource.GTIDStandalone|mysqlsource.GTIDDDL, 0, true)
		if err != nil {
			return err
		}
		q, err := mysqlsource.AppendQuery(nil, header(), "", ddl, true)
		if err != nil {
			return err
		}
		if _, err := d.write(g, q); err != nil {
			return err
		}
	}
	return d.bl.Sync()
}

// write appends events, each with its log_pos, and returns the last end.
func (d *demo) write(events ...[]byte) (end semisync.Position, err error) {
	for _, ev := range events {
		mysqlsource.SetLogPos(ev, uint32(d.bl.Head().Offset()+uint64(len(ev))), true)
		if end, err = d.bl.Append(ev); err != nil {
			d.bl.Discard()
			return end, err
		}
	}
	return end, nil
}

// commit writes one transaction (a row of demo.t), tells the source,
// makes it durable and readable, waits for its acknowledgement and prints
// the outcome.
func (d *demo) commit(ctx context.Context, out io.Writer) error {
	d.seq++
	now := time.Now()
	g, err := mysqlsource.AppendMariaGTID(nil, header(), d.seq, 0, mysqlsource.GTIDTransactional, 0, true)
	if err != nil {
		return err
	}
	begin, _ := mysqlsource.AppendQuery(nil, header(), "", "BEGIN", true)
	insert, _ := mysqlsource.AppendQuery(nil, header(), "", fmt.Sprintf("INSERT INTO demo.t VALUES (%d, '%s')", d.seq, now.UTC().Format(time.RFC3339Nano)), true)
	end, err := d.write(g, begin, insert, mysqlsource.AppendXID(nil, header(), d.seq, true))
	if err != nil {
		return err
	}
	if err := d.src.Flushed(end); err != nil {
		return err
	}
	if err := d.bl.Sync(); err != nil {
		return err
	}
	res, err := d.src.Wait(ctx, end)
	if err != nil {
		return err
	}
	var why string
	switch res.Outcome {
	case source.TimedOut:
		why = ": no ACK in time, the source switched to asynchronous replication until a replica catches up"
	case source.Async:
		why = ": the source is asynchronous, nothing to wait for"
	}
	fmt.Fprintf(out, "commit 0-1-%d at %v: %v after %v (replicas: %d)%s\n", d.seq, end, res.Outcome, time.Since(now).Round(10*time.Microsecond), d.src.State().Clients, why)
	return nil
}

// changeMaster is the statement a MariaDB replica needs.
func (d *demo) changeMaster() string {
	return fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, MASTER_USER='repl', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos;",
		d.addr.IP, d.addr.Port, d.pw)
}

// close stops the server, then the source and the binlog.
func (d *demo) close() {
	if d.srv != nil {
		d.srv.Close()
		if d.served != nil {
			if err := <-d.served; !errors.Is(err, mysqlsource.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, "mysqlsource: serving:", err)
			}
		}
	}
	if d.src != nil {
		d.src.Close()
	}
	d.bl.Close()
}
