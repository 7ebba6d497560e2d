package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
	"github.com/kurodenwa/kurodenwa/pi-gateway/status"
)

// Poster takes network events for the phone; *phone.Runner is one.
type Poster interface {
	Post(ctx context.Context, ev phone.Event) error
}

// AudioPath is where a call's audio is attached while it flows; *Pump is
// one.
type AudioPath interface {
	Connect(a sipua.Audio)
	Disconnect(a sipua.Audio)
}

// actionTimeout bounds one SIP action (answer, digit, hang-up) so a
// silent far end cannot hold a call's worker for ever.
const actionTimeout = 32 * time.Second

// Network is phone.Network on a UA. Each call has a worker that carries
// out its actions in order (a digit never overtakes the answer) and a
// watcher that turns its SIP events into phone events.
type Network struct {
	ua    UA
	post  Poster
	audio AudioPath
	log   *slog.Logger

	ctx context.Context // the daemon's lifetime, for the goroutines
	wg  sync.WaitGroup

	mu    sync.Mutex
	calls map[phone.CallID]*callEntry
	done  media.Stats // summed counters of calls that ended
	jit   time.Duration
}

type callEntry struct {
	call    Call
	id      phone.CallID
	since   time.Time
	actions chan func(context.Context)
}

// NewNetwork makes the adapter; ctx bounds every goroutine it starts.
// Call SetPoster before the first event can arrive (before Serve).
func NewNetwork(ctx context.Context, ua UA, audio AudioPath, log *slog.Logger) *Network {
	if log == nil {
		log = slog.Default()
	}
	return &Network{ua: ua, audio: audio, log: log, ctx: ctx, calls: map[phone.CallID]*callEntry{}}
}

// SetPoster names where events go: the Runner, which needs the Network to
// be built first.
func (n *Network) SetPoster(p Poster) { n.post = p }

// Serve hands incoming calls to the phone until ctx ends.
func (n *Network) Serve(ctx context.Context) {
	for {
		c, ok := n.ua.NextIncoming(ctx)
		if !ok {
			return
		}
		id := phone.CallID(c.ID())
		n.track(id, c)
		n.emit(phone.Event{Kind: phone.Incoming, Call: id, From: c.Remote().String()})
	}
}

// Wait waits for every call's goroutines, after the daemon's ctx ended.
func (n *Network) Wait() { n.wg.Wait() }

// Dial implements phone.Network.
func (n *Network) Dial(ctx context.Context, id phone.CallID, number string) error {
	c, err := n.ua.Dial(ctx, number)
	if err != nil {
		return fmt.Errorf("dial %s: %w", number, err)
	}
	n.track(id, c)
	return nil
}

// Answer implements phone.Network.
func (n *Network) Answer(_ context.Context, id phone.CallID) error {
	return n.do(id, "answer", func(ctx context.Context, c Call) error { return c.Answer(ctx) })
}

// Reject implements phone.Network.
func (n *Network) Reject(_ context.Context, id phone.CallID, st int) error {
	return n.do(id, "reject", func(ctx context.Context, c Call) error { return c.Reject(ctx, st) })
}

// Hangup implements phone.Network.
func (n *Network) Hangup(_ context.Context, id phone.CallID) error {
	return n.do(id, "hang up", func(ctx context.Context, c Call) error { return c.Hangup(ctx) })
}

// SendDigit implements phone.Network.
func (n *Network) SendDigit(_ context.Context, id phone.CallID, d byte) error {
	return n.do(id, "send digit", func(ctx context.Context, c Call) error { return c.SendDigit(ctx, d) })
}

// ErrNoCall is returned for an action on a call the Network does not know
// (already ended).
var ErrNoCall = errors.New("daemon: no such call")

// do queues an action on the call's worker and returns at once, as
// phone.Network asks: SIP actions wait for replies.
func (n *Network) do(id phone.CallID, what string, f func(context.Context, Call) error) error {
	n.mu.Lock()
	e := n.calls[id]
	n.mu.Unlock()
	if e == nil {
		return fmt.Errorf("%s %s: %w", what, id, ErrNoCall)
	}
	act := func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, actionTimeout)
		defer cancel()
		if err := f(ctx, e.call); err != nil && !errors.Is(err, sipua.ErrCallEnded) {
			n.log.Warn("SIP action failed", "call", id, "action", what, "err", err)
		}
	}
	select {
	case e.actions <- act:
		return nil
	default:
		return fmt.Errorf("%s %s: too many actions queued", what, id)
	}
}

// track starts a call's worker and watcher.
func (n *Network) track(id phone.CallID, c Call) {
	e := &callEntry{call: c, id: id, since: time.Now(), actions: make(chan func(context.Context), 32)}
	n.mu.Lock()
	n.calls[id] = e
	n.mu.Unlock()
	stop := make(chan struct{})
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		for {
			select {
			case act := <-e.actions:
				act(n.ctx)
			case <-stop:
				return
			case <-n.ctx.Done():
				return
			}
		}
	}()
	go func() {
		defer n.wg.Done()
		defer close(stop)
		n.watch(e)
	}()
}

