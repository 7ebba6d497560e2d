// Package pulse decodes and generates rotary-dial loop pulses.
//
// A rotary dial signals a digit by opening (break) and closing (make) the
// subscriber loop a number of times. The Decoder turns timestamped loop
// edges into digits, hook flashes and hook changes, and reports trains that
// break the timing rules as errors instead of guessing. The Generator does
// the reverse for the simulated phone.
//
// Time is a time.Duration since an arbitrary fixed epoch, the form
// go-gpiocdev gives edge timestamps in; the package never reads a clock.
package pulse

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// State is the level of the subscriber loop.
type State uint8

const (
	// Break is the open loop: the dial is pulsing or the handset is on hook.
	Break State = iota + 1
	// Make is the closed loop: the handset is off hook and current flows.
	Make
)

func (s State) String() string {
	switch s {
	case Break:
		return "break"
	case Make:
		return "make"
	default:
		return fmt.Sprintf("State(%d)", uint8(s))
	}
}

// Edge is a change of the loop to State at time At.
type Edge struct {
	State State
	At    time.Duration
}

// Encoding maps pulse counts to digits.
type Encoding uint8

const (
	// EncodingStandard sends N pulses for digit N and 10 for 0 (Japan and
	// most of the world).
	EncodingStandard Encoding = iota
	// EncodingSweden sends N+1 pulses for digit N: one pulse is 0.
	EncodingSweden
	// EncodingNewZealand sends 10−N pulses for digit N: ten pulses are 0.
	EncodingNewZealand
)

// MaxPulses is the longest valid train under every encoding.
const MaxPulses = 10

func (e Encoding) String() string {
	switch e {
	case EncodingStandard:
		return "standard"
	case EncodingSweden:
		return "sweden"
	case EncodingNewZealand:
		return "new-zealand"
	default:
		return fmt.Sprintf("Encoding(%d)", uint8(e))
	}
}

// Digit returns the digit a train of n pulses stands for.
func (e Encoding) Digit(n int) (int, bool) {
	if n < 1 || n > MaxPulses {
		return 0, false
	}
	switch e {
	case EncodingStandard:
		return n % 10, true
	case EncodingSweden:
		return n - 1, true
	case EncodingNewZealand:
		return 10 - n, true
	default:
		return 0, false
	}
}

// Pulses returns the number of pulses that send digit d.
func (e Encoding) Pulses(d int) (int, bool) {
	if d < 0 || d > 9 {
		return 0, false
	}
	switch e {
	case EncodingStandard:
		if d == 0 {
			return 10, true
		}
		return d, true
	case EncodingSweden:
		return d + 1, true
	case EncodingNewZealand:
		return 10 - d, true
	default:
		return 0, false
	}
}

// Rate is one accepted dialling speed with its timing tolerances.
type Rate struct {
	Name      string  // shown in events, e.g. "10pps"
	PPS       float64 // nominal pulses per second
	Tolerance float64 // accepted deviation from PPS, in pulses per second
	// MakeMin and MakeMax bound the make ratio: the closed share of one
	// pulse period, as a fraction (0.30 = 30 %).
	MakeMin, MakeMax float64
	// InterDigit is the shortest make that separates two digits. A digit
	// is reported once its trailing make has lasted this long.
	InterDigit time.Duration
}

// Rate10PPS is the Japanese 10 pps rule: 10 ± 1.0 pps, make ratio
// 30–42 %, at least 600 ms between digits.
func Rate10PPS() Rate {
	return Rate{Name: "10pps", PPS: 10, Tolerance: 1.0, MakeMin: 0.30, MakeMax: 0.42, InterDigit: 600 * time.Millisecond}
}

// Rate20PPS is the Japanese 20 pps rule: 20 ± 1.6 pps, make ratio
// 30–36 %, at least 450 ms between digits.
func Rate20PPS() Rate {
	return Rate{Name: "20pps", PPS: 20, Tolerance: 1.6, MakeMin: 0.30, MakeMax: 0.36, InterDigit: 450 * time.Millisecond}
}

// MinPeriod is the shortest accepted pulse period (break plus make).
func (r Rate) MinPeriod() time.Duration { return seconds(1 / (r.PPS + r.Tolerance)) }

// MaxPeriod is the longest accepted pulse period.
func (r Rate) MaxPeriod() time.Duration { return seconds(1 / (r.PPS - r.Tolerance)) }

// MinBreak is the shortest break of an accepted pulse.
func (r Rate) MinBreak() time.Duration {
	return seconds((1 - r.MakeMax) / (r.PPS + r.Tolerance))
}

// MaxBreak is the longest break of an accepted pulse.
func (r Rate) MaxBreak() time.Duration {
	return seconds((1 - r.MakeMin) / (r.PPS - r.Tolerance))
}

// MinMake is the shortest make between two accepted pulses.
func (r Rate) MinMake() time.Duration { return seconds(r.MakeMin / (r.PPS + r.Tolerance)) }

