// Package atline speaks the line protocol between the Pi and the Arduino
// that drives the telephone line: events and replies from the Arduino,
// AT-style commands from the Pi. PROTOCOL.md describes the wire format.
package atline

import (
	"bytes"
	"errors"
	"fmt"
)

// MaxLineLen is the longest line, terminator excluded, either side sends.
const MaxLineLen = 64

// Kind is the word a line starts with.
type Kind uint8

// Arduino → Pi: events. Events arrive unsolicited, also between a command
// and its reply.
const (
	KindOffHook Kind = iota + 1 // OFFHOOK: the handset was lifted
	KindOnHook                  // ONHOOK: the handset was put down
	KindFlash                   // FLASH: a hook flash
	KindDigit                   // DIGIT n: a dialled digit, n in 0–9
	KindReady                   // READY [version]: the Arduino (re)started
	// Arduino → Pi: replies, one per command.
	KindOK    // OK
	KindError // ERROR [text]
	// Pi → Arduino: commands.
	KindPing     // AT: do nothing, answer OK
	KindRing     // RING: ring the bell with the ringing cadence
	KindRingStop // RINGSTOP: stop ringing
	KindReverse  // REVERSE: reverse the loop polarity
	KindTalk     // TALK: connect the speech path
	KindIdle     // IDLE: back to the idle line state
)

// String returns the protocol word, e.g. "OFFHOOK".
func (k Kind) String() string {
	switch k {
	case KindOffHook:
		return "OFFHOOK"
	case KindOnHook:
		return "ONHOOK"
	case KindFlash:
		return "FLASH"
	case KindDigit:
		return "DIGIT"
	case KindReady:
		return "READY"
	case KindOK:
		return "OK"
	case KindError:
		return "ERROR"
	case KindPing:
		return "AT"
	case KindRing:
		return "RING"
	case KindRingStop:
		return "RINGSTOP"
	case KindReverse:
		return "REVERSE"
	case KindTalk:
		return "TALK"
	case KindIdle:
		return "IDLE"
	default:
		return fmt.Sprintf("Kind(%d)", uint8(k))
	}
}

func (k Kind) valid() bool { return k >= KindOffHook && k <= KindIdle }

// IsEvent reports whether k is an unsolicited message from the Arduino.
func (k Kind) IsEvent() bool { return k >= KindOffHook && k <= KindReady }

// IsReply reports whether k answers a command.
func (k Kind) IsReply() bool { return k == KindOK || k == KindError }

// IsCommand reports whether k is sent by the Pi.
func (k Kind) IsCommand() bool { return k >= KindPing && k <= KindIdle }

// takesText reports whether k carries optional free text.
func (k Kind) takesText() bool { return k == KindError || k == KindReady }

// Message is one protocol line.
type Message struct {
	Kind  Kind
	Digit int    // KindDigit: 0–9
	Text  string // KindError: reason; KindReady: firmware version; may be empty
}

// String returns the line as sent, or a description if m is invalid.
func (m Message) String() string {
	b, err := m.AppendText(nil)
	if err != nil {
		return fmt.Sprintf("invalid %v message", m.Kind)
	}
	return string(b)
}

// Errors wrapped by SyntaxError (from ParseLine and Reader) and by
// AppendText.
var (
	ErrEmptyLine          = errors.New("empty line")
	ErrLineTooLong        = fmt.Errorf("line longer than %d bytes", MaxLineLen)
	ErrBadByte            = errors.New("control character or non-ASCII byte")
	ErrUnknownWord        = errors.New("unknown word")
	ErrBadDigit           = errors.New("digit must be one of 0-9")
	ErrMissingArgument    = errors.New("missing argument")
	ErrUnexpectedArgument = errors.New("unexpected argument")
	ErrBadMessage         = errors.New("atline: message cannot be encoded")
)

