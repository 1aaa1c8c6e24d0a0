package semisync

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Row is one line of SHOW VARIABLES or SHOW STATUS output: a name and its
// value rendered as the server renders it (ON/OFF, enum names, decimals).
type Row struct {
	Name  string // the variable's name, as the server spells it
	Value string // its value, rendered as the server renders it
}

// Like reports whether s matches the SQL LIKE pattern as MySQL's SHOW ...
// LIKE does: % matches any run of characters (also none), _ matches exactly
// one character, a backslash makes the next character literal (a backslash
// at the very end is itself literal), and letters match regardless of ASCII
// case (variable names are ASCII; MySQL's default collation is
// case-insensitive). It never allocates.
func Like(s, pattern string) bool {
	si, pi := 0, 0
	starPi, starSi := -1, 0 // where the last % was, and where its run ends in s
	for si < len(s) {
		if pi < len(pattern) {
			switch c := pattern[pi]; c {
			case '%':
				starPi, starSi = pi, si
				pi++
				continue
			case '_':
				_, w := utf8.DecodeRuneInString(s[si:])
				si += w
				pi++
				continue
			default:
				w := 1
				if c == '\\' && pi+1 < len(pattern) {
					c, w = pattern[pi+1], 2
				}
				if foldASCII(c) == foldASCII(s[si]) {
					si++
					pi += w
					continue
				}
			}
		}
		if starPi < 0 {
			return false
		}
		// Let the last % swallow one more character of s and retry.
		_, w := utf8.DecodeRuneInString(s[starSi:])
		starSi += w
		si, pi = starSi, starPi+1
	}
	for pi < len(pattern) && pattern[pi] == '%' {
		pi++
	}
	return pi == len(pattern)
}

func foldASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// WriteTable writes rows as the mysql command-line client prints SHOW
// output, with the column headers Variable_name and Value:
//
//	+------------------------------+-------+
//	| Variable_name                | Value |
//	+------------------------------+-------+
//	| rpl_semi_sync_source_enabled | ON    |
//	+------------------------------+-------+
func WriteTable(w io.Writer, rows []Row) error {
	const h1, h2 = "Variable_name", "Value"
	w1, w2 := len(h1), len(h2)
	for _, r := range rows {
		w1 = max(w1, utf8.RuneCountInString(r.Name))
		w2 = max(w2, utf8.RuneCountInString(r.Value))
	}
	var b strings.Builder
	rule := "+" + strings.Repeat("-", w1+2) + "+" + strings.Repeat("-", w2+2) + "+\n"
	line := func(a, v string) {
		b.WriteString("| ")
		b.WriteString(a)
		b.WriteString(strings.Repeat(" ", w1-utf8.RuneCountInString(a)))
		b.WriteString(" | ")
		b.WriteString(v)
		b.WriteString(strings.Repeat(" ", w2-utf8.RuneCountInString(v)))
		b.WriteString(" |\n")
	}
	b.WriteString(rule)
	line(h1, h2)
	b.WriteString(rule)
	for _, r := range rows {
		line(r.Name, r.Value)
	}
	b.WriteString(rule)
	_, err := io.WriteString(w, b.String())
	return err
}
