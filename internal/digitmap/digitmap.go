// Package digitmap parses and matches MGCP digit maps (RFC 3435 section
// 2.1.5), the dial plans ATAs use to decide when a number is complete.
//
// Syntax, case-insensitive, with spaces, tabs and newlines ignored:
//
//	map      = rules / "(" rules ")"
//	rules    = rule *( "|" rule )
//	rule     = 1*( position [ "." ] )
//	position = letter / "x" / "[" 1*( letter / digit "-" digit ) "]"
//	letter   = "0"-"9" / "*" / "#" / "A"-"D" / "T"
//
// "x" is any digit 0–9, "[135]" and "[1-5]" are sets, "." repeats the
// preceding position zero or more times, and "T" matches the expiry of the
// inter-digit timer.
package digitmap

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// DefaultJapan is a digit map for the Japanese numbering plan:
//
//	0[1-9][1-9]xxxxxxx   0ABJ numbers: 0 + 9 digits, e.g. 03-1234-5678
//	0[25-9]0xxxxxxxx     020 M2M, 050 IP, 060/070/080/090 mobile: 11 digits
//	0120xxxxxx           free dial, 10 digits (also covered by 0ABJ)
//	0800xxxxxxx          free dial, 11 digits (also covered by 0[25-9]0)
//	010x.T               international: 010, country code, number, timer
//	1xx                  service codes: 110, 117, 119, 177, ...
//	x.T                  anything else, on timeout: extensions and hobby
//	                     exchange numbers, whose length varies
//
// A third digit 0 never starts a 10-digit number (010 is the international
// prefix, the others are 11 digits), which keeps 0ABJ from completing one
// digit early on 090... or 0800....
//
// With Match's rules, numbers starting with 0 complete as soon as they
// reach their length and 1xx completes at three digits, so extensions
// cannot start with 1; everything else is dialled when the timer expires.
// Beware that x.T also accepts, on timeout, a 0 number left incomplete.
const DefaultJapan = "(0[1-9][1-9]xxxxxxx|0[25-9]0xxxxxxxx|0120xxxxxx|0800xxxxxxx|010x.T|1xx|x.T)"

// MaxPositions is the most positions one rule may have.
const MaxPositions = 63

// Symbols are numbered 0–9 for the digits, then *, #, A–D, and T.
const (
	symStar  = 10
	symHash  = 11
	symA     = 12
	symTimer = 16
	numSyms  = 17
)

// symSet is a set of symbols, bit i for symbol i.
type symSet uint32

const (
	digitSet symSet = 1<<10 - 1                    // 0–9, what "x" matches
	dialSet  symSet = 1<<numSyms - 1 - 1<<symTimer // everything but T
)

// symbolOf returns the symbol of a letter, case-insensitively.
func symbolOf(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c == '*':
		return symStar, true
	case c == '#':
		return symHash, true
	case c >= 'A' && c <= 'D':
		return symA + int(c-'A'), true
	case c >= 'a' && c <= 'd':
		return symA + int(c-'a'), true
	case c == 'T' || c == 't':
		return symTimer, true
	}
	return 0, false
}

const symbolText = "0123456789*#ABCDT"

// position is one element of a rule.
type position struct {
	set    symSet
	repeat bool // followed by "."
}

// rule is one alternative, compiled for NFA matching. A state is a bitmask
// of positions 0..n; bit n means the whole rule has matched.
type rule struct {
	pos []position
	n   uint
	// match[s] holds the positions whose set contains symbol s.
	match [numSyms]uint64
	// repeat holds the positions followed by ".".
	repeat uint64
	// extend holds the positions from which one more dial symbol can lead
	// to a match without T; extendAny also counts matches that end in T.
	extend, extendAny uint64
}

func compile(pos []position) rule {
	r := rule{pos: pos, n: uint(len(pos))}
	for p, e := range pos {
		if e.repeat {
			r.repeat |= 1 << p
		}
		for s := range numSyms {
			if e.set&(1<<s) != 0 {
				r.match[s] |= 1 << p
			}
		}
	}
	// Backward pass over positions: fin0[p] if a string of dial symbols
	// leads from p to the end, finT[p] if such a string followed by one T
	// does, eps[p] if the end is reachable by skipping repeats only.
	n := len(pos)
	fin0, finT, eps := make([]bool, n+1), make([]bool, n+1), make([]bool, n+1)
	fin0[n], eps[n] = true, true
	for p := n - 1; p >= 0; p-- {
		e := pos[p]
		dial, timer := e.set&dialSet != 0, e.set&(1<<symTimer) != 0
		if e.repeat {
			fin0[p] = fin0[p+1]
			finT[p] = finT[p+1] || timer && eps[p+1]
			eps[p] = eps[p+1]
		} else {
			fin0[p] = dial && fin0[p+1]
			finT[p] = dial && finT[p+1] || timer && eps[p+1]
		}
	}
	for p, e := range pos {
		if e.set&dialSet == 0 {
			continue
		}
		next := p + 1
		if e.repeat {
			next = p
		}
		if fin0[next] {
			r.extend |= 1 << p
		}
		if fin0[next] || finT[next] {
			r.extendAny |= 1 << p
		}
	}
	return r
}

// closure adds the positions reachable by skipping repeated positions.
func (r *rule) closure(s uint64) uint64 {
	for rep := r.repeat; rep != 0; rep &= rep - 1 {
		p := bits.TrailingZeros64(rep) // ascending, so skips chain
		if s&(1<<p) != 0 {
			s |= 1 << (p + 1)
		}
	}
	return s
}

func (r *rule) start() uint64 { return r.closure(1) }

