package vars

import (
	"errors"
	"strconv"
	"strings"
)

// Form says how an [Assignment]'s value was written, which decides the
// syntax it may use and, for SET statements, its SQL type.
type Form uint8

const (
	// FormText is plain text as a host or SHOW VARIABLES writes it: ON,
	// OFF, TRUE, FALSE, 1 or 0 for a boolean; an enum name or ordinal; a
	// decimal integer. The zero Form, for assignments a host builds.
	FormText Form = iota
	// FormOption is an option-file value: FormText, and integers may carry
	// one of MySQL's option-parser suffixes K, M, G, T, P or E (powers of
	// 1024).
	FormOption
	// FormWord is an unquoted (or backquoted) word in a SET statement:
	// ON, AFTER_SYNC. For an integer variable it is the wrong type, as in
	// MySQL. (The parser turns unquoted TRUE and FALSE, MySQL's literals
	// for 1 and 0, into FormInt.)
	FormWord
	// FormString is a quoted string literal in a SET statement. As in
	// MySQL, a boolean accepts only the names 'ON' and 'OFF' and an enum
	// only its names ('1' and 'TRUE' are not names); an integer variable
	// rejects it with [ErrWrongType], as MySQL does for SET GLOBAL x = '10'.
	FormString
	// FormInt is an integer literal in a SET statement, possibly with a
	// leading minus sign.
	FormInt
	// FormDecimal is a decimal or floating-point literal in a SET
	// statement (1.5, 1e3); every semisync variable rejects it with
	// [ErrWrongType].
	FormDecimal
)

var formNames = [...]string{"text", "option", "word", "string", "integer", "decimal"}

// String returns the form's name: "text", "option", "word", "string",
// "integer" or "decimal".
func (f Form) String() string {
	return enumName(formNames[:], f, "Form")
}

// parseBool reads a boolean as f allows, ignoring case: SET statements
// take the names ON and OFF as words or strings and the integers 0 and 1
// (unquoted TRUE and FALSE arrive as those); text and option files take all
// of ON, OFF, TRUE, FALSE, 1 and 0.
func parseBool(f Form, s string) (uint64, bool) {
	switch f {
	case FormString, FormWord:
		return nameIndex([]string{"OFF", "ON"}, s)
	case FormInt:
		return parseOrdinal(s, 2)
	}
	return parseAnyBool(s)
}

// nameIndex returns the index of s in names under ASCII case folding.
func nameIndex(names []string, s string) (uint64, bool) {
	if i := indexFold(names, s); i >= 0 {
		return uint64(i), true
	}
	return 0, false
}

