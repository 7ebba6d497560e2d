package pulse

import (
	"fmt"
	"math"
	"time"
)

// Kind says what an Event reports.
type Kind uint8

const (
	// KindDigit is a valid digit, reported once its inter-digit pause has
	// passed.
	KindDigit Kind = iota + 1
	// KindError is a train or edge that broke the rules; Reason says how.
	KindError
	// KindFlash is a break inside the flash window, reported when the loop
	// closes again.
	KindFlash
	// KindOnHook is a break longer than the flash window.
	KindOnHook
	// KindOffHook is the first make after on-hook.
	KindOffHook
)

func (k Kind) String() string {
	switch k {
	case KindDigit:
		return "digit"
	case KindError:
		return "error"
	case KindFlash:
		return "flash"
	case KindOnHook:
		return "on-hook"
	case KindOffHook:
		return "off-hook"
	default:
		return fmt.Sprintf("Kind(%d)", uint8(k))
	}
}

// Reason explains a KindError event.
type Reason uint8

const (
	// ReasonSpeed: a pulse period lies outside the rate's pps range.
	ReasonSpeed Reason = iota + 1
	// ReasonMakeRatio: a pulse's make ratio lies outside the rate's range.
	ReasonMakeRatio
	// ReasonBreak: the last (or only) break of a train has a length no rate
	// accepts. A one-pulse train has no period, so only this is checked.
	ReasonBreak
	// ReasonTooManyPulses: more than MaxPulses pulses in one train.
	ReasonTooManyPulses
	// ReasonInterDigit: the loop opened again before the digit's
	// inter-digit pause had passed.
	ReasonInterDigit
	// ReasonTimeReversed: an edge was older than the previous call; it was
	// dropped.
	ReasonTimeReversed
	// ReasonBadState: an edge had a State other than Break or Make; it was
	// dropped.
	ReasonBadState
)

func (r Reason) String() string {
	switch r {
	case ReasonSpeed:
		return "speed out of range"
	case ReasonMakeRatio:
		return "make ratio out of range"
	case ReasonBreak:
		return "break length out of range"
	case ReasonTooManyPulses:
		return "too many pulses"
	case ReasonInterDigit:
		return "inter-digit pause too short"
	case ReasonTimeReversed:
		return "edge older than the previous call"
	case ReasonBadState:
		return "edge of unknown state"
	default:
		return fmt.Sprintf("Reason(%d)", uint8(r))
	}
}

// Event is one decoder output.
type Event struct {
	Kind Kind
	// At is when the signal began: the first break of a train, the break
	// of a flash or on-hook, the make of an off-hook, or the dropped edge.
	// It does not depend on when Tick was called.
	At     time.Duration
	Digit  int    // KindDigit only
	Reason Reason // KindError only
	// Train measurements, for KindDigit and train errors. PPS and MakeRatio
	// are means over the train's full periods; both are 0 for one pulse.
	Pulses    int
	Rate      string // the rate that matched, or the nearest one for errors
	PPS       float64
	MakeRatio float64
}

func (e Event) String() string {
	switch e.Kind {
	case KindDigit:
		return fmt.Sprintf("digit %d at %v (%d pulses, %s, %.2f pps, make %.1f%%)",
			e.Digit, e.At, e.Pulses, e.Rate, e.PPS, e.MakeRatio*100)
	case KindError:
		if e.Pulses == 0 {
			return fmt.Sprintf("error at %v: %v", e.At, e.Reason)
		}
		return fmt.Sprintf("error at %v: %v (%d pulses, %s, %.2f pps, make %.1f%%)",
			e.At, e.Reason, e.Pulses, e.Rate, e.PPS, e.MakeRatio*100)
	default:
		return fmt.Sprintf("%v at %v", e.Kind, e.At)
	}
}

// Decoder turns loop edges into Events. It is a plain state machine: feed
// it every raw edge with Edge and call Tick when time passes without edges
// (at Deadline at the latest), since digits and on-hook complete by
// silence. A Decoder is not safe for concurrent use.
//
// Decisions:
//   - A break shorter than FlashMin is a dial pulse; makes shorter than
//     TrainGap join pulses into one train.
//   - A train is judged when its trailing make reaches TrainGap. A valid
//     digit is held until the make reaches its rate's InterDigit pause; if
//     the loop opens first, the digit is reported as ReasonInterDigit
//     instead. A train cut short by a break of FlashMin or more is also
//     ReasonInterDigit, unless it broke another rule first.
//   - A break of FlashMin..FlashMax is a flash; a longer one is on-hook,
//     reported as soon as FlashMax has passed.
type Decoder struct {
	cfg Config
	now time.Duration // latest time seen, so that time cannot run back

	// Debounced loop level, when it began, and whether the break has
	// lasted long enough to be on-hook.
	level  State
	since  time.Duration
	onHook bool

	// Raw edges not yet accepted: the newest raw level and its time, and
	// the first edge of the bounce burst.
	raw     State
	rawAt   time.Duration
	burst   bool
	burstAt time.Duration

	tr train

	// A valid digit waiting for its inter-digit pause.
	pending    bool
	pendingEv  Event
	pendingGap time.Duration
}

