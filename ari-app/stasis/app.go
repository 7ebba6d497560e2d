// Package stasis is the ARI (Stasis) application: it feeds the events of
// the ARI websocket to the call engine (package call), one at a time and in
// order, and carries out the engine's commands through ARI's REST API,
// in order per call and concurrently across calls. It keeps the engine's
// timers, re-adopts what is left in the application after a reconnect, and
// drains on shutdown by handing new calls back to the dialplan's fallback.
package stasis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/kurodenwa/kurodenwa/ari-app/asterisk"
	"github.com/kurodenwa/kurodenwa/ari-app/call"
	"github.com/kurodenwa/kurodenwa/internal/route"
)

// REST is what the application asks of Asterisk; *asterisk.REST does it.
type REST interface {
	Answer(ctx context.Context, ch string) error
	Ring(ctx context.Context, ch string) error
	Progress(ctx context.Context, ch string) error
	Hangup(ctx context.Context, ch string, cause int) error
	Dial(ctx context.Context, id, endpoint, originator string, vars map[string]string, timeout time.Duration) error
	CreateBridge(ctx context.Context, id, typ string) error
	DestroyBridge(ctx context.Context, id string) error
	AddToBridge(ctx context.Context, bridge, ch string, absorbDTMF bool) error
	SendDTMF(ctx context.Context, ch, digits string) error
	RemoveFromBridge(ctx context.Context, bridge, ch string) error
	StartMOH(ctx context.Context, bridge, class string) error
	StopMOH(ctx context.Context, bridge string) error
	Play(ctx context.Context, ch, playback string, media []string) error
	StopPlayback(ctx context.Context, playback string) error
	Continue(ctx context.Context, ch string) error
	SetVariable(ctx context.Context, ch, name, value string) error
	TransferProgress(ctx context.Context, ch, state string) error
	AppSnapshot(ctx context.Context) (asterisk.Snapshot, error)
}

// FallbackVar is set on a call handed back to the dialplan while draining;
// the dialplan then routes it by FastAGI as if Stasis() had failed.
const FallbackVar = "KD_FALLBACK"

// Observer hears about every ended call and every failed request, for
// metrics; nil-safe.
type Observer interface {
	CallEnded(r call.CallRecord)
	CommandFailed(kind call.CommandKind, err error)
}

// App runs one Stasis application.
type App struct {
	engine *call.Engine
	rest   REST
	log    *slog.Logger
	obs    Observer

	in       chan input
	draining atomic.Bool
	timers   map[string]*time.Timer // loop goroutine only

	mu     sync.Mutex
	queues map[string]*callQueue // per-call ordered command queues
	wg     sync.WaitGroup
}

// input is one thing for the loop.
type input struct {
	event        *call.Event
	reconcile    *asterisk.Snapshot
	appTransfers *bool
	at           time.Time
	query        chan<- View
}

// View is a consistent copy of the engine's state for the HTTP API.
type View struct {
	Live   []call.CallRecord
	Recent []call.CallRecord
	Stats  call.Stats
}

// New returns an application around engine.
func New(engine *call.Engine, rest REST, log *slog.Logger, obs Observer) *App {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &App{
		engine: engine, rest: rest, log: log, obs: obs,
		in:     make(chan input, 256),
		timers: map[string]*time.Timer{},
		queues: map[string]*callQueue{},
	}
}

// Run is the event loop; it returns when ctx ends, after the commands
// under way have finished (each bounded by REST's deadline).
func (a *App) Run(ctx context.Context) error {
	defer a.wg.Wait()
	defer func() {
		for _, t := range a.timers {
			t.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case in := <-a.in:
			a.handle(ctx, in)
		}
	}
}

func (a *App) handle(ctx context.Context, in input) {
	switch {
	case in.appTransfers != nil:
		a.engine.SetAppTransfers(*in.appTransfers)
	case in.query != nil:
		in.query <- View{Live: a.engine.Snapshot(), Recent: a.engine.Recent(), Stats: a.engine.Stats()}
	case in.reconcile != nil:
		chans := make([]call.ChannelInfo, 0, len(in.reconcile.Channels))
		for _, c := range in.reconcile.Channels {
			chans = append(chans, channelInfo(c))
		}
		bridges := make([]call.BridgeInfo, 0, len(in.reconcile.Bridges))
		for _, b := range in.reconcile.Bridges {
			bridges = append(bridges, bridgeInfo(b))
		}
		a.log.Info("reconciling with Asterisk", "channels", len(chans), "bridges", len(bridges))
		a.dispatch(ctx, a.engine.Reconcile(in.at, chans, bridges))
	case in.event != nil:
		if in.event.Kind == call.EventTimerFired {
			delete(a.timers, in.event.Timer)
		}
		a.dispatch(ctx, a.engine.Handle(*in.event))
	}
}

// post hands an input to the loop; it blocks rather than drop anything.
func (a *App) post(ctx context.Context, in input) {
	select {
	case a.in <- in:
	case <-ctx.Done():
	}
}