// parseOrdinal reads a decimal integer below n (leading zeros allowed, as
// in an SQL integer literal; -0 is 0).
func parseOrdinal(s string, n int) (uint64, bool) {
	if rest, neg := strings.CutPrefix(s, "-"); neg && allDigits(rest) && strings.Trim(rest, "0") == "" {
		s = rest
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil && v < uint64(n)
}

// parseAnyBool reads every boolean spelling MySQL's option parser accepts.
func parseAnyBool(s string) (uint64, bool) {
	switch {
	case s == "1" || strings.EqualFold(s, "ON") || strings.EqualFold(s, "TRUE"):
		return 1, true
	case s == "0" || strings.EqualFold(s, "OFF") || strings.EqualFold(s, "FALSE"):
		return 0, true
	}
	return 0, false
}

// parseValue converts a's value to v's raw value and checks it against v's
// range. It does not look at a.Name or a.Scope.
func parseValue(v *Var, a Assignment) (uint64, error) {
	d, name := v.def, v.String()
	if a.Default {
		return v.lim.def, nil
	}
	if int(a.Form) >= len(formNames) {
		return 0, newError(ErrUnsupported, name, a.Value, "unknown value form "+a.Form.String())
	}
	if a.Form == FormDecimal {
		return 0, newError(ErrWrongType, name, a.Value, "decimal "+a.Value+" given; "+wants(d))
	}
	var raw uint64
	switch d.kind {
	case KindBool:
		var ok bool
		if raw, ok = parseBool(a.Form, a.Value); !ok {
			return 0, newError(ErrWrongValue, name, a.Value, boolWants[a.Form])
		}
	case KindEnum:
		var ok bool
		switch a.Form {
		case FormString, FormWord:
			raw, ok = nameIndex(d.enum, a.Value)
		case FormInt:
			raw, ok = parseOrdinal(a.Value, len(d.enum))
		default:
			if raw, ok = nameIndex(d.enum, a.Value); !ok {
				raw, ok = parseOrdinal(a.Value, len(d.enum))
			}
		}
		if !ok {
			return 0, newError(ErrWrongValue, name, a.Value,
				"want "+strings.Join(d.enum, " or ")+" (or 0.."+strconv.Itoa(len(d.enum)-1)+" unquoted)")
		}
	case KindUint:
		var err error
		if raw, err = parseUint(v, a); err != nil {
			return 0, err
		}
	}
	if err := checkRange(d, name, v.lim, raw, a.Value); err != nil {
		return 0, err
	}
	return raw, nil
}

// boolWants describes, per form, what a boolean accepts.
var boolWants = [...]string{
	FormText:    "want ON, OFF, TRUE, FALSE, 1 or 0",
	FormOption:  "want ON, OFF, TRUE, FALSE, 1 or 0",
	FormWord:    "want ON, OFF, TRUE, FALSE, 1 or 0",
	FormString:  "want 'ON' or 'OFF'",
	FormInt:     "want 1 or 0",
	FormDecimal: "want ON, OFF, 1 or 0",
}

// indexFold returns the index of the name in names equal to s under
// ASCII case folding, or -1.
func indexFold(names []string, s string) int {
	for i, n := range names {
		if strings.EqualFold(n, s) {
			return i
		}
	}
	return -1
}

// wants describes the values d accepts, for errors.
func wants(d *varDef) string {
	switch d.kind {
	case KindBool:
		return "a boolean is required"
	case KindEnum:
		return "one of " + strings.Join(d.enum, ", ") + " is required"
	}
	return "an unsigned integer is required"
}

// optionSuffixes are the multipliers MySQL's option parser accepts after an
// integer (my_getopt's eval_num_suffix): powers of 1024.
var optionSuffixes = [...]struct {
	c     byte
	shift uint
}{{'k', 10}, {'m', 20}, {'g', 30}, {'t', 40}, {'p', 50}, {'e', 60}}

// parseUint reads an unsigned integer as a's form allows.
func parseUint(v *Var, a Assignment) (uint64, error) {
	d, name, s := v.def, v.String(), a.Value
	switch a.Form {
	case FormWord:
		return 0, newError(ErrWrongType, name, s, "word "+s+" given; "+wants(d))
	case FormString:
		return 0, newError(ErrWrongType, name, s, "string '"+s+"' given; "+wants(d))
	}
	var shift uint
	if a.Form == FormOption && len(s) > 1 {
		c := s[len(s)-1] | 0x20 // ASCII lower case
		for _, sfx := range optionSuffixes {
			if c == sfx.c {
				s, shift = s[:len(s)-1], sfx.shift
				break
			}
		}
	}
	if rest, neg := strings.CutPrefix(s, "-"); neg {
		// Negative numbers are out of range for every semisync variable
		// (MySQL would clip them to the minimum); -0 is 0.
		if !allDigits(rest) {
			return 0, newError(ErrWrongValue, name, a.Value, wants(d))
		}
		if strings.Trim(rest, "0") != "" {
			return 0, rangeError(name, v.lim, a.Value)
		}
		s = rest
	}
	if !allDigits(s) {
		return 0, newError(ErrWrongValue, name, a.Value, wants(d))
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err == nil && shift > 0 {
		if n > ^uint64(0)>>shift {
			err = strconv.ErrRange
		}
		n <<= shift
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, rangeError(name, v.lim, a.Value)
	}
	if err != nil {
		return 0, newError(ErrWrongValue, name, a.Value, wants(d))
	}
	return n, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
