package vars

import (
	"strconv"
	"strings"
)

// ErrorKind classifies an [Error]. The kinds are also the package's sentinel
// errors: every error this package returns for bad input is an *[Error] that
// matches exactly one of them with [errors.Is], for example
// errors.Is(err, vars.ErrOutOfRange). ErrorKind values are constants, so the
// sentinels cannot be reassigned.
type ErrorKind uint8

const (
	// ErrUnknownVariable means the name is not a variable of the registry's
	// flavor (MySQL error 1193, ER_UNKNOWN_SYSTEM_VARIABLE).
	ErrUnknownVariable ErrorKind = iota + 1
	// ErrWrongValue means the value is not one the variable accepts, such as
	// 'MAYBE' for a boolean (1231, ER_WRONG_VALUE_FOR_VAR).
	ErrWrongValue
	// ErrWrongType means the value has the wrong SQL type, such as a quoted
	// string or a decimal for an integer variable (1232,
	// ER_WRONG_TYPE_FOR_VAR).
	ErrWrongType
	// ErrOutOfRange means an integer is outside the variable's range. MySQL
	// clips such values with a warning; this package rejects them (1231).
	ErrOutOfRange
	// ErrReadOnly means an assignment would change a variable the host
	// pinned with [WithReadOnly] (1238, ER_INCORRECT_GLOBAL_LOCAL_VAR).
	ErrReadOnly
	// ErrGlobalOnly means a SESSION (or LOCAL, or unqualified) assignment was
	// made to a variable that is GLOBAL only, as every semisync variable is
	// (1229, ER_GLOBAL_VARIABLE).
	ErrGlobalOnly
	// ErrSyntax means the SET statement or option file cannot be parsed (1064,
	// ER_PARSE_ERROR).
	ErrSyntax
	// ErrUnsupported means the input uses MySQL syntax this package does not
	// implement, such as expressions, SET PERSIST_ONLY or !include (1235,
	// ER_NOT_SUPPORTED_YET).
	ErrUnsupported
)

var kindInfo = [...]struct {
	text string
	code uint16
}{
	ErrUnknownVariable: {"unknown variable", 1193},
	ErrWrongValue:      {"wrong value", 1231},
	ErrWrongType:       {"wrong argument type", 1232},
	ErrOutOfRange:      {"value out of range", 1231},
	ErrReadOnly:        {"read-only variable", 1238},
	ErrGlobalOnly:      {"global-only variable", 1229},
	ErrSyntax:          {"syntax error", 1064},
	ErrUnsupported:     {"unsupported", 1235},
}

func (k ErrorKind) valid() bool { return k > 0 && int(k) < len(kindInfo) }

// Error returns "vars: " and a short description of the kind.
func (k ErrorKind) Error() string {
	if !k.valid() {
		return "vars: ErrorKind(" + strconv.Itoa(int(k)) + ")"
	}
	return "vars: " + kindInfo[k].text
}

// Code returns the MySQL error number errors of this kind carry.
func (k ErrorKind) Code() uint16 {
	if !k.valid() {
		return 0
	}
	return kindInfo[k].code
}

// Error is the error this package returns for bad input. Its text follows
// MySQL's messages, prefixed with "vars: " and, for option files, the file
// name and line.
type Error struct {
	// Code is the MySQL error number ([ErrorKind.Code] of Kind).
	Code uint16
	// Kind classifies the error; errors.Is(err, Kind) holds.
	Kind ErrorKind
	// Var is the variable's name: its canonical lower-case name when the
	// variable is known, else the name as written. Empty for errors that
	// concern no variable (most syntax errors).
	Var string
	// Value is the offending value as written, if any.
	Value string
	// File and Line locate the error in an option file (File is the name
	// passed to [Registry.LoadOptionFile]). For a SET statement File is
	// empty and Line is the line of the statement the error is on.
	File string
	Line int
	// Detail explains the error further, for example the allowed range.
	Detail string
}

func newError(kind ErrorKind, name, value, detail string) *Error {
	return &Error{Code: kind.Code(), Kind: kind, Var: name, Value: value, Detail: detail}
}

// Is reports whether target is e's Kind, so that errors.Is(err,
// vars.ErrOutOfRange) works.
func (e *Error) Is(target error) bool {
	k, ok := target.(ErrorKind)
	return ok && k == e.Kind
}

// Error formats e in the spirit of MySQL's message for e.Code.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("vars: ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	switch e.Kind {
	case ErrUnknownVariable:
		b.WriteString("Unknown system variable '" + e.Var + "'")
	case ErrWrongValue, ErrOutOfRange:
		b.WriteString("Variable '" + e.Var + "' can't be set to the value of '" + e.Value + "'")
	case ErrWrongType:
		b.WriteString("Incorrect argument type to variable '" + e.Var + "'")
	case ErrReadOnly:
		b.WriteString("Variable '" + e.Var + "' is a read only variable")
		if e.Value != "" {
			b.WriteString(" (cannot set it to '" + e.Value + "')")
		}
	case ErrGlobalOnly:
		b.WriteString("Variable '" + e.Var + "' is a GLOBAL variable and should be set with SET GLOBAL")
	case ErrSyntax:
		if e.File == "" {
			b.WriteString("You have an error in your SQL syntax")
		} else {
			b.WriteString("syntax error")
		}
	case ErrUnsupported:
		if e.Var != "" {
			b.WriteString("Setting variable '" + e.Var + "' to '" + e.Value + "' is not supported")
		} else {
			b.WriteString("not supported")
		}
	default:
		b.WriteString(e.Kind.Error())
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.File == "" && e.Line > 0 {
		b.WriteString(" at line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	return b.String()
}

// at sets the location of e if it has none yet and returns e.
func (e *Error) at(file string, line int) *Error {
	if e.File == "" && e.Line == 0 {
		e.File, e.Line = file, line
	}
	return e
}