// NewDecoder returns a Decoder for a loop that has been in state initial
// since at. An initial Break counts as on-hook, so the next make reports
// KindOffHook.
func NewDecoder(cfg Config, initial State, at time.Duration) (*Decoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if initial != Break && initial != Make {
		return nil, fmt.Errorf("%w: initial state %v", ErrConfig, initial)
	}
	cfg.Rates = append([]Rate(nil), cfg.Rates...) // the caller keeps its slice
	return &Decoder{
		cfg:    cfg,
		now:    at,
		level:  initial,
		since:  at,
		onHook: initial == Break,
		raw:    initial,
		rawAt:  at,
	}, nil
}

// State reports the debounced loop level and whether the line is on hook.
func (d *Decoder) State() (level State, onHook bool) { return d.level, d.onHook }

// Edge feeds one raw edge: the loop changed to s at time at. Raw edges
// may bounce; repeated states are ignored. It returns the events that
// became certain up to at, oldest first, or nil.
func (d *Decoder) Edge(s State, at time.Duration) []Event {
	if at < d.now {
		return []Event{{Kind: KindError, At: at, Reason: ReasonTimeReversed}}
	}
	out := d.advance(nil, at)
	d.now = at
	if s != Break && s != Make {
		// The edge is dropped, but its time is still a valid tick.
		return append(out, Event{Kind: KindError, At: at, Reason: ReasonBadState})
	}
	if s == d.raw {
		return out
	}
	d.raw, d.rawAt = s, at
	if !d.burst {
		d.burst, d.burstAt = true, at
	}
	return out
}

// Tick tells the decoder that time now has passed with no further edge.
// It returns the events that became certain, or nil. A now older than the
// latest call is ignored.
func (d *Decoder) Tick(now time.Duration) []Event {
	if now < d.now {
		return nil
	}
	d.now = now
	return d.advance(nil, now)
}

// Deadline returns the earliest time at which Tick could report something,
// and false if only a new edge can.
func (d *Decoder) Deadline() (time.Duration, bool) {
	if d.burst {
		// Nothing after the burst's start can be decided before it settles.
		return d.rawAt + d.cfg.Debounce + 1, true
	}
	var next time.Duration
	ok := false
	consider := func(t time.Duration) {
		if !ok || t < next {
			next, ok = t, true
		}
	}
	switch d.level {
	case Make:
		if d.tr.n > 0 {
			consider(d.since + d.cfg.TrainGap)
		}
		if d.pending {
			consider(d.since + d.pendingGap)
		}
	case Break:
		if d.tr.n > 0 {
			consider(d.since + d.cfg.FlashMin)
		}
		if !d.onHook {
			consider(d.since + d.cfg.FlashMax + 1)
		}
	}
	return next, ok
}

// advance settles a quiet bounce burst and runs the timeouts up to now.
func (d *Decoder) advance(out []Event, now time.Duration) []Event {
	if d.burst && now-d.rawAt > d.cfg.Debounce {
		d.burst = false
		if d.raw != d.level { // a burst back to the old level was a glitch
			out = d.timeouts(out, d.burstAt)
			out = d.commit(out, d.raw, d.burstAt)
		}
	}
	if d.burst {
		// The level may have changed at burstAt; decide nothing past it.
		now = min(now, d.burstAt)
	}
	return d.timeouts(out, now)
}

// timeouts makes the decisions that the current level reaching now forces.
func (d *Decoder) timeouts(out []Event, now time.Duration) []Event {
	held := now - d.since
	switch d.level {
	case Make:
		if d.tr.n > 0 && held >= d.cfg.TrainGap {
			out = d.closeTrain(out, false)
		}
		if d.pending && held >= d.pendingGap {
			d.pending = false
			out = append(out, d.pendingEv)
		}
	case Break:
		if d.tr.n > 0 && held >= d.cfg.FlashMin {
			out = d.closeTrain(out, true)
		}
		if !d.onHook && held > d.cfg.FlashMax {
			d.onHook = true
			out = append(out, Event{Kind: KindOnHook, At: d.since})
		}
	}
	return out
}

// commit applies a debounced level change at time at.
func (d *Decoder) commit(out []Event, s State, at time.Duration) []Event {
	held := at - d.since
	switch s {
	case Break:
		if d.pending {
			d.pending = false
			ev := d.pendingEv
			ev.Kind, ev.Digit, ev.Reason = KindError, 0, ReasonInterDigit
			out = append(out, ev)
		} else if d.tr.n > 0 {
			d.tr.setMake(held) // timeouts closed the train if held ≥ TrainGap
		}
	case Make:
		switch {
		case d.onHook:
			d.onHook = false
			out = append(out, Event{Kind: KindOffHook, At: at})
		case held < d.cfg.FlashMin:
			d.tr.addBreak(d.since, held)
		default: // held ≤ FlashMax, or timeouts would have set onHook
			out = append(out, Event{Kind: KindFlash, At: d.since})
		}
	}
	d.level, d.since = s, at
	return out
}