// watch reads the call's events until the channel closes (sipua closes
// it after EventEnded, also at shutdown) or the daemon stops.
func (n *Network) watch(e *callEntry) {
	attached := false
	for {
		var ev sipua.CallEvent
		select {
		case got, ok := <-e.call.Events():
			if !ok {
				if attached {
					n.audio.Disconnect(e.call.Audio())
				}
				n.forget(e)
				return
			}
			ev = got
		case <-n.ctx.Done():
			n.forget(e)
			return
		}
		n.log.Debug("call event", "call", e.id, "event", ev.String())
		switch ev.Kind {
		case sipua.EventEarlyMedia, sipua.EventAnswered:
			if !attached {
				n.audio.Connect(e.call.Audio())
				attached = true
			}
		case sipua.EventEnded:
			if attached {
				n.audio.Disconnect(e.call.Audio())
				attached = false
			}
			n.forget(e)
		}
		if pe, ok := Translate(ev, e.call.Direction()); ok {
			pe.Call = e.id
			n.emit(pe)
		}
	}
}

func (n *Network) forget(e *callEntry) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.calls[e.id] != e {
		return
	}
	delete(n.calls, e.id)
	st := e.call.Stats()
	n.done.PacketsSent += st.PacketsSent
	n.done.PacketsReceived += st.PacketsReceived
	n.done.Lost += max(st.Lost, 0)
	n.done.Late += st.Late
	n.jit = st.Jitter
}

func (n *Network) emit(ev phone.Event) {
	if n.post == nil {
		return
	}
	if err := n.post.Post(n.ctx, ev); err != nil && n.ctx.Err() == nil {
		n.log.Warn("phone did not take event", "event", ev.String(), "err", err)
	}
}

// Translate maps a SIP call event to the phone's event; false when the
// phone has no use for it (100 Trying, hold, our own hang-up: the phone
// already knows).
func Translate(ev sipua.CallEvent, dir sipua.CallDirection) (phone.Event, bool) {
	switch ev.Kind {
	case sipua.EventRinging:
		return phone.Event{Kind: phone.Alerting, Status: ev.Status}, dir == sipua.Outgoing
	case sipua.EventEarlyMedia:
		return phone.Event{Kind: phone.EarlyMedia, Status: ev.Status}, dir == sipua.Outgoing
	case sipua.EventAnswered:
		// An incoming call is answered by the phone itself.
		return phone.Event{Kind: phone.Answered}, dir == sipua.Outgoing
	case sipua.EventEnded:
		switch ev.Cause {
		case sipua.CauseRemoteHangup, sipua.CauseCancelled:
			return phone.Event{Kind: phone.RemoteHangup, Status: ev.Status, Reason: ev.Cause.String()}, true
		case sipua.CauseRejected:
			if ev.Status == 486 || ev.Status == 600 {
				return phone.Event{Kind: phone.Busy, Status: ev.Status, Reason: ev.Reason}, true
			}
			return phone.Event{Kind: phone.Failed, Status: ev.Status, Reason: ev.Reason}, true
		case sipua.CauseFailed, sipua.CauseShutdown:
			return phone.Event{Kind: phone.Failed, Status: ev.Status, Reason: ev.Reason}, true
		}
	}
	return phone.Event{}, false
}

// Calls implements status.SIP's list of calls.
func (n *Network) Calls() []status.Call {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]status.Call, 0, len(n.calls))
	for _, e := range n.calls {
		dir := "out"
		if e.call.Direction() == sipua.Incoming {
			dir = "in"
		}
		out = append(out, status.Call{ID: string(e.id), Direction: dir, Remote: e.call.Remote().String(), State: e.call.State().String(), Since: e.since})
	}
	return out
}

// Media implements status.MediaSource: counters summed over every call
// since start, jitter of the current (or last) call.
func (n *Network) Media() status.Media {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := status.Media{PacketsSent: n.done.PacketsSent, PacketsReceived: n.done.PacketsReceived, PacketsLost: uint64(n.done.Lost), PacketsLate: n.done.Late, JitterSeconds: n.jit.Seconds()}
	for _, e := range n.calls {
		st := e.call.Stats()
		m.PacketsSent += st.PacketsSent
		m.PacketsReceived += st.PacketsReceived
		m.PacketsLost += uint64(max(st.Lost, 0))
		m.PacketsLate += st.Late
		m.JitterSeconds = st.Jitter.Seconds()
	}
	return m
}

// SIPStatus is status.SIP over a UA and the Network's calls.
type SIPStatus struct {
	UA        UA
	Network   *Network
	Registrar string
}

// Registration implements status.SIP.
func (s SIPStatus) Registration() status.Registration {
	rs := s.UA.Registration()
	r := status.Registration{Registrar: s.Registrar}
	switch rs.Status {
	case sipua.RegRegistering:
		r.State = status.RegRegistering
	case sipua.RegRegistered:
		r.State, r.Expires = status.RegRegistered, rs.Expires
	case sipua.RegFailed:
		r.State = status.RegFailed
		if rs.Err != nil {
			r.Detail = rs.Err.Error()
		} else if rs.LastStatus != 0 {
			r.Detail = fmt.Sprintf("last status %d", rs.LastStatus)
		}
	default:
		r.State = status.RegUnregistered
	}
	return r
}

// Calls implements status.SIP.
func (s SIPStatus) Calls() []status.Call { return s.Network.Calls() }