// SetAppTransfers tells the engine whether it carries out softphones'
// REFERs (call.Engine.SetAppTransfers). Called from the stream's Connected
// before App.Connected, it takes effect before anything read on the new
// connection.
func (a *App) SetAppTransfers(ctx context.Context, on bool) {
	a.post(ctx, input{appTransfers: &on})
}

// Query returns a copy of the engine's state, or ctx's error.
func (a *App) Query(ctx context.Context) (View, error) {
	reply := make(chan View, 1)
	select {
	case a.in <- input{query: reply}:
	case <-ctx.Done():
		return View{}, ctx.Err()
	}
	select {
	case v := <-reply:
		return v, nil
	case <-ctx.Done():
		return View{}, ctx.Err()
	}
}

// dispatch carries out the engine's commands: timers and records here,
// requests on the call's queue.
func (a *App) dispatch(ctx context.Context, cmds []call.Command) {
	for _, c := range cmds {
		switch c.Kind {
		case call.CmdStartTimer:
			id := c.Timer
			a.timers[id] = time.AfterFunc(c.After, func() {
				a.post(ctx, input{event: &call.Event{Kind: call.EventTimerFired, Timer: id, At: time.Now()}})
			})
		case call.CmdCancelTimer:
			if t, ok := a.timers[c.Timer]; ok {
				t.Stop()
				delete(a.timers, c.Timer)
			}
		case call.CmdCallEnded:
			if c.Record != nil {
				r := *c.Record
				a.log.Info("call ended", "call_id", r.ID, "direction", r.Direction.String(), "result", r.Result.String(),
					"dialled", r.Dialled, "target", r.Target, "reason", r.Reason)
				if a.obs != nil {
					a.obs.CallEnded(r)
				}
			}
		default:
			c.Media = slices.Clone(c.Media) // the engine reuses its slices
			a.log.Debug("command", "call_id", c.Call, "cmd", c.Kind.String(), "channel", c.Channel, "reason", c.Reason)
			a.enqueue(ctx, c)
		}
	}
}

// callQueue runs one call's requests in order.
type callQueue struct {
	cmds []call.Command
}

func (a *App) enqueue(ctx context.Context, c call.Command) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if q, ok := a.queues[c.Call]; ok {
		q.cmds = append(q.cmds, c)
		return
	}
	q := &callQueue{cmds: []call.Command{c}}
	a.queues[c.Call] = q
	a.wg.Add(1)
	go a.drainQueue(ctx, c.Call, q)
}

func (a *App) drainQueue(ctx context.Context, id string, q *callQueue) {
	defer a.wg.Done()
	for {
		a.mu.Lock()
		if len(q.cmds) == 0 {
			delete(a.queues, id)
			a.mu.Unlock()
			return
		}
		c := q.cmds[0]
		q.cmds = q.cmds[1:]
		a.mu.Unlock()
		a.execute(context.WithoutCancel(ctx), c)
	}
}

// execute makes one request. A failed dial is reported to the engine as
// the dialled channel's end, so the call moves on (congestion, next
// member); other failures are logged: the engine's timers bound every
// state, so no call waits forever on a request that failed.
func (a *App) execute(ctx context.Context, c call.Command) {
	var err error
	switch c.Kind {
	case call.CmdAnswer:
		err = a.rest.Answer(ctx, c.Channel)
	case call.CmdRing:
		err = a.rest.Ring(ctx, c.Channel)
	case call.CmdProgress:
		err = a.rest.Progress(ctx, c.Channel)
	case call.CmdHangup:
		err = a.rest.Hangup(ctx, c.Channel, c.Cause)
	case call.CmdDial:
		err = a.rest.Dial(ctx, c.Channel, c.Endpoint, c.Originator, dialVars(c), c.Timeout)
		if err != nil {
			cause := 34 // no circuit available
			if errors.Is(err, asterisk.ErrNotFound) {
				cause = 3 // no route: the endpoint does not exist
			}
			a.post(ctx, input{event: &call.Event{Kind: call.EventChannelDestroyed, Channel: c.Channel, Cause: cause, At: time.Now()}})
		}
	case call.CmdCreateBridge:
		err = a.rest.CreateBridge(ctx, c.Bridge, c.BridgeType.String())
	case call.CmdDestroyBridge:
		err = a.rest.DestroyBridge(ctx, c.Bridge)
	case call.CmdAddToBridge:
		err = a.rest.AddToBridge(ctx, c.Bridge, c.Channel, c.AbsorbDTMF)
	case call.CmdRemoveFromBridge:
		err = a.rest.RemoveFromBridge(ctx, c.Bridge, c.Channel)
	case call.CmdStartMOH:
		err = a.rest.StartMOH(ctx, c.Bridge, c.MOHClass)
	case call.CmdStopMOH:
		err = a.rest.StopMOH(ctx, c.Bridge)
	case call.CmdPlay:
		err = a.rest.Play(ctx, c.Channel, c.Playback, c.Media)
		if err != nil {
			// A playback that never started never finishes: say so.
			a.post(ctx, input{event: &call.Event{Kind: call.EventPlaybackFinished, Playback: c.Playback, At: time.Now()}})
		}
	case call.CmdStopPlayback:
		err = a.rest.StopPlayback(ctx, c.Playback)
	case call.CmdContinue:
		err = a.rest.Continue(ctx, c.Channel)
	case call.CmdSetVariable:
		err = a.rest.SetVariable(ctx, c.Channel, c.Name, c.Value)
	case call.CmdTransferProgress:
		err = a.rest.TransferProgress(ctx, c.Channel, string(c.TransferState))
	case call.CmdSendDTMF:
		err = a.rest.SendDTMF(ctx, c.Channel, c.Digits)
	default:
		err = fmt.Errorf("unknown command %v", c.Kind)
	}
	if err == nil {
		return
	}
	// Things end while requests are on their way: a channel gone by the
	// time we hang it up is no failure.
	// A transferer that hung up before hearing the outcome needs none.
	if errors.Is(err, asterisk.ErrNotFound) && (c.Kind == call.CmdHangup || c.Kind == call.CmdStopPlayback ||
		c.Kind == call.CmdDestroyBridge || c.Kind == call.CmdRemoveFromBridge || c.Kind == call.CmdStopMOH ||
		c.Kind == call.CmdTransferProgress) {
		return
	}
	a.log.Warn("ARI request failed", "call_id", c.Call, "cmd", c.Kind.String(), "err", err)
	if a.obs != nil {
		a.obs.CommandFailed(c.Kind, err)
	}
}