// closeTrain judges the train. interrupted means a long break followed it,
// so its last make was too short a pause for a digit.
func (d *Decoder) closeTrain(out []Event, interrupted bool) []Event {
	ev, gap := d.tr.judge(&d.cfg)
	d.tr = train{}
	switch {
	case ev.Kind == KindDigit && interrupted:
		ev.Kind, ev.Digit, ev.Reason = KindError, 0, ReasonInterDigit
		return append(out, ev)
	case ev.Kind == KindDigit:
		d.pending, d.pendingEv, d.pendingGap = true, ev, gap
		return out
	default:
		return append(out, ev)
	}
}

// train records the pulses of one digit. brk[i] is the break of pulse i
// and mk[i] the make after it; the make after the last pulse is the pause,
// not part of the train.
type train struct {
	n     int // pulses seen, may exceed MaxPulses
	start time.Duration
	brk   [MaxPulses]time.Duration
	mk    [MaxPulses]time.Duration
}

func (t *train) addBreak(at, length time.Duration) {
	if t.n == 0 {
		t.start = at
	}
	if t.n < MaxPulses {
		t.brk[t.n] = length
	}
	t.n++
}

func (t *train) setMake(length time.Duration) {
	if t.n > 0 && t.n <= MaxPulses {
		t.mk[t.n-1] = length
	}
}

// eps absorbs nanosecond rounding so that a train generated exactly at a
// limit is accepted.
const eps = 1e-6

func within(x, lo, hi float64) bool {
	return x >= lo-eps*math.Abs(lo) && x <= hi+eps*math.Abs(hi)
}

// check returns the first rule of r the train breaks, or 0.
func (t *train) check(r *Rate) Reason {
	stored := min(t.n, MaxPulses)
	for i := 0; i < stored-1; i++ {
		period := (t.brk[i] + t.mk[i]).Seconds()
		if !(period > 0) || !within(1/period, r.PPS-r.Tolerance, r.PPS+r.Tolerance) {
			return ReasonSpeed
		}
		if !within(t.mk[i].Seconds()/period, r.MakeMin, r.MakeMax) {
			return ReasonMakeRatio
		}
	}
	last := t.brk[stored-1].Seconds()
	if !within(last, (1-r.MakeMax)/(r.PPS+r.Tolerance), (1-r.MakeMin)/(r.PPS-r.Tolerance)) {
		return ReasonBreak
	}
	return 0
}

// measure returns the mean speed and make ratio over the full periods.
func (t *train) measure() (pps, makeRatio float64) {
	stored := min(t.n, MaxPulses)
	var sum, made time.Duration
	for i := 0; i < stored-1; i++ {
		sum += t.brk[i] + t.mk[i]
		made += t.mk[i]
	}
	if sum <= 0 {
		return 0, 0
	}
	return float64(stored-1) / sum.Seconds(), made.Seconds() / sum.Seconds()
}

// distance says how far the train is from rate r, to name the nearest rate
// in an error.
func (t *train) distance(r *Rate, pps float64) float64 {
	if pps > 0 {
		return math.Abs(pps-r.PPS) / r.PPS
	}
	b := t.brk[0].Seconds()
	lo, hi := (1-r.MakeMax)/(r.PPS+r.Tolerance), (1-r.MakeMin)/(r.PPS-r.Tolerance)
	switch {
	case b < lo:
		return (lo - b) / lo
	case b > hi:
		return (b - hi) / hi
	}
	return 0
}

// judge returns a KindDigit event and its rate's inter-digit pause, or a
// KindError event naming the nearest rate and the first rule broken.
func (t *train) judge(cfg *Config) (Event, time.Duration) {
	pps, ratio := t.measure()
	ev := Event{At: t.start, Pulses: t.n, PPS: pps, MakeRatio: ratio}
	if t.n > MaxPulses {
		ev.Kind, ev.Reason = KindError, ReasonTooManyPulses
		return ev, 0
	}
	for i := range cfg.Rates {
		r := &cfg.Rates[i]
		if t.check(r) != 0 {
			continue
		}
		digit, ok := cfg.Encoding.Digit(t.n)
		if !ok { // unreachable: 1 ≤ n ≤ MaxPulses and the encoding is valid
			break
		}
		ev.Kind, ev.Digit, ev.Rate = KindDigit, digit, r.Name
		return ev, r.InterDigit
	}
	nearest := &cfg.Rates[0]
	for i := range cfg.Rates[1:] {
		if r := &cfg.Rates[i+1]; t.distance(r, pps) < t.distance(nearest, pps) {
			nearest = r
		}
	}
	ev.Kind, ev.Rate, ev.Reason = KindError, nearest.Name, t.check(nearest)
	if ev.Reason == 0 { // only if the encoding rejected the count
		ev.Reason = ReasonTooManyPulses
	}
	return ev, 0
}