// SyntaxError is a line that is not a valid message. It concerns that line
// only: a Reader stays in step and reads the next one.
type SyntaxError struct {
	Line   string // the line, cut to MaxLineLen bytes
	Column int    // 1-based column of the problem
	Err    error  // one of the Err* values above
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("atline: %v at column %d of %q", e.Err, e.Column, e.Line)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

func syntaxError(line []byte, column int, err error) *SyntaxError {
	return &SyntaxError{Line: string(line[:min(len(line), MaxLineLen)]), Column: column, Err: err}
}

// printable reports whether c may appear inside a line.
func printable(c byte) bool { return c >= 0x20 && c < 0x7f }

// ParseLine parses one line. A single trailing CR, LF or CRLF is allowed;
// words are case-insensitive, and spaces around the word and argument are
// ignored. Errors are *SyntaxError values.
func ParseLine(line []byte) (Message, error) {
	raw := line
	switch {
	case bytes.HasSuffix(line, []byte("\r\n")):
		line = line[:len(line)-2]
	case bytes.HasSuffix(line, []byte("\n")), bytes.HasSuffix(line, []byte("\r")):
		line = line[:len(line)-1]
	}
	if len(line) > MaxLineLen {
		return Message{}, syntaxError(raw, MaxLineLen+1, ErrLineTooLong)
	}
	for i, c := range line {
		if !printable(c) {
			return Message{}, syntaxError(raw, i+1, ErrBadByte)
		}
	}
	start := 0
	for start < len(line) && line[start] == ' ' {
		start++
	}
	end := bytes.IndexByte(line[start:], ' ')
	if end < 0 {
		end = len(line)
	} else {
		end += start
	}
	word := line[start:end]
	if len(word) == 0 {
		return Message{}, syntaxError(raw, 1, ErrEmptyLine)
	}
	argStart := end
	for argStart < len(line) && line[argStart] == ' ' {
		argStart++
	}
	arg := bytes.TrimRight(line[argStart:], " ")

	m := Message{Kind: lookup(word)}
	switch {
	case m.Kind == 0:
		return Message{}, syntaxError(raw, start+1, ErrUnknownWord)
	case m.Kind == KindDigit:
		if len(arg) == 0 {
			return Message{}, syntaxError(raw, end+1, ErrMissingArgument)
		}
		if len(arg) != 1 || arg[0] < '0' || arg[0] > '9' {
			return Message{}, syntaxError(raw, argStart+1, ErrBadDigit)
		}
		m.Digit = int(arg[0] - '0')
	case m.Kind.takesText():
		m.Text = string(arg)
	case len(arg) > 0:
		return Message{}, syntaxError(raw, argStart+1, ErrUnexpectedArgument)
	}
	return m, nil
}

// lookup finds a word case-insensitively, or returns 0.
func lookup(word []byte) Kind {
	for k := KindOffHook; k <= KindIdle; k++ {
		if bytes.EqualFold(word, []byte(k.String())) {
			return k
		}
	}
	return 0
}

// UnmarshalText parses a line as ParseLine does.
func (m *Message) UnmarshalText(line []byte) error {
	parsed, err := ParseLine(line)
	if err != nil {
		return err
	}
	*m = parsed
	return nil
}

// AppendText appends the line for m, without terminator, to b. It fails
// with ErrBadMessage if ParseLine could not read the result back as m.
func (m Message) AppendText(b []byte) ([]byte, error) {
	if !m.Kind.valid() {
		return b, fmt.Errorf("%w: unknown kind %d", ErrBadMessage, uint8(m.Kind))
	}
	if m.Kind != KindDigit && m.Digit != 0 {
		return b, fmt.Errorf("%w: %v carries no digit", ErrBadMessage, m.Kind)
	}
	if !m.Kind.takesText() && m.Text != "" {
		return b, fmt.Errorf("%w: %v carries no text", ErrBadMessage, m.Kind)
	}
	n := len(b)
	b = append(b, m.Kind.String()...)
	switch {
	case m.Kind == KindDigit:
		if m.Digit < 0 || m.Digit > 9 {
			return b[:n], fmt.Errorf("%w: digit %d", ErrBadMessage, m.Digit)
		}
		b = append(b, ' ', byte('0'+m.Digit))
	case m.Text != "":
		for i := range len(m.Text) {
			if !printable(m.Text[i]) {
				return b[:n], fmt.Errorf("%w: text byte 0x%02X is not printable ASCII", ErrBadMessage, m.Text[i])
			}
		}
		if m.Text[0] == ' ' || m.Text[len(m.Text)-1] == ' ' {
			return b[:n], fmt.Errorf("%w: text %q has surrounding spaces", ErrBadMessage, m.Text)
		}
		b = append(b, ' ')
		b = append(b, m.Text...)
	}
	if len(b)-n > MaxLineLen {
		return b[:n], fmt.Errorf("%w: line of %d bytes exceeds %d", ErrBadMessage, len(b)-n, MaxLineLen)
	}
	return b, nil
}

// MarshalText returns the line for m without terminator.
func (m Message) MarshalText() ([]byte, error) { return m.AppendText(nil) }