// Connected implements asterisk.Handler: on every (re)connect, fetch what
// is in the application and let the engine re-adopt it before any event
// read on the new connection.
func (a *App) Connected(ctx context.Context, reconnect bool) {
	snap, err := a.rest.AppSnapshot(ctx)
	if err != nil {
		a.log.Warn("cannot list the application's channels to reconcile", "err", err)
		return
	}
	if !reconnect && len(snap.Channels) == 0 && len(snap.Bridges) == 0 {
		return
	}
	a.post(ctx, input{reconcile: &snap, at: time.Now()})
}

// Event implements asterisk.Handler.
func (a *App) Event(ctx context.Context, e ari.Event) {
	if s, ok := e.(*ari.StasisStart); ok && a.draining.Load() && isNewCall(s.Args) {
		// Draining: the dialplan's fallback takes new calls.
		go a.handBack(ctx, s.Channel.ID)
		return
	}
	ev, ok := translate(e)
	if !ok {
		return
	}
	a.log.Debug("event", "type", e.GetType(), "channel", ev.Channel, "args", ev.Args, "replace", ev.ReplaceChannel,
		"endpoint", ev.Endpoint, "state", ev.State.String(), "dial_status", ev.DialStatus, "transferee", ev.Transferee)
	if ev.Kind == call.EventChannelTransfer {
		a.log.Info("REFER handed to the application", "transferer", ev.Channel, "transferee", ev.Transferee,
			"destination", ev.Destination, "replaces", ev.SecondLeg, "target", ev.TransferTarget)
	}
	a.post(ctx, input{event: &ev})
}

// Disconnected implements asterisk.Handler.
func (a *App) Disconnected(err error) {
	a.log.Warn("ARI websocket lost; events until it is back are lost", "err", err)
}

// dialVars are the variables a dialled channel is created with.
func dialVars(c call.Command) map[string]string {
	vars := map[string]string{}
	if c.CallerID != "" {
		vars["CALLERID(num)"] = c.CallerID
	}
	if c.Hops > 0 {
		vars[route.HopsVariable] = strconv.Itoa(c.Hops)
	}
	if c.Path != "" {
		vars[route.PathVariable] = c.Path
	}
	if c.AppTransfers {
		vars[call.TransferHandlingFunction] = call.TransferHandlingARI
	}
	return vars
}

func isNewCall(args []string) bool {
	return len(args) > 0 && (args[0] == "inbound" || args[0] == "outbound")
}

func (a *App) handBack(ctx context.Context, ch string) {
	ctx = context.WithoutCancel(ctx)
	if err := a.rest.SetVariable(ctx, ch, FallbackVar, "1"); err != nil {
		a.log.Warn("draining: cannot mark call for the fallback", "channel", ch, "err", err)
	}
	if err := a.rest.Continue(ctx, ch); err != nil {
		a.log.Warn("draining: cannot hand call back to the dialplan", "channel", ch, "err", err)
	}
}

// Drain stops taking new calls (they go to the dialplan's fallback) and
// waits until the live ones have ended, or ctx ends.
func (a *App) Drain(ctx context.Context) error {
	a.draining.Store(true)
	for {
		v, err := a.Query(ctx)
		if err != nil {
			return err
		}
		if len(v.Live) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d call(s) still live: %w", len(v.Live), ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}
