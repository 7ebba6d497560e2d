package atline_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/atline"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		want atline.Message
	}{
		{"OFFHOOK", atline.Message{Kind: atline.KindOffHook}},
		{"ONHOOK\r\n", atline.Message{Kind: atline.KindOnHook}},
		{"FLASH\n", atline.Message{Kind: atline.KindFlash}},
		{"DIGIT 0\r", atline.Message{Kind: atline.KindDigit, Digit: 0}},
		{"DIGIT 9", atline.Message{Kind: atline.KindDigit, Digit: 9}},
		{"digit 5", atline.Message{Kind: atline.KindDigit, Digit: 5}},
		{"  DIGIT   7  ", atline.Message{Kind: atline.KindDigit, Digit: 7}},
		{"OK", atline.Message{Kind: atline.KindOK}},
		{"ERROR", atline.Message{Kind: atline.KindError}},
		{"ERROR ring relay stuck", atline.Message{Kind: atline.KindError, Text: "ring relay stuck"}},
		{"READY", atline.Message{Kind: atline.KindReady}},
		{"READY kurodenwa-arduino 1.2 ", atline.Message{Kind: atline.KindReady, Text: "kurodenwa-arduino 1.2"}},
		{"AT", atline.Message{Kind: atline.KindPing}},
		{"at", atline.Message{Kind: atline.KindPing}},
		{"RING", atline.Message{Kind: atline.KindRing}},
		{"RingStop", atline.Message{Kind: atline.KindRingStop}},
		{"REVERSE", atline.Message{Kind: atline.KindReverse}},
		{"TALK", atline.Message{Kind: atline.KindTalk}},
		{"IDLE", atline.Message{Kind: atline.KindIdle}},
		{strings.Repeat(" ", 60) + "OK", atline.Message{Kind: atline.KindOK}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := atline.ParseLine([]byte(tt.line))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseLineErrors(t *testing.T) {
	tests := []struct {
		line   string
		err    error
		column int
	}{
		{"", atline.ErrEmptyLine, 1},
		{"   \r\n", atline.ErrEmptyLine, 1},
		{"HELLO", atline.ErrUnknownWord, 1},
		{"  OFF HOOK", atline.ErrUnknownWord, 3},
		{"OKAY", atline.ErrUnknownWord, 1},
		{"DIGIT", atline.ErrMissingArgument, 6},
		{"DIGIT   ", atline.ErrMissingArgument, 6},
		{"DIGIT 10", atline.ErrBadDigit, 7},
		{"DIGIT x", atline.ErrBadDigit, 7},
		{"DIGIT -1", atline.ErrBadDigit, 7},
		{"OFFHOOK now", atline.ErrUnexpectedArgument, 9},
		{"AT 1", atline.ErrUnexpectedArgument, 4},
		{"OK\x00", atline.ErrBadByte, 3},
		{"\tOK", atline.ErrBadByte, 1},
		{"DIGIT 5\r\r", atline.ErrBadByte, 8},
		{"READY \xe9", atline.ErrBadByte, 7},
		{"OK\x7f", atline.ErrBadByte, 3},
		{strings.Repeat("A", 65), atline.ErrLineTooLong, 65},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, err := atline.ParseLine([]byte(tt.line))
			require.ErrorIs(t, err, tt.err)
			var se *atline.SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.column, se.Column)
			assert.LessOrEqual(t, len(se.Line), atline.MaxLineLen)
			assert.Contains(t, err.Error(), "column")
		})
	}
}

func TestAppendText(t *testing.T) {
	tests := []struct {
		msg  atline.Message
		want string
	}{
		{atline.Message{Kind: atline.KindPing}, "AT"},
		{atline.Message{Kind: atline.KindRingStop}, "RINGSTOP"},
		{atline.Message{Kind: atline.KindDigit, Digit: 0}, "DIGIT 0"},
		{atline.Message{Kind: atline.KindError, Text: "no line voltage"}, "ERROR no line voltage"},
		{atline.Message{Kind: atline.KindReady}, "READY"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			b, err := tt.msg.AppendText([]byte("> "))
			require.NoError(t, err)
			assert.Equal(t, "> "+tt.want, string(b))
			assert.Equal(t, tt.want, tt.msg.String())
			var back atline.Message
			require.NoError(t, back.UnmarshalText(b[2:]))
			assert.Equal(t, tt.msg, back)
		})
	}
}

func TestAppendTextErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  atline.Message
	}{
		{"zero", atline.Message{}},
		{"unknown kind", atline.Message{Kind: 99}},
		{"digit 10", atline.Message{Kind: atline.KindDigit, Digit: 10}},
		{"negative digit", atline.Message{Kind: atline.KindDigit, Digit: -1}},
		{"digit on OK", atline.Message{Kind: atline.KindOK, Digit: 3}},
		{"text on RING", atline.Message{Kind: atline.KindRing, Text: "x"}},
		{"control text", atline.Message{Kind: atline.KindError, Text: "a\nOK"}},
		{"spaced text", atline.Message{Kind: atline.KindError, Text: " x"}},
		{"long text", atline.Message{Kind: atline.KindReady, Text: strings.Repeat("v", 59)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.msg.AppendText([]byte("keep"))
			require.ErrorIs(t, err, atline.ErrBadMessage)
			assert.Equal(t, "keep", string(b), "nothing appended on error")
			assert.Contains(t, tt.msg.String(), "invalid")
		})
	}
	// The longest valid line is exactly MaxLineLen.
	_, err := atline.Message{Kind: atline.KindReady, Text: strings.Repeat("v", 58)}.MarshalText()
	require.NoError(t, err)
}

func TestKindClasses(t *testing.T) {
	for k := atline.KindOffHook; k <= atline.KindIdle; k++ {
		n := 0
		for _, is := range []bool{k.IsEvent(), k.IsReply(), k.IsCommand()} {
			if is {
				n++
			}
		}
		assert.Equal(t, 1, n, "%v belongs to exactly one class", k)
	}
	assert.Equal(t, "Kind(0)", atline.Kind(0).String())
}
