package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/status"
)

// Options are the daemon's parts, opened by the caller (main, the demo,
// tests).
type Options struct {
	Line  line.Line
	Audio audio.Device
	UA    UA
	Phone phone.Config
	Zone  tone.Zone
	Clock clock.Clock
	Log   *slog.Logger
	// Observe, if set, sees every event the phone handled (see
	// phone.RunnerOptions.Observe).
	Observe func(phone.Event, phone.State, []phone.Command)
	// Tones, if set, wraps the tone player (the terminal phone prints
	// the tones).
	Tones func(phone.TonePlayer) phone.TonePlayer
	// StatusListen is the status server's address; "" for none.
	StatusListen string
	// Registrar is shown in /health.
	Registrar string
	// Started, if set, is called once the UA serves and the phone runs.
	Started func(*Daemon)
}

// Daemon is a running gateway, for Started and status.
type Daemon struct {
	Runner  *phone.Runner
	Network *Network
	Pump    *Pump
}

// shutdownTimeout bounds the UA's hang-up and unregistration at the end.
const shutdownTimeout = 10 * time.Second

// Run runs the gateway until ctx ends: the UA serves, the phone runs on
// the line, the pump on the sound card. On the way out the phone hangs up
// and rests the line, then the UA hangs up what is left and unregisters.
func Run(ctx context.Context, o Options) error {
	if o.Line == nil || o.Audio == nil || o.UA == nil {
		return errors.New("daemon: Line, Audio and UA are required")
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	m, err := phone.New(o.Phone)
	if err != nil {
		return err
	}

	// The UA and the call goroutines outlive the phone by a little, so
	// that its last hang-up still reaches the network.
	uaCtx, stopUA := context.WithCancel(context.WithoutCancel(ctx))
	defer stopUA()
	uaDone := make(chan error, 1)
	go func() { uaDone <- o.UA.Run(uaCtx) }()
	select {
	case <-o.UA.Ready():
	case err := <-uaDone:
		return fmt.Errorf("SIP: %w", err)
	case <-ctx.Done():
		stopUA()
		<-uaDone
		return nil
	}

	pump := NewPump(o.Audio, o.Zone, log.With("part", "audio"))
	netw := NewNetwork(uaCtx, o.UA, pump, log.With("part", "network"))
	var tones phone.TonePlayer = pump
	if o.Tones != nil {
		tones = o.Tones(pump)
	}
	r, err := phone.NewRunner(m, phone.RunnerOptions{Line: o.Line, Network: netw, Tones: tones, Clock: o.Clock, Logger: log.With("part", "phone"), Observe: o.Observe})
	if err != nil {
		stopUA()
		<-uaDone
		return err
	}
	netw.SetPoster(r)

	pumpCtx, stopPump := context.WithCancel(ctx)
	defer stopPump()
	pumpDone := make(chan error, 1)
	go func() { pumpDone <- pump.Run(pumpCtx) }()
	go netw.Serve(uaCtx)

	statusDone := make(chan error, 1)
	if o.StatusListen != "" {
		srv, err := status.New(status.Options{SIP: SIPStatus{UA: o.UA, Network: netw, Registrar: o.Registrar}, Media: netw, Line: o.Line, Phone: r, Logger: log.With("part", "status")})
		if err != nil {
			stopUA()
			<-uaDone
			return err
		}
		go func() { statusDone <- srv.ListenAndServe(ctx, o.StatusListen) }()
	} else {
		statusDone <- nil
	}

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(runCtx) }()
	if o.Started != nil {
		o.Started(&Daemon{Runner: r, Network: netw, Pump: pump})
	}

	var runErr error
	select {
	case runErr = <-runDone:
	case err := <-pumpDone:
		// The sound card failed: nothing works without it.
		runErr = err
		stopRun()
		<-runDone
	}
	stopPump()

	stopUA()
	select {
	case err := <-uaDone:
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("SIP stopped with an error", "err", err)
		}
	case <-time.After(shutdownTimeout):
		log.Warn("SIP did not stop in time")
	}
	netw.Wait()
	if err := <-statusDone; err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("status server", "err", err)
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	return nil
}