func (r *rule) step(s uint64, sym int) uint64 {
	hits := s & r.match[sym]
	return r.closure(hits&r.repeat | (hits&^r.repeat)<<1)
}

func (r *rule) full(s uint64) bool { return s&(1<<r.n) != 0 }

// Map is a parsed digit map. It is immutable and safe for concurrent use.
type Map struct {
	rules []rule
}

// Status is the verdict of Match.
type Status uint8

const (
	// NoMatch: no rule can match, whatever follows. Play the error tone.
	NoMatch Status = iota
	// Partial: more digits, or the timer, may complete a match.
	Partial
	// Complete: the digits match and waiting cannot change that. Dial.
	Complete
)

func (s Status) String() string {
	switch s {
	case NoMatch:
		return "no match"
	case Partial:
		return "partial"
	case Complete:
		return "complete"
	default:
		return fmt.Sprintf("Status(%d)", uint8(s))
	}
}

// Result is the verdict on the digits dialled so far.
type Result struct {
	Status Status
	// Timer, for Partial only, says that Timeout would accept the digits
	// now: arm the short inter-digit timer. Without it, arm the long timer,
	// whose expiry means the number is incomplete.
	Timer bool
}

// Match judges the digits dialled so far ("0"–"9", "*", "#", "A"–"D";
// any other byte, T included, gives NoMatch). Let a rule match the digits
// "fully" if it matches them with no T, "by timer" if it matches them
// followed by T, and "extend" them if it fully matches the digits followed
// by at least one more dial symbol.
//
//   - Complete: some rule matches fully and no rule extends. Rules that
//     need T to match a longer string do not hold a full match back: the
//     timer only fires in silence, and a full match need not wait for it.
//     So with "1xx|x.T", 110 is Complete at once.
//   - Partial with Timer: some rule matches fully and another extends it
//     (the ATA convention: with "1xx|1xxxx", 110 waits for the short timer
//     and is dialled on expiry unless more digits come); or no rule matches
//     fully but one matches by timer.
//   - Partial without Timer: nothing matches yet, but more dial symbols
//     can lead to a full match or a match by timer.
//   - NoMatch: none of the above.
//
// RFC 3435 itself dials the shortest full match at once; the ATA
// convention above differs only when a rule without T extends it.
func (m *Map) Match(digits string) Result {
	var full, extend, cont, timer bool
	if m == nil {
		return Result{}
	}
	for i := range m.rules {
		r := &m.rules[i]
		s, ok := r.run(digits)
		if !ok || s == 0 {
			continue
		}
		full = full || r.full(s)
		extend = extend || s&r.extend != 0
		cont = cont || s&r.extendAny != 0
		timer = timer || r.full(r.step(s, symTimer))
	}
	switch {
	case full && !extend:
		return Result{Status: Complete}
	case full:
		return Result{Status: Partial, Timer: true}
	case cont || timer:
		return Result{Status: Partial, Timer: timer}
	default:
		return Result{Status: NoMatch}
	}
}

// Timeout reports whether the digits form a number when the inter-digit
// timer expires: some rule matches them followed by T, or matches them
// fully (a full match left Partial because a longer rule might follow).
//
// Note that a rule like "x.T" matches nothing dialled at all on timeout;
// handle an off-hook without digits with its own timer instead.
func (m *Map) Timeout(digits string) bool {
	if m == nil {
		return false
	}
	for i := range m.rules {
		r := &m.rules[i]
		if s, ok := r.run(digits); ok && (r.full(s) || r.full(r.step(s, symTimer))) {
			return true
		}
	}
	return false
}

// run returns the NFA state after digits, or false for a byte that is not
// a dial symbol.
func (r *rule) run(digits string) (uint64, bool) {
	s := r.start()
	for i := 0; i < len(digits) && s != 0; i++ {
		sym, ok := symbolOf(digits[i])
		if !ok || sym == symTimer {
			return 0, false
		}
		s = r.step(s, sym)
	}
	return s, true
}

// Len returns the number of rules.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.rules)
}

// String returns the map in canonical form: uppercase letters, "x" for
// any digit, ranges for runs of three or more digits, and parentheses
// around two or more rules. Parse(m.String()) gives an equal Map.
func (m *Map) String() string {
	if m == nil {
		return ""
	}
	var b strings.Builder
	if len(m.rules) > 1 {
		b.WriteByte('(')
	}
	for i, r := range m.rules {
		if i > 0 {
			b.WriteByte('|')
		}
		for _, p := range r.pos {
			writeSet(&b, p.set)
			if p.repeat {
				b.WriteByte('.')
			}
		}
	}
	if len(m.rules) > 1 {
		b.WriteByte(')')
	}
	return b.String()
}

func writeSet(b *strings.Builder, set symSet) {
	if set == digitSet {
		b.WriteByte('x')
		return
	}
	if bits.OnesCount32(uint32(set)) == 1 {
		b.WriteByte(symbolText[bits.TrailingZeros32(uint32(set))])
		return
	}
	b.WriteByte('[')
	for s := 0; s < numSyms; s++ {
		if set&(1<<s) == 0 {
			continue
		}
		end := s
		for end+1 <= 9 && set&(1<<(end+1)) != 0 {
			end++
		}
		if s <= 9 && end-s >= 2 {
			fmt.Fprintf(b, "%c-%c", symbolText[s], symbolText[end])
			s = end
			continue
		}
		b.WriteByte(symbolText[s])
	}
	b.WriteByte(']')
}

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("digitmap: syntax error")

// SyntaxError reports where and why a digit map failed to parse.
type SyntaxError struct {
	Offset int // byte offset in the input, from 0
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("digitmap: column %d: %s", e.Offset+1, e.Msg)
}

func (e *SyntaxError) Unwrap() error { return ErrSyntax }
