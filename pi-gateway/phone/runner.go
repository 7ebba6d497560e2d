package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
)

// Network is the SIP side as the phone needs it. Each method starts its
// action and returns at once; what follows (alerting, answer, hang-up,
// failure) comes back as events through Runner.Post, tagged with the call.
// An error means the action could not even start; for Dial the Runner then
// feeds Failed itself.
type Network interface {
	Dial(ctx context.Context, call CallID, number string) error
	Answer(ctx context.Context, call CallID) error
	Reject(ctx context.Context, call CallID, status int) error
	Hangup(ctx context.Context, call CallID) error
	// SendDigit sends one RFC 4733 telephone event ('0'–'9', '*', '#', 'A'–'D').
	SendDigit(ctx context.Context, call CallID, digit byte) error
}

// TonePlayer plays call-progress tones to the handset (through the audio
// device, which the speech path connects to the line).
type TonePlayer interface {
	PlayTone(t Tone) error
	StopTone() error
}

// RunnerOptions are a Runner's collaborators.
type RunnerOptions struct {
	Line    line.Line
	Network Network
	Tones   TonePlayer
	Clock   clock.Clock  // default clock.Real
	Logger  *slog.Logger // default slog.Default()
	// CommandTimeout bounds each line command (default 2 s: the Arduino
	// protocol allows 1 s for a reply).
	CommandTimeout time.Duration
	// Observe, if set, sees every event the Machine handled, the state it
	// led to and the commands it gave, once they were carried out; it runs
	// on the Runner's goroutine.
	Observe func(ev Event, st State, cmds []Command)
}

// Runner carries a Machine's commands out and feeds it line, network and
// timer events, one at a time on one goroutine.
type Runner struct {
	m     *Machine
	opts  RunnerOptions
	log   *slog.Logger
	inbox chan Event
	done  chan struct{}

	timers [numTimers]clock.Timer

	// Read by other goroutines (status pages).
	mu      sync.Mutex
	snap    Snapshot
	results [ResultRejected + 1]atomic.Uint64
}

// Snapshot is the phone's state for /health.
type Snapshot struct {
	State     State
	Call      CallID
	Digits    string
	Tone      Tone
	LastError string
}

// ErrStopped is returned by Post once the Runner has stopped.
var ErrStopped = errors.New("phone: runner stopped")

// NewRunner checks the options; Run starts the work.
func NewRunner(m *Machine, opts RunnerOptions) (*Runner, error) {
	switch {
	case m == nil:
		return nil, errors.New("phone: runner without a machine")
	case opts.Line == nil:
		return nil, errors.New("phone: runner without a line")
	case opts.Network == nil:
		return nil, errors.New("phone: runner without a network")
	case opts.Tones == nil:
		return nil, errors.New("phone: runner without a tone player")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = 2 * time.Second
	}
	r := &Runner{
		m:     m,
		opts:  opts,
		log:   opts.Logger.With("component", "phone"),
		inbox: make(chan Event, 64),
		done:  make(chan struct{}),
	}
	r.snap = r.snapshotOf()
	return r, nil
}

// Post hands the Runner a network event. It blocks while the inbox is full
// and fails once the Runner has stopped or ctx ends.
func (r *Runner) Post(ctx context.Context, ev Event) error {
	select {
	case <-r.done:
		return ErrStopped
	default:
	}
	select {
	case r.inbox <- ev:
		return nil
	case <-r.done:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("phone: post %v: %w", ev.Kind, ctx.Err())
	}
}

// Snapshot returns the phone's current state.
func (r *Runner) Snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snap
}

// Results returns how many calls ended with each result.
func (r *Runner) Results() map[Result]uint64 {
	out := make(map[Result]uint64, len(r.results))
	for _, res := range Results() {
		out[res] = r.results[res].Load()
	}
	return out
}

