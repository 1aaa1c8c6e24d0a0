package ackset_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts of testdata/*.txt")

// TestScenarios runs every testdata/*.txt script and compares the transcript
// with testdata/*.golden (go test -run TestScenarios -update rewrites them).
//
// Script commands, one per line (# starts a comment):
//
//	policy count N | policy any N ID... | policy first N ID... | policy groups N K ID=GROUP...
//	connect ID POS      start a session at POS (file:offset or an LSN)
//	disconnect ID
//	ack ID POS
//	reset
//	satisfiable         whether the connected replicas could meet the policy
//	replicas            the connected replicas, latest first
//
// Each command's result is written under it, indented.
func TestScenarios(t *testing.T) {
	scripts, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, scripts)
	for _, script := range scripts {
		t.Run(filepath.Base(script), func(t *testing.T) {
			got := runScript(t, script)
			golden := strings.TrimSuffix(script, ".txt") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run with -update to create it")
			require.Equal(t, string(want), got)
		})
	}
}

func runScript(t *testing.T, path string) string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out strings.Builder
	var s *ackset.Set
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		out.WriteString(text + "\n")
		fields := strings.Fields(text)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		result, err := runCommand(&s, fields)
		require.NoError(t, err, "%s:%d: %s", path, line, text)
		out.WriteString("    " + result + "\n")
	}
	require.NoError(t, sc.Err())
	return out.String()
}

func runCommand(sp **ackset.Set, f []string) (string, error) {
	ids := func(args []string) ([]semisync.ReplicaID, error) {
		var out []semisync.ReplicaID
		for _, a := range args {
			n, err := strconv.ParseUint(a, 10, 32)
			if err != nil {
				return nil, err
			}
			out = append(out, semisync.ReplicaID(n))
		}
		return out, nil
	}
	show := func(u ackset.Update) string {
		s := "quorum=" + u.Quorum.String()
		if u.Advanced {
			s += " ADVANCED"
		}
		if u.Ack != ackset.AckNone {
			s += " ack=" + u.Ack.String()
		}
		return s
	}
	if f[0] == "policy" {
		if len(f) < 3 {
			return "", fmt.Errorf("policy KIND N ...")
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return "", err
		}
		var p ackset.Policy
		switch f[1] {
		case "count":
			p = ackset.Count(n)
		case "any", "first":
			members, err := ids(f[3:])
			if err != nil {
				return "", err
			}
			p = ackset.AnyOf(n, members...)
			if f[1] == "first" {
				p = ackset.FirstOf(n, members...)
			}
		case "groups":
			k, err := strconv.Atoi(f[3])
			if err != nil {
				return "", err
			}
			groups := map[semisync.ReplicaID]string{}
			for _, kv := range f[4:] {
				id, g, _ := strings.Cut(kv, "=")
				n, err := strconv.ParseUint(id, 10, 32)
				if err != nil {
					return "", err
				}
				groups[semisync.ReplicaID(n)] = g
			}
			p = ackset.Spread(n, k, groups)
		default:
			return "", fmt.Errorf("unknown policy kind %q", f[1])
		}
		if *sp == nil {
			s, err := ackset.New(p)
			if err != nil {
				return "error: " + err.Error(), nil
			}
			*sp = s
			return "policy " + p.String(), nil
		}
		u, err := (*sp).SetPolicy(p)
		if err != nil {
			return "error: " + err.Error(), nil
		}
		return "policy " + p.String() + ": " + show(u), nil
	}
	s := *sp
	if s == nil {
		return "", fmt.Errorf("the first command must be policy")
	}
	arg := func(i int) (semisync.ReplicaID, semisync.Position, error) {
		if len(f) <= i {
			return 0, semisync.Position{}, fmt.Errorf("%s needs %d arguments", f[0], i)
		}
		id, err := ids(f[1:2])
		if err != nil || i == 1 {
			return id[0], semisync.Position{}, err
		}
		pos, err := semisync.ParsePosition(f[2])
		return id[0], pos, err
	}
	switch f[0] {
	case "connect", "ack":
		id, pos, err := arg(2)
		if err != nil {
			return "", err
		}
		if f[0] == "ack" {
			return show(s.Ack(id, pos)), nil
		}
		return show(s.Connect(id, pos)), nil
	case "disconnect":
		id, _, err := arg(1)
		if err != nil {
			return "", err
		}
		u, ok := s.Disconnect(id)
		if !ok {
			return "not connected; " + show(u), nil
		}
		return show(u), nil
	case "reset":
		s.Reset()
		return "quorum=" + s.Quorum().String(), nil
	case "satisfiable":
		return strconv.FormatBool(s.Satisfiable()), nil
	case "replicas":
		var parts []string
		for _, r := range s.Replicas(nil) {
			parts = append(parts, fmt.Sprintf("%d@%v", r.ID, r.Acked))
		}
		return strings.Join(parts, " "), nil
	}
	return "", fmt.Errorf("unknown command %q", f[0])
}
