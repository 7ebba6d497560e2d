package digitmap_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/digitmap"
)

var (
	noMatch  = digitmap.Result{Status: digitmap.NoMatch}
	partial  = digitmap.Result{Status: digitmap.Partial}
	timer    = digitmap.Result{Status: digitmap.Partial, Timer: true}
	complete = digitmap.Result{Status: digitmap.Complete}
)

func TestParseCanonical(t *testing.T) {
	tests := []struct {
		in, want string
		rules    int
	}{
		{"x", "x", 1},
		{"(x)", "x", 1},
		{"1xx", "1xx", 1},
		{"( 1xx | 0[1-9]x.T )", "(1xx|0[1-9]x.T)", 2},
		{"[0-9]", "x", 1},
		{"[135]", "[135]", 1},
		{"[1-5]", "[1-5]", 1},
		{"[12]", "[12]", 1},
		{"[5-5]", "5", 1},
		{"[1-35-7#*]", "[1-35-7*#]", 1},
		{"[9876]", "[6-9]", 1},
		{"[aD]t", "[AD]T", 1},
		{"X.t", "x.T", 1},
		{"*xx|#x.|ABCD", "(*xx|#x.|ABCD)", 3},
		{"1\n|\t2", "(1|2)", 2},
		{digitmap.DefaultJapan, digitmap.DefaultJapan, 7},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := digitmap.Parse(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, m.String())
			assert.Equal(t, tt.rules, m.Len())
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		column int
		msg    string
	}{
		{"", 1, "empty digit map"},
		{"  ", 3, "empty digit map"},
		{"()", 2, "empty rule"},
		{"1||2", 3, "empty rule"},
		{"|1", 1, "empty rule"},
		{"1|", 3, "empty rule"},
		{"(1|2", 1, "'(' is never closed"},
		{"1|2)", 4, "')' without '('"},
		{"(1)2", 4, `unexpected '2' after the closing ')'`},
		{"1(2)", 2, "'(' is only allowed around the whole map"},
		{".1", 1, "'.' must follow a position"},
		{"1..", 3, "'.' repeats a position that already repeats"},
		{"12e", 3, `unexpected 'e'; want a digit`},
		{"1\x00", 2, "unexpected byte 0x00"},
		{"１", 1, "unexpected byte 0xEF"},
		{"[", 1, "'[' is never closed"},
		{"[12", 1, "'[' is never closed"},
		{"[]", 1, "empty set '[]'"},
		{"[-5]", 2, "'-' needs a digit on each side"},
		{"[1-]", 3, "'-' needs a digit on each side"},
		{"[1-#]", 3, "'-' needs a digit on each side"},
		{"[#-5]", 3, "'-' needs a digit on each side"},
		{"[5-1]", 2, "range 5-1 runs backwards"},
		{"[x]", 2, "'x' inside '[ ]'; write 0-9"},
		{"[1[2]]", 3, "unexpected '[' inside '[ ]'"},
		{"[1.]", 3, "unexpected '.' inside '[ ]'"},
		{"[1q]", 3, "unexpected 'q' inside '[ ]'"},
		{"0123456789012345678901234567890123456789012345678901234567890123", 64, "more than 63 positions"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := digitmap.Parse(tt.in)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, digitmap.ErrSyntax)
			var se *digitmap.SyntaxError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, tt.column, se.Offset+1, "column")
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		dmap   string
		digits string
		want   digitmap.Result
		// timeout is what Timeout says for the same digits.
		timeout bool
	}{
		{"exact", "1xx", "110", complete, true},
		{"too short", "1xx", "11", partial, false},
		{"nothing yet", "1xx", "", partial, false},
		{"too long", "1xx", "1100", noMatch, false},
		{"wrong first digit", "1xx", "2", noMatch, false},
		{"set", "[135]", "3", complete, true},
		{"not in set", "[135]", "2", noMatch, false},
		{"range", "0[1-9]", "05", complete, true},
		{"not in range", "0[1-9]", "00", noMatch, false},
		{"letters", "*7[AD]#", "*7d#", complete, true},
		{"T needs the timer", "xxT", "12", timer, true},
		{"T rule too short", "xxT", "1", partial, false},
		{"repeat zero times", "01x.", "01", timer, true},
		{"repeat zero times, T", "010x.T", "010", timer, true},
		{"repeat many, T", "010x.T", "0101234", timer, true},
		{"repeat, not yet", "010x.T", "01", partial, false},
		{"the ATA convention", "(1xx|1xxxx)", "110", timer, true},
		{"the ATA convention, longer", "(1xx|1xxxx)", "1101", partial, false},
		{"the ATA convention, longest", "(1xx|1xxxx)", "11012", complete, true},
		{"T rules do not hold back", "(1xx|x.T)", "110", complete, true},
		{"T rule alone", "(1xx|x.T)", "1101", timer, true},
		{"rule order is irrelevant", "(x.T|1xx)", "110", complete, true},
		{"T then digit never matches", "1T2", "1", noMatch, false},
		{"repeated T", "1T.", "1", complete, true},
		{"open repeat without T", "0x.", "0123", timer, true},
		{"T in a set", "1[2T]", "1", timer, true},
		{"T is not a dial symbol", "x.T", "1T", noMatch, false},
		{"other bytes", "x.T", "1 2", noMatch, false},
		{"lowercase letters dial", "A", "a", complete, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := digitmap.Parse(tt.dmap)
			require.NoError(t, err)
			assert.Equal(t, tt.want, m.Match(tt.digits))
			assert.Equal(t, tt.timeout, m.Timeout(tt.digits))
		})
	}
}

