package pulse

import (
	"errors"
	"fmt"
	"time"
)

// Generator produces the loop edges a rotary dial makes, for the simulated
// phone and for tests. The zero value is invalid; see GeneratorFor.
type Generator struct {
	Encoding  Encoding
	PPS       float64       // pulses per second
	MakeRatio float64       // closed share of each pulse period, 0 < r < 1
	Pause     time.Duration // make after each digit, before the next
}

// GeneratorFor dials at r's nominal speed and middle make ratio, pausing
// 200 ms longer than r's inter-digit minimum so that a decoder using r
// accepts every digit.
func GeneratorFor(enc Encoding, r Rate) Generator {
	return Generator{
		Encoding:  enc,
		PPS:       r.PPS,
		MakeRatio: (r.MakeMin + r.MakeMax) / 2,
		Pause:     r.InterDigit + 200*time.Millisecond,
	}
}

// ErrGenerator is wrapped by every error the Generator returns.
var ErrGenerator = errors.New("pulse: invalid generator")

// Validate reports the first invalid field of g.
func (g Generator) Validate() error {
	switch {
	case !(g.PPS > 0) || g.PPS > 1000:
		return fmt.Errorf("%w: PPS %v: want 0 < PPS ≤ 1000", ErrGenerator, g.PPS)
	case !(g.MakeRatio > 0) || !(g.MakeRatio < 1):
		return fmt.Errorf("%w: make ratio %v: want 0 < ratio < 1", ErrGenerator, g.MakeRatio)
	case g.Pause < 0:
		return fmt.Errorf("%w: pause %v is negative", ErrGenerator, g.Pause)
	}
	if _, ok := g.Encoding.Pulses(0); !ok {
		return fmt.Errorf("%w: unknown encoding %v", ErrGenerator, g.Encoding)
	}
	return nil
}

// timing returns the break and make of one pulse. Make is rounded and
// break takes the rest, so the period is exact.
func (g Generator) timing() (brk, mk time.Duration) {
	period := seconds(1 / g.PPS)
	mk = seconds(g.MakeRatio / g.PPS)
	return period - mk, mk
}

// Train returns the edges of one digit whose first break starts at at:
// Break, Make, Break, Make, ... The final Make starts the pause, which
// Train does not include.
func (g Generator) Train(digit int, at time.Duration) ([]Edge, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	n, ok := g.Encoding.Pulses(digit)
	if !ok {
		return nil, fmt.Errorf("%w: digit %d is not 0–9", ErrGenerator, digit)
	}
	return g.appendTrain(make([]Edge, 0, 2*n), n, at), nil
}

func (g Generator) appendTrain(dst []Edge, n int, at time.Duration) []Edge {
	brk, mk := g.timing()
	for range n {
		dst = append(dst, Edge{Break, at}, Edge{Make, at + brk})
		at += brk + mk
	}
	return dst
}

// Dial returns the edges of digits ("0"–"9" only) starting at at, each
// train followed by g.Pause, and the time the last pause ends: a decoder
// ticked at that time has reported every digit.
func (g Generator) Dial(digits string, at time.Duration) ([]Edge, time.Duration, error) {
	if err := g.Validate(); err != nil {
		return nil, at, err
	}
	brk, mk := g.timing()
	var edges []Edge
	for i := range len(digits) {
		c := digits[i]
		if c < '0' || c > '9' {
			return nil, at, fmt.Errorf("%w: %q at index %d is not a digit", ErrGenerator, c, i)
		}
		n, _ := g.Encoding.Pulses(int(c - '0'))
		edges = g.appendTrain(edges, n, at)
		// The last pulse's make is the start of the pause, not a full make.
		at += time.Duration(n)*(brk+mk) - mk + g.Pause
	}
	return edges, at, nil
}
