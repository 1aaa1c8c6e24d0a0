package mariadbtest

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrorLogTail returns the last n lines of the server's error log (or a note
// saying why it cannot be read).
func (s *Server) ErrorLogTail(n int) string {
	return tailFile(s.ErrorLog, n)
}

// ErrorLogSize returns the error log's current size in bytes: an offset for
// [Server.ErrorLogSince].
func (s *Server) ErrorLogSize() int64 {
	fi, err := os.Stat(s.ErrorLog)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// ErrorLogSince returns what the error log gained after offset off, which
// came from [Server.ErrorLogSize]: what the server logged in between.
func (s *Server) ErrorLogSince(off int64) string {
	f, err := os.Open(s.ErrorLog)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, off, 1<<62))
	if err != nil {
		return ""
	}
	return string(b)
}

// tailFile returns the last n lines of the file at path.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