func TestDefaultJapan(t *testing.T) {
	m, err := digitmap.Parse(digitmap.DefaultJapan)
	require.NoError(t, err)
	tests := []struct {
		digits  string
		want    digitmap.Result
		timeout bool
	}{
		{"", timer, true},
		{"0", timer, true},
		// 0ABJ: ten digits, complete at once.
		{"031234567", timer, true},
		{"0312345678", complete, true},
		{"0612345678", complete, true},
		{"0570123456", complete, true},
		{"0120123456", complete, true},
		// 020, 050–090: eleven digits, not complete at ten.
		{"0901234567", timer, true},
		{"09012345678", complete, true},
		{"05012345678", complete, true},
		{"02012345678", complete, true},
		{"0800123456", timer, true},
		{"08001234567", complete, true},
		// International: open-ended, dialled on timeout.
		{"010", timer, true},
		{"0101", timer, true},
		{"01044207946000", timer, true},
		// Service codes.
		{"1", timer, true},
		{"11", timer, true},
		{"110", complete, true},
		{"119", complete, true},
		{"177", complete, true},
		// Extensions and hobby exchange numbers.
		{"2", timer, true},
		{"2001", timer, true},
		{"99999999999999", timer, true},
		// Longer than a national number: only the catch-all is left.
		{"031234567890", timer, true},
		// Not a dial string at all.
		{"03-1234", noMatch, false},
	}
	for _, tt := range tests {
		t.Run(tt.digits, func(t *testing.T) {
			assert.Equal(t, tt.want, m.Match(tt.digits))
			assert.Equal(t, tt.timeout, m.Timeout(tt.digits))
		})
	}
}

// TestJapanWithoutCatchAll shows the national rules alone: an incomplete
// number is refused on timeout instead of being dialled.
func TestJapanWithoutCatchAll(t *testing.T) {
	m, err := digitmap.Parse("(0[1-9][1-9]xxxxxxx|0[25-9]0xxxxxxxx|010x.T|1xx)")
	require.NoError(t, err)
	assert.Equal(t, partial, m.Match("090123"))
	assert.False(t, m.Timeout("090123"))
	assert.Equal(t, noMatch, m.Match("2"))
	assert.Equal(t, noMatch, m.Match("1100"))
	assert.Equal(t, noMatch, m.Match("03123456789"))
	assert.Equal(t, noMatch, m.Match("030"))
}

func TestNilMap(t *testing.T) {
	var m *digitmap.Map
	assert.Equal(t, noMatch, m.Match("1"))
	assert.False(t, m.Timeout("1"))
	assert.Equal(t, 0, m.Len())
	assert.Equal(t, "", m.String())
}

func TestStatusString(t *testing.T) {
	assert.Equal(t, "no match", digitmap.NoMatch.String())
	assert.Equal(t, "partial", digitmap.Partial.String())
	assert.Equal(t, "complete", digitmap.Complete.String())
	assert.Equal(t, "Status(9)", digitmap.Status(9).String())
}

func BenchmarkMatch(b *testing.B) {
	m, err := digitmap.Parse(digitmap.DefaultJapan)
	if err != nil {
		b.Fatal(err)
	}
	const number = "09012345678"
	b.ReportAllocs()
	for b.Loop() {
		// What a caller does: judge after every digit.
		for i := 1; i <= len(number); i++ {
			m.Match(number[:i])
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := digitmap.Parse(digitmap.DefaultJapan); err != nil {
			b.Fatal(err)
		}
	}
}
