// Command semisync-binlogd is a semisync binlog server: a semisync replica
// of a MariaDB primary that keeps the primary's binlog in its own files
// and serves it to MariaDB replicas as their semisync source, acknowledging
// the primary after its own fsync (--ack-mode=local) or once its own
// replicas have the transaction (--ack-mode=chained). README.md beside this
// file is the operator's guide; package binlogd is what it runs.
//
// Exit status: 0 after SIGINT or SIGTERM, 2 for a bad flag or
// configuration, 1 when it cannot start (the store, the listener).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/binlogd"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/vars"
)

// optionGroup is the my.cnf group whose options are this program's flags.
const optionGroup = "semisync-binlogd"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a bad flag or configuration: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// run is the program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	srv, ln, err := setup(args, stdout, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "semisync-binlogd:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	if err := srv.Start(ln); err != nil {
		fmt.Fprintln(stderr, "semisync-binlogd:", err)
		srv.Close()
		return 1
	}
	fmt.Fprintf(stdout, "semisync-binlogd: serving replicas on %s, ack mode %s, store at GTID position '%s'\n", ln.Addr(), srv.AckMode(), srv.Stats().GTID)
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		fmt.Fprintln(stderr, "semisync-binlogd: closing:", err)
		return 1
	}
	return 0
}

