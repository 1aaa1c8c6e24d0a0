package mysqlreplica_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlreplica"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/replica"
)

// What relaylog.Open cut from the relay file is in Replicate's Result,
// set before connecting, so a host that logs the result sees it even when
// the connection fails at once.
func TestReplicateReportsRelayRecovery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	relay, _, err := relaylog.Open(path)
	require.NoError(t, err)
	end := semisync.FilePos("mariadb-bin.000001", 400)
	require.NoError(t, relay.Write([]byte("an event"), end))
	require.NoError(t, relay.Flush())
	require.NoError(t, relay.Sync())
	require.NoError(t, relay.Close())
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{31, 0, 0, 0, 0xde, 0xad}) // a torn record
	require.NoError(t, err)
	require.NoError(t, f.Close())

	relay, rec, err := relaylog.Open(path)
	require.NoError(t, err)
	defer relay.Close()
	require.True(t, rec.Cut())
	require.Equal(t, int64(6), rec.CutBytes)
	require.Equal(t, end, rec.End)

	rep, err := replica.New(replica.Options{Flavor: semisync.FlavorMariaDB, Durability: replica.Synced})
	require.NoError(t, err)
	refused := errors.New("no route")
	res, err := mysqlreplica.Replicate(context.Background(), mysqlreplica.Config{
		Addr: "127.0.0.1:1", User: "repl", ServerID: ourServerID, Replica: rep, Relay: relay,
		Dial: func(context.Context, string, string) (net.Conn, error) { return nil, refused },
	})
	require.ErrorIs(t, err, refused)
	require.Equal(t, rec, res.Recovery)
	require.Equal(t, end, res.Durable, "it would resume after the last record kept")
}