// Run works until ctx ends or the line's event channel closes. On the way
// out it hangs up any call and returns the line to rest.
func (r *Runner) Run(ctx context.Context) error {
	defer close(r.done)
	defer r.shutdown()
	lineEvents := r.opts.Line.Events()
	for {
		select {
		case ev, ok := <-lineEvents:
			if !ok {
				if err := r.opts.Line.Err(); err != nil {
					return fmt.Errorf("phone: line failed: %w", err)
				}
				return errors.New("phone: line closed")
			}
			r.handle(ctx, FromLine(ev))
		case ev := <-r.inbox:
			r.handle(ctx, ev)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *Runner) handle(ctx context.Context, ev Event) {
	before := r.m.State()
	cmds := r.m.Handle(ev)
	if after := r.m.State(); after != before {
		r.log.Info("state", "from", before, "to", after, "event", ev.String())
	} else {
		r.log.Debug("event", "event", ev.String(), "state", after)
	}
	// Copy: carrying out a command may feed the Machine again (Dial fails).
	todo := append([]Command(nil), cmds...)
	r.mu.Lock()
	r.snap = r.snapshotOf()
	r.mu.Unlock()
	after := r.m.State()
	for _, c := range todo {
		r.do(ctx, c)
	}
	if r.opts.Observe != nil {
		r.opts.Observe(ev, after, todo)
	}
}

func (r *Runner) snapshotOf() Snapshot {
	return Snapshot{State: r.m.State(), Call: r.m.Call(), Digits: r.m.Digits(), Tone: r.m.Tone(), LastError: r.m.LastError()}
}

// do carries out one command; failures are logged, and a Dial that cannot
// start fails its call so the handset hears congestion.
func (r *Runner) do(ctx context.Context, c Command) {
	var err error
	switch c.Kind {
	case CmdStartTimer:
		r.startTimer(c)
		return
	case CmdStopTimer:
		if t := r.timers[c.Timer]; t != nil {
			t.Stop()
			r.timers[c.Timer] = nil
		}
		return
	case CmdCallEnded:
		r.results[c.Result].Add(1)
		r.log.Info("call ended", "result", c.Result)
		return
	case CmdPlayTone:
		err = r.opts.Tones.PlayTone(c.Tone)
	case CmdStopTone:
		err = r.opts.Tones.StopTone()
	}
	if c.Kind.IsNetwork() {
		err = r.network(ctx, c)
		if err != nil && c.Kind == CmdDial {
			r.log.Warn("dial failed", "call", c.Call, "number", c.Number, "err", err)
			r.handle(ctx, Event{Kind: Failed, Call: c.Call, Reason: err.Error()})
			return
		}
	} else if err == nil {
		err = r.lineCommand(ctx, c)
	}
	if err != nil {
		r.log.Warn("command failed", "command", c.String(), "err", err)
	}
}

func (r *Runner) network(ctx context.Context, c Command) error {
	n := r.opts.Network
	switch c.Kind {
	case CmdDial:
		return n.Dial(ctx, c.Call, c.Number)
	case CmdAnswer:
		return n.Answer(ctx, c.Call)
	case CmdReject:
		return n.Reject(ctx, c.Call, c.Status)
	case CmdHangup:
		return n.Hangup(ctx, c.Call)
	case CmdSendDigit:
		return n.SendDigit(ctx, c.Call, c.Digit)
	}
	return nil
}

func (r *Runner) lineCommand(ctx context.Context, c Command) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.CommandTimeout)
	defer cancel()
	l := r.opts.Line
	switch c.Kind {
	case CmdRing:
		return l.Ring(ctx, c.Cadence)
	case CmdStopRinging:
		return l.StopRinging(ctx)
	case CmdReverse:
		return l.Reverse(ctx, c.On)
	case CmdTalk:
		return l.Talk(ctx, c.On)
	}
	return nil
}

func (r *Runner) startTimer(c Command) {
	if t := r.timers[c.Timer]; t != nil {
		t.Stop()
	}
	ev := Event{Kind: TimerExpired, Timer: c.Timer, Seq: c.Seq}
	r.timers[c.Timer] = r.opts.Clock.AfterFunc(c.After, func() {
		// The Machine drops an expiry that a later stop or start made
		// stale, so a late delivery is harmless.
		select {
		case r.inbox <- ev:
		case <-r.done:
		}
	})
}

// shutdown hangs up and rests the line when Run ends.
func (r *Runner) shutdown() {
	for i, t := range r.timers {
		if t != nil {
			t.Stop()
			r.timers[i] = nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.CommandTimeout)
	defer cancel()
	if call := r.m.Call(); call != "" {
		if err := r.opts.Network.Hangup(ctx, call); err != nil {
			r.log.Warn("hangup on shutdown", "call", call, "err", err)
		}
	}
	if r.m.Tone() != ToneNone {
		_ = r.opts.Tones.StopTone()
	}
	if err := r.opts.Line.Idle(ctx); err != nil {
		r.log.Warn("line idle on shutdown", "err", err)
	}
}
