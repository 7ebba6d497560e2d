package digitmap

import (
	"strings"
	"testing"
)

// The reference below matches by plain recursion over the parsed
// positions, independently of the bitmask automaton, so that the fuzzers
// can compare the two.

// refMatch reports whether pos[i:] matches input exactly.
func refMatch(pos []position, i int, input []int) bool {
	if i == len(pos) {
		return len(input) == 0
	}
	e := pos[i]
	head := len(input) > 0 && e.set&(1<<input[0]) != 0
	if e.repeat {
		return refMatch(pos, i+1, input) || head && refMatch(pos, i, input[1:])
	}
	return head && refMatch(pos, i+1, input[1:])
}

// refExtends reports whether pos[i:] matches input followed by at least
// one dial symbol, with no T.
func refExtends(pos []position, i int, input []int) bool {
	if len(input) == 0 {
		return refFinish(pos, i, false)
	}
	if i == len(pos) {
		return false
	}
	e := pos[i]
	head := e.set&(1<<input[0]) != 0
	if e.repeat {
		return refExtends(pos, i+1, input) || head && refExtends(pos, i, input[1:])
	}
	return head && refExtends(pos, i+1, input[1:])
}

// refFinish reports whether dial symbols, at least one unless consumed,
// lead from position i to the end.
func refFinish(pos []position, i int, consumed bool) bool {
	if i == len(pos) {
		return consumed
	}
	e := pos[i]
	dial := e.set&dialSet != 0
	if e.repeat {
		return refFinish(pos, i+1, consumed) || dial && refFinish(pos, i+1, true)
	}
	return dial && refFinish(pos, i+1, true)
}

// refMayMatch reports whether dial symbols, optionally followed by T,
// extend input to a match.
func refMayMatch(pos []position, input []int) bool {
	if refExtends(pos, 0, input) {
		return true
	}
	for s := range numSyms {
		if s != symTimer && refPrefixT(pos, 0, append(input[:len(input):len(input)], s)) {
			return true
		}
	}
	return false
}

// refPrefixT reports whether pos[i:] matches input, then any dial
// symbols, then T.
func refPrefixT(pos []position, i int, input []int) bool {
	if len(input) == 0 {
		return refFinishT(pos, i)
	}
	if i == len(pos) {
		return false
	}
	e := pos[i]
	head := e.set&(1<<input[0]) != 0
	if e.repeat {
		return refPrefixT(pos, i+1, input) || head && refPrefixT(pos, i, input[1:])
	}
	return head && refPrefixT(pos, i+1, input[1:])
}

// refFinishT reports whether dial symbols and then T lead from position i
// to the end.
func refFinishT(pos []position, i int) bool {
	if i == len(pos) {
		return false
	}
	e := pos[i]
	if e.set&(1<<symTimer) != 0 && refMatch(pos, i+1, nil) {
		return true
	}
	if e.repeat { // consuming a dial symbol stays here; skipping covers it
		return refFinishT(pos, i+1)
	}
	return e.set&dialSet != 0 && refFinishT(pos, i+1)
}

func refResult(m *Map, digits string) (Result, bool) {
	var input []int
	for i := range len(digits) {
		s, ok := symbolOf(digits[i])
		if !ok || s == symTimer {
			return Result{}, false
		}
		input = append(input, s)
	}
	var full, extend, cont, timer bool
	for _, r := range m.rules {
		full = full || refMatch(r.pos, 0, input)
		extend = extend || refExtends(r.pos, 0, input)
		timer = timer || refMatch(r.pos, 0, append(input[:len(input):len(input)], symTimer))
		cont = cont || refMayMatch(r.pos, input)
	}
	switch {
	case full && !extend:
		return Result{Status: Complete}, full || timer
	case full:
		return Result{Status: Partial, Timer: true}, true
	case cont || timer:
		return Result{Status: Partial, Timer: timer}, timer
	}
	return Result{}, false
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{DefaultJapan, "x", "(1|2)", "[1-35-7#*]x.T", "(", "[5-1]", "1..", "A[bcT]d.t", " ( 1 | 2 ) "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m, err := Parse(text)
		if err != nil {
			se, ok := err.(*SyntaxError)
			if !ok || se.Offset < 0 || se.Offset > len(text) || m != nil {
				t.Fatalf("bad error %#v, map %v", err, m)
			}
			return
		}
		canon := m.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", canon, text, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form unstable: %q then %q", canon, again.String())
		}
		if len(again.rules) != len(m.rules) {
			t.Fatalf("rule count changed")
		}
		for i := range m.rules {
			if len(m.rules[i].pos) != len(again.rules[i].pos) {
				t.Fatalf("rule %d changed", i)
			}
			for j := range m.rules[i].pos {
				if m.rules[i].pos[j] != again.rules[i].pos[j] {
					t.Fatalf("rule %d position %d changed", i, j)
				}
			}
		}
	})
}

// FuzzMatch checks Match and Timeout against the recursive reference, and
// that a verdict never contradicts the verdicts on longer strings.
func FuzzMatch(f *testing.F) {
	f.Add(DefaultJapan, "0312345678")
	f.Add(DefaultJapan, "0101")
	f.Add("(1xx|1xxxx)", "110")
	f.Add("(1xx|x.T)", "110")
	f.Add("1T.", "1")
	f.Add("1[2T]", "1")
	f.Add("(x.#|*x.T)", "*12#")
	f.Fuzz(func(t *testing.T, text, digits string) {
		if len(text) > 200 || len(digits) > 24 {
			return // the reference is exponential in the worst case
		}
		m, err := Parse(text)
		if err != nil {
			return
		}
		got, timeout := m.Match(digits), m.Timeout(digits)
		want, wantTimeout := refResult(m, digits)
		if got != want || timeout != wantTimeout {
			t.Fatalf("%q on %q: got %v timeout %v, reference %v timeout %v", text, digits, got, timeout, want, wantTimeout)
		}
		if got.Status == Partial && got.Timer != timeout {
			t.Fatalf("%q on %q: Partial Timer %v but Timeout %v", text, digits, got.Timer, timeout)
		}
		if got.Status == Complete && !timeout {
			t.Fatalf("%q on %q: Complete but Timeout refuses", text, digits)
		}
		if got.Status == NoMatch && strings.Trim(digits, "0123456789*#ABCDabcd") == "" {
			for _, c := range "0123456789*#ABCD" {
				if next := m.Match(digits + string(c)); next.Status != NoMatch {
					t.Fatalf("%q: %q is NoMatch but %q is %v", text, digits, digits+string(c), next)
				}
			}
		}
	})
}