// MaxMake is the longest make between two accepted pulses.
func (r Rate) MaxMake() time.Duration { return seconds(r.MakeMax / (r.PPS - r.Tolerance)) }

func (r Rate) validate() error {
	switch {
	case !(r.PPS > 0) || r.PPS > 1000:
		return fmt.Errorf("PPS %v: want 0 < PPS ≤ 1000", r.PPS)
	case !(r.Tolerance >= 0) || r.Tolerance >= r.PPS:
		return fmt.Errorf("tolerance %v: want 0 ≤ tolerance < PPS %v", r.Tolerance, r.PPS)
	case !(r.MakeMin > 0) || !(r.MakeMax < 1) || r.MakeMin > r.MakeMax:
		return fmt.Errorf("make ratio %v–%v: want 0 < min ≤ max < 1", r.MakeMin, r.MakeMax)
	case r.InterDigit <= 0:
		return fmt.Errorf("inter-digit pause %v: want > 0", r.InterDigit)
	}
	return nil
}

// Config sets what the Decoder accepts.
type Config struct {
	Encoding Encoding
	// Rates are the accepted dialling speeds. A train is tried against
	// each in order and reported with the first that fits.
	Rates []Rate
	// Debounce is the contact bounce tolerance: raw edges no more than
	// Debounce apart collapse into one change, timed at the first of them,
	// and a burst that returns to the old level is ignored.
	Debounce time.Duration
	// TrainGap ends a pulse train: a make that lasts TrainGap is no longer
	// the make between two pulses, so the train is judged. It must lie
	// between the longest pulse make and the shortest inter-digit pause.
	TrainGap time.Duration
	// FlashMin and FlashMax bound a hook flash, inclusive. A break shorter
	// than FlashMin is a dial pulse; one longer than FlashMax is on-hook.
	FlashMin, FlashMax time.Duration
}

// DefaultJapan is the Japanese rule set: 10 and 20 pps, standard encoding,
// 5 ms debounce and a 100–1000 ms hook flash window.
func DefaultJapan() Config {
	return Config{
		Encoding: EncodingStandard,
		Rates:    []Rate{Rate10PPS(), Rate20PPS()},
		Debounce: 5 * time.Millisecond,
		TrainGap: 200 * time.Millisecond,
		FlashMin: 100 * time.Millisecond,
		FlashMax: 1000 * time.Millisecond,
	}
}

// ErrConfig is wrapped by every error Validate returns.
var ErrConfig = errors.New("pulse: invalid config")

// Validate reports the first inconsistency in c.
func (c Config) Validate() error {
	if _, ok := c.Encoding.Pulses(0); !ok {
		return fmt.Errorf("%w: unknown encoding %v", ErrConfig, c.Encoding)
	}
	if len(c.Rates) == 0 {
		return fmt.Errorf("%w: no rates", ErrConfig)
	}
	if c.Debounce < 0 {
		return fmt.Errorf("%w: debounce %v is negative", ErrConfig, c.Debounce)
	}
	if c.FlashMin > c.FlashMax {
		return fmt.Errorf("%w: flash window %v–%v is reversed", ErrConfig, c.FlashMin, c.FlashMax)
	}
	for i, r := range c.Rates {
		if err := r.validate(); err != nil {
			return fmt.Errorf("%w: rate %d (%s): %w", ErrConfig, i, r.Name, err)
		}
		// Each bound keeps two decoder decisions apart; crossing one would
		// make valid pulses vanish or split.
		switch {
		case c.Debounce >= r.MinMake() || c.Debounce >= r.MinBreak():
			return fmt.Errorf("%w: debounce %v would swallow %s pulses (shortest make %v, break %v)",
				ErrConfig, c.Debounce, r.Name, r.MinMake(), r.MinBreak())
		case c.TrainGap <= r.MaxMake():
			return fmt.Errorf("%w: train gap %v is not above the longest %s make %v",
				ErrConfig, c.TrainGap, r.Name, r.MaxMake())
		case c.TrainGap > r.InterDigit:
			return fmt.Errorf("%w: train gap %v exceeds the %s inter-digit pause %v",
				ErrConfig, c.TrainGap, r.Name, r.InterDigit)
		case c.FlashMin <= r.MaxBreak():
			return fmt.Errorf("%w: flash minimum %v is not above the longest %s break %v",
				ErrConfig, c.FlashMin, r.Name, r.MaxBreak())
		}
	}
	return nil
}

// seconds converts to a Duration, rounding to the nearest nanosecond and
// saturating so that extreme configs cannot overflow.
func seconds(s float64) time.Duration {
	ns := s*float64(time.Second) + 0.5
	switch {
	case !(ns > 0):
		return 0
	case ns >= math.MaxInt64:
		return math.MaxInt64
	}
	return time.Duration(ns)
}
