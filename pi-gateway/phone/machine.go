// Package phone is the black phone's call logic: an explicit state machine
// that turns line events (hook, dial, flash), network events (incoming call,
// alerting, answer, hang-up, failure) and timer expiries into commands for
// the line (bell, polarity, speech path), the local tone player, the network
// (SIP) side and the timers. It behaves like a line on a real Japanese
// exchange: dial tone on lifting, the number collected against a digit map,
// ringback until answer, busy and hang-up tones until the handset goes down.
//
// The Machine does no I/O and never reads the clock: timers are commands and
// their expiries events, so every flow is tested without sleeping. Runner
// connects a Machine to a line.Line, a Network and a TonePlayer.
package phone

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/digitmap"
)

// State is where the phone is in a call.
type State uint8

// States. Idle and Ringing are on hook; every other state is off hook.
const (
	StateIdle      State = iota + 1 // on hook, no call
	StateRinging                    // on hook, an incoming call rings the bell
	StateDialTone                   // off hook, dial tone, no digit yet
	StateDialling                   // collecting digits against the digit map
	StateCalling                    // the call is placed, waiting for answer
	StateConnected                  // talking
	StateLockout                    // a tone (busy, congestion, hang-up) until on-hook
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateRinging:
		return "ringing"
	case StateDialTone:
		return "dial-tone"
	case StateDialling:
		return "dialling"
	case StateCalling:
		return "calling"
	case StateConnected:
		return "connected"
	case StateLockout:
		return "lockout"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// OffHook reports whether the handset is up in state s.
func (s State) OffHook() bool { return s >= StateDialTone }

// SIP statuses the Machine sends.
const (
	StatusBusyHere = 486 // an incoming call while the line is in use
)

// Config is the Machine's behaviour. Start from DefaultConfig.
type Config struct {
	// DigitMap decides when a dialled number is complete (RFC 3435 syntax).
	DigitMap string
	// RingCadence is the bell's on/off pattern (Japan: 1 s on, 2 s off).
	RingCadence []time.Duration
	// FlashDigit is sent as a DTMF event when the hook is flashed during a
	// call ('0'–'9', '*', '#', 'A'–'D'); 0 ignores flashes.
	FlashDigit byte
	// ReverseOnAnswer reverses the loop polarity when a call is answered,
	// the answer signal of Japanese exchanges.
	ReverseOnAnswer bool
	// ErrorTone is played after a bad or incomplete number:
	// ToneCongestion or ToneHowler.
	ErrorTone Tone
	// FirstDigitTimeout ends dial tone with the error tone if nothing is
	// dialled.
	FirstDigitTimeout time.Duration
	// InterDigitTimeout is the digit map's "T": after it, a number that a
	// rule accepts on timeout is dialled.
	InterDigitTimeout time.Duration
	// IncompleteTimeout gives up on a number no rule can yet accept.
	IncompleteTimeout time.Duration
	// MaxDigits bounds a number.
	MaxDigits int
}

// DefaultConfig is a Japanese line.
func DefaultConfig() Config {
	return Config{
		DigitMap:          digitmap.DefaultJapan,
		RingCadence:       []time.Duration{time.Second, 2 * time.Second},
		FlashDigit:        'A',
		ReverseOnAnswer:   true,
		ErrorTone:         ToneCongestion,
		FirstDigitTimeout: 20 * time.Second,
		InterDigitTimeout: 4 * time.Second,
		IncompleteTimeout: 15 * time.Second,
		MaxDigits:         32,
	}
}

// ErrConfig is wrapped by every error New returns.
var ErrConfig = errors.New("phone: invalid config")

// ValidDTMF reports whether d can be sent as an RFC 4733 event.
func ValidDTMF(d byte) bool {
	return d >= '0' && d <= '9' || d == '*' || d == '#' || d >= 'A' && d <= 'D'
}

func (c Config) validate() (*digitmap.Map, error) {
	dm, err := digitmap.Parse(c.DigitMap)
	if err != nil {
		return nil, fmt.Errorf("%w: digit map: %w", ErrConfig, err)
	}
	if len(c.RingCadence) == 0 || len(c.RingCadence)%2 != 0 {
		return nil, fmt.Errorf("%w: ring cadence %v: want on/off pairs", ErrConfig, c.RingCadence)
	}
	for _, d := range c.RingCadence {
		if d <= 0 {
			return nil, fmt.Errorf("%w: ring cadence %v: every step must be positive", ErrConfig, c.RingCadence)
		}
	}
	switch {
	case c.FlashDigit != 0 && !ValidDTMF(c.FlashDigit):
		return nil, fmt.Errorf("%w: flash digit %q is not a DTMF digit", ErrConfig, c.FlashDigit)
	case c.ErrorTone != ToneCongestion && c.ErrorTone != ToneHowler:
		return nil, fmt.Errorf("%w: error tone %v: want congestion or howler", ErrConfig, c.ErrorTone)
	case c.FirstDigitTimeout <= 0, c.InterDigitTimeout <= 0, c.IncompleteTimeout <= 0:
		return nil, fmt.Errorf("%w: timeouts must be positive (first digit %v, inter-digit %v, incomplete %v)",
			ErrConfig, c.FirstDigitTimeout, c.InterDigitTimeout, c.IncompleteTimeout)
	case c.MaxDigits < 1 || c.MaxDigits > 64:
		return nil, fmt.Errorf("%w: max digits %d: want 1–64", ErrConfig, c.MaxDigits)
	}
	return dm, nil
}

// outputs is what the Machine has asked the line and tone player for, so
// that it sends only changes and can return everything to rest.
type outputs struct {
	ring     bool
	reversed bool
	talk     bool
	tone     Tone
}

// Machine is one line's call logic. It is not safe for concurrent use: one
// goroutine (the Runner's) feeds it.
type Machine struct {
	cfg     Config
	dm      *digitmap.Map
	cadence []time.Duration

	state   State
	call    CallID // the current call, or ""
	outSeq  uint64 // numbers outgoing calls
	early   bool   // the far end sends early media: no local ringback
	digits  []byte
	out     outputs
	timers  [numTimers]uint64 // Seq of each running timer, 0 if stopped
	seq     uint64
	cmds    []Command
	lastErr string // why the last call or number failed, for Status
}

// New returns a Machine in StateIdle, on hook.
func New(cfg Config) (*Machine, error) {
	dm, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return &Machine{
		cfg:     cfg,
		dm:      dm,
		cadence: append([]time.Duration(nil), cfg.RingCadence...),
		state:   StateIdle,
		digits:  make([]byte, 0, cfg.MaxDigits),
	}, nil
}

// State returns the current state.
func (m *Machine) State() State { return m.state }

// Call returns the current call, or "".
func (m *Machine) Call() CallID { return m.call }

// Digits returns what has been dialled for the current or last number.
func (m *Machine) Digits() string { return string(m.digits) }

// Tone returns the tone being played, or ToneNone.
func (m *Machine) Tone() Tone { return m.out.tone }

// Outputs reports what the line is asked to do.
func (m *Machine) Outputs() (ringing, reversed, talk bool) {
	return m.out.ring, m.out.reversed, m.out.talk
}

// LastError says why the last call or number failed, or "".
func (m *Machine) LastError() string { return m.lastErr }

// Handle feeds one event and returns the commands to carry out, in order.
// The slice is reused by the next call.
func (m *Machine) Handle(ev Event) []Command {
	m.cmds = m.cmds[:0]
	if ev.Kind == TimerExpired {
		if ev.Timer == 0 || ev.Timer >= numTimers || m.timers[ev.Timer] != ev.Seq || ev.Seq == 0 {
			return m.cmds // stopped or replaced: stale
		}
		m.timers[ev.Timer] = 0
	}
	if ev.Kind == Incoming && ev.Call == "" {
		return m.cmds // unusable: later events could not be matched to it
	}
	if ev.Kind == Incoming && ev.Call != m.call && m.state != StateIdle {
		// No call waiting: a second call finds the line busy.
		m.emit(Command{Kind: CmdReject, Call: ev.Call, Status: StatusBusyHere})
		m.emit(Command{Kind: CmdCallEnded, Result: ResultRejected})
		return m.cmds
	}
	if ev.Kind.IsNetwork() && ev.Kind != Incoming && (ev.Call == "" || ev.Call != m.call) {
		return m.cmds // an old call's late news
	}
	switch m.state {
	case StateIdle:
		m.idle(ev)
	case StateRinging:
		m.ringing(ev)
	case StateDialTone, StateDialling:
		m.dialling(ev)
	case StateCalling:
		m.calling(ev)
	case StateConnected:
		m.connected(ev)
	case StateLockout:
		m.lockout(ev)
	}
	return m.cmds
}

func (m *Machine) idle(ev Event) {
	switch ev.Kind {
	case OffHook:
		m.startDialTone()
	case Incoming:
		m.call = ev.Call
		m.state = StateRinging
		m.setRing(true)
	}
}

func (m *Machine) ringing(ev Event) {
	switch ev.Kind {
	case OffHook:
		// Stop the bell before closing the speech path: the ringing voltage
		// must never reach the sound card.
		m.setRing(false)
		m.setTalk(true)
		m.emit(Command{Kind: CmdAnswer, Call: m.call})
		m.emit(Command{Kind: CmdCallEnded, Result: ResultAccepted})
		if m.cfg.ReverseOnAnswer {
			m.setReverse(true)
		}
		m.state = StateConnected
	case RemoteHangup, Failed, Busy:
		m.setRing(false)
		m.emit(Command{Kind: CmdCallEnded, Result: ResultMissed})
		m.call = ""
		m.state = StateIdle
	}
}

func (m *Machine) startDialTone() {
	m.state = StateDialTone
	m.digits = m.digits[:0]
	m.setTalk(true) // local tones reach the earpiece through the speech path
	m.setTone(ToneDial)
	m.startTimer(TimerFirstDigit, m.cfg.FirstDigitTimeout)
}

func (m *Machine) dialling(ev Event) {
	switch ev.Kind {
	case OnHook:
		m.toIdle()
	case Digit:
		if !ValidDTMF(ev.Digit) {
			return
		}
		if m.state == StateDialTone {
			m.setTone(ToneNone) // the first digit ends dial tone
			m.stopTimer(TimerFirstDigit)
			m.state = StateDialling
		}
		if len(m.digits) >= m.cfg.MaxDigits {
			m.misdial("number too long")
			return
		}
		m.digits = append(m.digits, ev.Digit)
		m.judge()
	case DigitError:
		m.misdial("dialling error: " + ev.Reason)
	case Flash:
		// A flash while dialling starts the number again, so a wrong digit
		// need not cost hanging up.
		if m.state == StateDialling {
			m.stopTimers()
			m.startDialTone()
		}
	case TimerExpired:
		switch ev.Timer {
		case TimerFirstDigit:
			m.misdial("nothing dialled")
		case TimerInterDigit, TimerIncomplete:
			if m.dm.Timeout(string(m.digits)) {
				m.placeCall()
			} else {
				m.misdial("incomplete number " + string(m.digits))
			}
		}
	}
}

// judge decides, after a digit, whether to dial, wait or give up.
func (m *Machine) judge() {
	m.stopTimer(TimerInterDigit)
	m.stopTimer(TimerIncomplete)
	r := m.dm.Match(string(m.digits))
	switch {
	case r.Status == digitmap.Complete:
		m.placeCall()
	case r.Status == digitmap.NoMatch:
		m.misdial("no such number " + string(m.digits))
	case r.Timer:
		m.startTimer(TimerInterDigit, m.cfg.InterDigitTimeout)
	default:
		m.startTimer(TimerIncomplete, m.cfg.IncompleteTimeout)
	}
}

func (m *Machine) placeCall() {
	m.stopTimers()
	m.outSeq++
	m.call = CallID("out-" + strconv.FormatUint(m.outSeq, 10))
	m.early = false
	m.state = StateCalling
	m.emit(Command{Kind: CmdDial, Call: m.call, Number: string(m.digits)})
}

func (m *Machine) misdial(why string) {
	m.lastErr = why
	m.stopTimers()
	m.emit(Command{Kind: CmdCallEnded, Result: ResultMisdial})
	m.state = StateLockout
	m.setTone(m.cfg.ErrorTone)
}

func (m *Machine) calling(ev Event) {
	switch ev.Kind {
	case OnHook:
		m.emit(Command{Kind: CmdHangup, Call: m.call})
		m.emit(Command{Kind: CmdCallEnded, Result: ResultAbandoned})
		m.toIdle()
	case Alerting:
		if !m.early {
			m.setTone(ToneRingback)
		}
	case EarlyMedia:
		// The far end's own ringback or announcement replaces ours.
		m.early = true
		m.setTone(ToneNone)
	case Answered:
		m.setTone(ToneNone)
		if m.cfg.ReverseOnAnswer {
			m.setReverse(true)
		}
		m.emit(Command{Kind: CmdCallEnded, Result: ResultAnswered})
		m.state = StateConnected
	case Busy:
		m.lastErr = failure(ev, "busy")
		m.emit(Command{Kind: CmdCallEnded, Result: ResultBusy})
		m.endCall(ToneBusy)
	case Failed, RemoteHangup:
		m.lastErr = failure(ev, "failed")
		m.emit(Command{Kind: CmdCallEnded, Result: ResultFailed})
		m.endCall(ToneCongestion)
	case Digit:
		// An IVR may answer with early media and take digits before 200.
		if m.early && ValidDTMF(ev.Digit) {
			m.emit(Command{Kind: CmdSendDigit, Call: m.call, Digit: ev.Digit})
		}
	}
}

func failure(ev Event, what string) string {
	s := what
	if ev.Status != 0 {
		s += " " + strconv.Itoa(ev.Status)
	}
	if ev.Reason != "" {
		s += ": " + ev.Reason
	}
	return s
}

func (m *Machine) connected(ev Event) {
	switch ev.Kind {
	case OnHook:
		m.emit(Command{Kind: CmdHangup, Call: m.call})
		m.toIdle()
	case Digit:
		if ValidDTMF(ev.Digit) {
			m.emit(Command{Kind: CmdSendDigit, Call: m.call, Digit: ev.Digit})
		}
	case Flash:
		if m.cfg.FlashDigit != 0 {
			m.emit(Command{Kind: CmdSendDigit, Call: m.call, Digit: m.cfg.FlashDigit})
		}
	case RemoteHangup:
		m.endCall(ToneHangup)
	case Failed, Busy:
		m.lastErr = failure(ev, "call lost")
		m.endCall(ToneCongestion)
	}
}

// endCall forgets the call (the network has ended it) and holds the line
// with tone t until the handset goes down.
func (m *Machine) endCall(t Tone) {
	m.call = ""
	m.early = false
	m.setReverse(false)
	m.state = StateLockout
	m.setTone(t)
}

func (m *Machine) lockout(ev Event) {
	if ev.Kind == OnHook {
		m.toIdle()
	}
}

// toIdle returns every output to rest after the handset went down.
func (m *Machine) toIdle() {
	m.stopTimers()
	m.setTone(ToneNone)
	m.setRing(false)
	m.setReverse(false)
	m.setTalk(false)
	m.call = ""
	m.early = false
	m.state = StateIdle
}

func (m *Machine) emit(c Command) { m.cmds = append(m.cmds, c) }

func (m *Machine) setRing(on bool) {
	if m.out.ring == on {
		return
	}
	m.out.ring = on
	if on {
		m.emit(Command{Kind: CmdRing, Cadence: m.cadence})
	} else {
		m.emit(Command{Kind: CmdStopRinging})
	}
}

func (m *Machine) setReverse(on bool) {
	if m.out.reversed != on {
		m.out.reversed = on
		m.emit(Command{Kind: CmdReverse, On: on})
	}
}

func (m *Machine) setTalk(on bool) {
	if m.out.talk != on {
		m.out.talk = on
		m.emit(Command{Kind: CmdTalk, On: on})
	}
}

func (m *Machine) setTone(t Tone) {
	if m.out.tone == t {
		return
	}
	m.out.tone = t
	if t == ToneNone {
		m.emit(Command{Kind: CmdStopTone})
	} else {
		m.emit(Command{Kind: CmdPlayTone, Tone: t})
	}
}

func (m *Machine) startTimer(t Timer, d time.Duration) {
	m.seq++
	m.timers[t] = m.seq
	m.emit(Command{Kind: CmdStartTimer, Timer: t, After: d, Seq: m.seq})
}

func (m *Machine) stopTimer(t Timer) {
	if m.timers[t] != 0 {
		m.timers[t] = 0
		m.emit(Command{Kind: CmdStopTimer, Timer: t})
	}
}

func (m *Machine) stopTimers() {
	for t := Timer(1); t < numTimers; t++ {
		m.stopTimer(t)
	}
}