// setup reads the flags and the option file and opens the server and its
// listener.
func setup(args []string, stdout, stderr io.Writer) (*binlogd.Server, net.Listener, error) {
	fs := flag.NewFlagSet("semisync-binlogd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		defaults  = fs.String("defaults-file", "", "my.cnf-style file: semisync variables in [mariadbd]/[mysqld], this program's flags in ["+optionGroup+"]")
		dir       = fs.String("datadir", "", "directory of the binlog store (required)")
		listen    = fs.String("listen", "127.0.0.1:3307", "address replicas connect to")
		upstream  = fs.String("upstream", "", "the primary's host:port (required)")
		upUser    = fs.String("upstream-user", "repl", "replication account on the primary")
		upPass    = fs.String("upstream-password", "", "its password")
		upID      = fs.Uint("upstream-server-id", 0, "this server's server_id towards the primary (required, unique among its replicas)")
		flavor    = fs.String("flavor", "mariadb", "the primary's and the replicas' kind: mariadb, mysql (rpl_semi_sync_source_* names) or mysql-legacy (rpl_semi_sync_master_*)")
		startGTID = fs.String("start-gtid", "", "GTID position an empty store begins at: MariaDB's domain-server-seq list, or a MySQL GTID set (default: the primary's current one)")
		uuid      = fs.String("server-uuid", "", "MySQL flavor: this server's server_uuid (default: made up at the first start, kept in the datadir)")
		gtidMode  = fs.String("gtid-mode", "ON", "MySQL flavor: the GTID_MODE replicas see (the primary's: OFF, OFF_PERMISSIVE, ON_PERMISSIVE or ON)")
		serverID  = fs.Uint("server-id", 0, "this server's server_id towards its replicas (required; not the primary's, not --upstream-server-id)")
		user      = fs.String("user", "repl", "replication account replicas use")
		pass      = fs.String("password", "", "its password")
		admin     = fs.String("admin", "", "operator account (SET GLOBAL, KILL); empty: none")
		adminPass = fs.String("admin-password", "", "its password")
		ackMode   = fs.String("ack-mode", "local", "local: ACK the primary after the local fsync; chained: after the replicas' quorum")
		checksum  = fs.String("binlog-checksum", "CRC32", "the primary's binlog_checksum: CRC32 or NONE")
		segment   = fs.Int64("segment-size", binlogd.DefaultSegmentBytes, "bytes after which the store starts a new segment file")
		retainB   = fs.Int64("retain-bytes", 0, "remove the oldest segments while the store holds more (0: keep all)")
		retainAge = fs.Duration("retain-age", 0, "remove segments last written longer ago (0: keep all)")
		heartbeat = fs.Duration("heartbeat-period", time.Second, "heartbeat period asked of the primary, and default for replicas")
		retry     = fs.Duration("connect-retry", time.Second, "pause before reconnecting to the primary")
		logLevel  = fs.String("log-level", "info", "debug, info, warn or error")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: semisync-binlogd --datadir DIR --upstream HOST:PORT --upstream-server-id N --server-id N [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, nil, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *defaults != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if err := loadOptions(*defaults, fs, set); err != nil {
			return nil, nil, usageError{err}
		}
	}
	fl, err := semisync.ParseFlavor(*flavor)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--flavor: %w", err)}
	}
	c := vars.Defaults(fl)
	c.SourceEnabled, c.ReplicaEnabled = true, true
	reg, err := vars.NewRegistry(fl, vars.WithConfig(c))
	if err != nil {
		return nil, nil, err
	}
	if *defaults != "" {
		if err := loadVariables(*defaults, reg); err != nil {
			return nil, nil, usageError{err}
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return nil, nil, usageError{fmt.Errorf("--log-level: %w", err)}
	}
	mode, err := binlogd.ParseAckMode(*ackMode)
	if err != nil {
		return nil, nil, usageError{err}
	}
	var sum bool
	switch strings.ToUpper(*checksum) {
	case "CRC32":
		sum = true
	case "NONE":
	default:
		return nil, nil, usageError{fmt.Errorf("--binlog-checksum %q: want CRC32 or NONE", *checksum)}
	}
	switch {
	case *dir == "":
		return nil, nil, usageError{errors.New("--datadir is required")}
	case *upstream == "":
		return nil, nil, usageError{errors.New("--upstream is required")}
	case *upID == 0 || *upID > 1<<32-1:
		return nil, nil, usageError{errors.New("--upstream-server-id must be 1 to 4294967295")}
	case *serverID == 0 || *serverID > 1<<32-1:
		return nil, nil, usageError{errors.New("--server-id must be 1 to 4294967295")}
	case *serverID == *upID:
		return nil, nil, usageError{errors.New("--server-id and --upstream-server-id must differ")}
	case *segment < 4096:
		return nil, nil, usageError{fmt.Errorf("--segment-size %d: at least 4096", *segment)}
	case *retainB < 0 || *retainAge < 0:
		return nil, nil, usageError{errors.New("--retain-bytes and --retain-age must not be negative")}
	}
	if _, _, err := net.SplitHostPort(*upstream); err != nil {
		return nil, nil, usageError{fmt.Errorf("--upstream: %w", err)}
	}
	cfg := binlogd.Config{Dir: *dir, Vars: reg, AckMode: mode,
		Store: binlogd.StoreOptions{SegmentBytes: *segment, RetainBytes: *retainB, RetainAge: *retainAge},
		Upstream: binlogd.Upstream{Addr: *upstream, User: *upUser, Password: *upPass, ServerID: uint32(*upID),
			StartGTID: *startGTID, HeartbeatPeriod: *heartbeat, RetryInterval: *retry},
		Downstream: mysqlsource.Options{ServerID: uint32(*serverID), ServerUUID: *uuid, User: *user, Password: *pass, Admin: *admin,
			AdminPassword: *adminPass, Checksum: sum, HeartbeatPeriod: *heartbeat},
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}
	if fl != semisync.FlavorMariaDB {
		cfg.Downstream.GTIDMode = strings.ToUpper(*gtidMode)
	}
	srv, err := binlogd.New(cfg)
	if err != nil {
		if errors.Is(err, binlogd.ErrConfig) {
			return nil, nil, usageError{err}
		}
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	return srv, ln, nil
}

// loadVariables applies the semisync variables of an option file's
// [mariadbd] (and [mysqld], [server], ...) groups to reg.
func loadVariables(path string, reg *vars.Registry) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return reg.LoadOptionFile(f, path)
}

// loadOptions applies the options of an option file's [semisync-binlogd]
// group to the flags not given on the command line (set).
func loadOptions(path string, fs *flag.FlagSet, set map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' || text[0] == ';' {
			continue
		}
		if strings.HasPrefix(text, "[") {
			in = strings.EqualFold(strings.Trim(text, "[] \t"), optionGroup)
			continue
		}
		if !in {
			continue
		}
		name, value, _ := strings.Cut(text, "=")
		name = strings.ReplaceAll(strings.TrimSpace(name), "_", "-")
		value = strings.Trim(strings.TrimSpace(value), `"'`)
		if fs.Lookup(name) == nil || name == "defaults-file" {
			return fmt.Errorf("%s:%d: unknown option %q in [%s]", path, line, name, optionGroup)
		}
		if set[name] {
			continue // the command line wins
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", path, line, name, err)
		}
	}
	return sc.Err()
}
