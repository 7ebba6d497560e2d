package media

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Event is one RFC 4733 telephone-event payload (§2.3):
//
//	 0                   1                   2                   3
//	|     event     |E|R| volume    |          duration             |
type Event struct {
	Code     uint8  // 0–9, 10 '*', 11 '#', 12–15 'A'–'D', 16 flash
	End      bool   // the E bit: last packet(s) of the event
	Volume   uint8  // 0–63, in −dBm0
	Duration uint16 // in timestamp units (samples at 8 kHz)
}

// EventSize is the size of an event payload.
const EventSize = 4

// EventFlash is RFC 4733's hook-flash event; Asterisk reads it as a flash.
const EventFlash = 16

var errShortEvent = errors.New("rfc4733: payload shorter than 4 bytes")

// ParseEvent decodes an event payload. Extra bytes (several events in one
// packet, RFC 4733 §2.5.1.5) are ignored but the first.
func ParseEvent(b []byte) (Event, error) {
	if len(b) < EventSize {
		return Event{}, errShortEvent
	}
	return Event{
		Code:     b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:4]),
	}, nil
}

// Append appends the event's payload to b.
func (e Event) Append(b []byte) []byte {
	flags := e.Volume & 0x3f
	if e.End {
		flags |= 0x80
	}
	return append(b, e.Code, flags, byte(e.Duration>>8), byte(e.Duration))
}

// DigitCode maps a digit (0-9 * # A-D, case-insensitive) to its event code.
func DigitCode(d byte) (uint8, error) {
	switch {
	case d >= '0' && d <= '9':
		return d - '0', nil
	case d == '*':
		return 10, nil
	case d == '#':
		return 11, nil
	case d >= 'A' && d <= 'D':
		return 12 + d - 'A', nil
	case d >= 'a' && d <= 'd':
		return 12 + d - 'a', nil
	}
	return 0, fmt.Errorf("rfc4733: %q is not a DTMF digit (0-9 * # A-D)", d)
}

// CodeDigit maps an event code to its digit; ok is false for codes that
// are not DTMF digits (flash and the line events).
func CodeDigit(code uint8) (byte, bool) {
	switch {
	case code <= 9:
		return '0' + code, true
	case code == 10:
		return '*', true
	case code == 11:
		return '#', true
	case code >= 12 && code <= 15:
		return 'A' + code - 12, true
	}
	return 0, false
}
