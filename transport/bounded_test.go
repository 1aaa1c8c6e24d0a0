package transport_test

import (
	"context"
	"testing"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
)

// waitBounded is src.Wait with a context that ends failAfter after the
// call: whatever goes wrong (a replica connection that died, a source that
// never switches off), no commit wait of these tests outlives a minute;
// it returns Cancelled with ctx's error instead.
func waitBounded(src *source.Source, end semisync.Position) (source.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	return src.Wait(ctx, end)
}

// boundedCtx returns a context that ends failAfter from now, or when the
// test ends: for calls such as Replicate that a test expects to return by
// themselves, so that a bug cannot hang them for longer than a minute.
func boundedCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	t.Cleanup(cancel)
	return ctx
}
