// Package demo is the gateway's main demonstration: on a machine with no
// Pi, no Asterisk and no Twilio, a real pi-gateway (the daemon with the
// real SIP stack, on the simulated line) calls a real baresip on
// 127.0.0.1, and every step of the call is shown as it happens and
// checked: off-hook, dial tone, pulses and digits, ringing and ringback,
// answer, audio both ways, the far end's hang-up, the hang-up tone and
// on-hook. Then baresip calls the black phone: the bell rings with the
// tone plan's cadence, the handset is lifted, audio flows both ways and
// baresip hangs up. Tones are checked with Goertzel filters on what the
// gateway played to the earpiece and on what baresip recorded; the
// daemon's status server (/health, /metrics on 127.0.0.1) is read as the
// calls happen.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/baresip"
	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/config"
	"github.com/kurodenwa/kurodenwa/pi-gateway/daemon"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/simphone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
	"github.com/kurodenwa/kurodenwa/pi-gateway/status"
)

// ErrNoBaresip is returned when baresip is not installed.
var ErrNoBaresip = errors.New("no baresip on PATH (Debian package baresip-core; make deps installs it)")

// Frequencies: what the phone's microphone says and what baresip plays.
const (
	MicTone     = 1004.0
	BaresipTone = 440.0
	// Number is what the demo dials; baresip's account answers to it.
	Number = "202"
)

// Options configure a demo run.
type Options struct {
	Out     io.Writer    // the step-by-step account
	Log     *slog.Logger // the gateway's own log (default: errors only, to stderr)
	Baresip string       // baresip's path (default: from PATH)
}

// StepError names the step that failed.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("step %q: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Run runs the demo; nil when every step passed.
func Run(ctx context.Context, o Options) error {
	if o.Baresip == "" {
		p, err := exec.LookPath("baresip")
		if err != nil {
			return ErrNoBaresip
		}
		o.Baresip = p
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	dir, err := os.MkdirTemp("", "kdgw-demo")
	if err != nil {
		return err
	}
	d := &run{out: &lockedWriter{w: o.Out}, log: o.Log, start: time.Now(), dir: dir}
	// The terminal phone's lines and the demo's share one clock origin.
	d.term = simphone.New(d.out, clock.Real{})
	err = d.run(ctx, o.Baresip)
	if err != nil {
		d.printf("files kept for inspection: %s (baresip.log, recordings)", dir)
	} else {
		os.RemoveAll(dir)
	}
	return err
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// observed is one event the phone handled and the state it led to.
type observed struct {
	ev phone.Event
	st phone.State
}

type run struct {
	out   io.Writer
	log   *slog.Logger
	start time.Time
	dir   string
	obs   chan observed
	bell  chan sim.Outputs // every change of the line's outputs
	ear   *device
	term  *simphone.Phone
	st    status.Client
	steps int
}

func (d *run) printf(format string, args ...any) {
	// Truncated as the terminal phone's stamps are, so both agree.
	el := time.Since(d.start).Truncate(100 * time.Millisecond)
	fmt.Fprintf(d.out, "[%6.1fs] %s\n", el.Seconds(), fmt.Sprintf(format, args...))
}

func (d *run) pass(format string, args ...any) {
	d.steps++
	d.printf("✔ "+format, args...)
}

func (d *run) run(ctx context.Context, bin string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	d.printf("starting baresip on 127.0.0.1 (account %s, plays %v Hz, records what it hears)", Number, BaresipTone)
	br, err := baresip.Start(ctx, bin, baresip.Options{Dir: d.dir, User: Number, ToneFreq: BaresipTone, Record: true, ManualAnswer: true})
	if err != nil {
		return &StepError{"start baresip", err}
	}
	defer br.Close()
	brEvents := make(chan baresip.Event, 64)
	go func() {
		for {
			e, err := br.WaitEvent(ctx, "\x00never", func(e baresip.Event) { brEvents <- e })
			if err != nil || e == nil {
				return
			}
		}
	}()

	rtp, err := baresip.FreePort()
	if err != nil {
		return err
	}
	rtp &^= 1
	if rtp < 1024 {
		rtp += 1024
	}
	httpPort, err := baresip.FreePort()
	if err != nil {
		return err
	}
	// The gateway's "PBX" is baresip itself: dialled digits go to
	// sip:DIGITS@127.0.0.1:PORT. A REGISTER there gets 501 (baresip is
	// no registrar), which /health shows and the gateway retries quietly;
	// calls do not need it.
	yaml := fmt.Sprintf(`line: {backend: sim}
audio: {backend: silence}
sip:
  registrar: 127.0.0.1:%d
  bind: 127.0.0.1:0
  rtp_ports: %d-%d
phone:
  digit_map: "(2xx|x.T)"
  tone_zone: jp
http:
  listen: 127.0.0.1:%d
`, br.SIPPort, rtp, rtp+40, httpPort)
	cfg, err := config.Parse([]byte(yaml), "demo", config.Options{LookupEnv: func(k string) (string, bool) {
		if k == "KURODENWA_SIP_PASSWORD" {
			return "Demo-not-a-secret-1", true // baresip asks for none
		}
		return "", false
	}})
	if err != nil {
		return &StepError{"config", err}
	}
	zone, err := cfg.Zone()
	if err != nil {
		return err
	}
	pc, err := cfg.PhoneConfig()
	if err != nil {
		return err
	}
	pulses, err := cfg.PulseConfig()
	if err != nil {
		return err
	}
	ua, err := sipua.New(daemon.SIPConfig(cfg), d.log.With("part", "sip"))
	if err != nil {
		return &StepError{"start SIP", err}
	}

	clk := clock.Real{}
	term := d.term
	d.bell = make(chan sim.Outputs, 64)
	so := term.SimOptions(sim.Options{Pulse: pulses, Clock: clk})
	show := so.OnChange
	so.OnChange = func(o sim.Outputs) {
		show(o)
		select {
		case d.bell <- o:
		default: // called under the line's lock: never block it
		}
	}
	l, err := sim.New(so)
	if err != nil {
		return err
	}
	term.Attach(l)
	d.obs = make(chan observed, 256)
	d.ear = newDevice(MicTone)
	started := make(chan struct{})
	runCtx, stopGateway := context.WithCancel(ctx)
	defer stopGateway()
	gwDone := make(chan error, 1)
	go func() {
		gwDone <- daemon.Run(runCtx, daemon.Options{
			Line: l, Audio: d.ear, UA: daemon.FromSIPUA(ua), Phone: pc, Zone: zone, Clock: clk, Log: d.log,
			StatusListen: cfg.HTTP.Listen, Registrar: cfg.SIP.Registrar,
			Tones: term.Tones,
			Observe: func(ev phone.Event, st phone.State, cmds []phone.Command) {
				term.Observe(ev, st, cmds)
				select {
				case d.obs <- observed{ev, st}:
				default: // the demo only waits for a few; never block the phone
				}
			},
			Started: func(*daemon.Daemon) { close(started) },
		})
	}()
	select {
	case <-started:
	case err := <-gwDone:
		return &StepError{"start gateway", err}
	case <-time.After(10 * time.Second):
		return &StepError{"start gateway", errors.New("not running within 10 s")}
	}
	d.printf("pi-gateway running: SIP %s, simulated line, tone zone jp; dialling %s reaches %s", ua.Addr(), Number, br.URI())
	d.st = status.Client{Base: "http://" + cfg.HTTP.Listen}
	if err := d.st.Wait(ctx, 10*time.Second); err != nil {
		return &StepError{"status server", err}
	}
	h, err := d.st.Health(ctx)
	if err != nil {
		return &StepError{"status server", err}
	}
	if h.Line == nil || h.Line.State != "idle" || len(h.Calls) != 0 {
		return &StepError{"status server", fmt.Errorf("/health before any call: %s", describe(h))}
	}
	d.pass("status server on %s: /health says %s", d.st.Base, describe(h))
	if r := h.Registration; r != nil {
		reg := r.State
		if r.Detail != "" {
			reg += " (" + r.Detail + ")"
		}
		d.printf("  registration: %s; baresip stands in for the PBX but is no registrar, and calls need none", reg)
	}

	if err := d.call(ctx, l, br, brEvents); err != nil {
		return err
	}
	if err := d.incoming(ctx, l, "sip:"+cfg.SIP.User+"@"+ua.Addr().String(), pc.RingCadence, br, brEvents); err != nil {
		return err
	}

	stopGateway()
	select {
	case err := <-gwDone:
		if err != nil {
			return &StepError{"shutdown", err}
		}
	case <-time.After(15 * time.Second):
		return &StepError{"shutdown", errors.New("the gateway did not stop within 15 s")}
	}
	d.pass("gateway stopped cleanly")
	d.printf("all %d checks passed", d.steps)
	return nil
}

// call is the call itself, step by step.
func (d *run) call(ctx context.Context, l *sim.Line, br *baresip.Baresip, brEvents <-chan baresip.Event) error {
	step := func(name string, err error) error {
		if err != nil {
			return &StepError{name, err}
		}
		return nil
	}

	d.printf("you lift the handset")
	l.Lift()
	if err := step("off-hook", d.waitState(ctx, phone.StateDialTone, 5*time.Second)); err != nil {
		return err
	}
	d.pass("off-hook: the phone gives dial tone")
	pcm, err := d.ear.next(ctx, time.Second)
	if err != nil {
		return &StepError{"dial tone", err}
	}
	if det := (tone.Detector{Freq: 400}).Detect(pcm); det.OnShare < 0.9 {
		return &StepError{"dial tone", fmt.Errorf("400 Hz in %.0f%% of the earpiece's last second, want ≥ 90%%", 100*det.OnShare)}
	} else {
		d.pass("dial tone heard in the earpiece: 400 Hz continuous (%.0f%% of 1 s, %.1f dBm0)", 100*det.OnShare, det.Level)
	}

	d.printf("you dial %s on the rotary dial (10 pps pulse trains)", Number)
	if err := d.dial(ctx, l); err != nil {
		return err
	}
	d.pass("number %s complete (digit map), INVITE sent", Number)

	// Ringing: baresip rings (manual answer); the gateway plays ringback
	// unless baresip sends early media.
	ev, err := d.waitEvent(ctx, 10*time.Second, phone.Alerting, phone.EarlyMedia)
	if err != nil {
		return &StepError{"ringing", err}
	}
	if _, err := waitBaresip(ctx, brEvents, "CALL_INCOMING", 10*time.Second); err != nil {
		return &StepError{"ringing", err}
	}
	if ev.Kind == phone.Alerting {
		pcm, err := d.ear.next(ctx, 2500*time.Millisecond)
		if err != nil {
			return &StepError{"ringback", err}
		}
		det := tone.Detector{Freq: 400}.Detect(pcm)
		if !det.Present || det.OnShare < 0.2 || det.OnShare > 0.7 {
			return &StepError{"ringback", fmt.Errorf("400 Hz (16 Hz modulated, 1 s on / 2 s off) not found: on %.0f%%, runs %v", 100*det.OnShare, det.Runs)}
		}
		d.pass("ringback heard: 400 Hz × 16 Hz, on %.0f%% of 2.5 s (1 s on / 2 s off)", 100*det.OnShare)
	} else {
		d.pass("far end sends early media: no local ringback")
	}

	d.printf("baresip answers (ctrl_tcp accept)")
	if _, err := br.Command(ctx, "accept", ""); err != nil {
		return &StepError{"answer", err}
	}
	if err := step("answer", d.waitState(ctx, phone.StateConnected, 10*time.Second)); err != nil {
		return err
	}
	if _, err := waitBaresip(ctx, brEvents, "CALL_ESTABLISHED", 10*time.Second); err != nil {
		return &StepError{"answer", err}
	}
	d.pass("answered: polarity reversed, speech path connected")
	return d.talkUntilFarEndHangs(ctx, l, br, brEvents, "out", "answered")
}

// talkUntilFarEndHangs is the end of either call: baresip's tone in the
// earpiece, the status server's view of the call (direction dir), baresip
// hanging up, the hang-up tone, on-hook, and the call counted as result.
func (d *run) talkUntilFarEndHangs(ctx context.Context, l *sim.Line, br *baresip.Baresip, brEvents <-chan baresip.Event, dir, result string) error {
	before, err := d.st.Metrics(ctx)
	if err != nil {
		return &StepError{"metrics", err}
	}
	// Give the media a moment to flow, then listen for baresip's tone.
	if _, err := d.ear.next(ctx, 500*time.Millisecond); err != nil {
		return &StepError{"audio from baresip", err}
	}
	pcm, err := d.ear.next(ctx, 3*time.Second)
	if err != nil {
		return &StepError{"audio from baresip", err}
	}
	ok, det := baresip.ToneFor(pcm, BaresipTone, 2*time.Second)
	if !ok {
		return &StepError{"audio from baresip", fmt.Errorf("%v Hz not in the earpiece for 2 of 3 s: %v", BaresipTone, det.Runs)}
	}
	d.pass("earpiece hears baresip's %v Hz (%.0f%% of 3 s, %.1f dBm0)", BaresipTone, 100*det.OnShare, det.Level)
	if err := d.checkCall(ctx, dir, before); err != nil {
		return err
	}

	d.printf("baresip hangs up (ctrl_tcp hangup)")
	if _, err := br.Command(ctx, "hangup", ""); err != nil {
		return &StepError{"far-end hang-up", err}
	}
	if err := d.farEndHangup(ctx, br, brEvents); err != nil {
		return err
	}

	d.printf("you replace the handset")
	l.Replace()
	if err := d.waitState(ctx, phone.StateIdle, 5*time.Second); err != nil {
		return &StepError{"on-hook", err}
	}
	d.pass("on-hook: line idle")
	return d.checkIdle(ctx, result)
}

// waitState waits, bounded, until the phone reaches st.
func (d *run) waitState(ctx context.Context, st phone.State, limit time.Duration) error {
	t := time.NewTimer(limit)
	defer t.Stop()
	var last phone.State
	for {
		select {
		case o := <-d.obs:
			if o.st == st {
				return nil
			}
			last = o.st
		case <-t.C:
			return fmt.Errorf("the phone did not reach %s within %v (last %v)", st, limit, last)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitEvent waits, bounded, for one of the phone events kinds.
func (d *run) waitEvent(ctx context.Context, limit time.Duration, kinds ...phone.EventKind) (phone.Event, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case o := <-d.obs:
			for _, k := range kinds {
				if o.ev.Kind == k {
					return o.ev, nil
				}
			}
		case <-t.C:
			return phone.Event{}, fmt.Errorf("no %v within %v", kinds, limit)
		case <-ctx.Done():
			return phone.Event{}, ctx.Err()
		}
	}
}

func waitBaresip(ctx context.Context, events <-chan baresip.Event, typ string, limit time.Duration) (baresip.Event, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case e := <-events:
			if e.Type() == typ {
				return e, nil
			}
		case <-t.C:
			return nil, fmt.Errorf("baresip reported no %s within %v", typ, limit)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// farEndHangup checks what follows baresip's BYE: the phone hears of it,
// the earpiece the hang-up tone, and baresip's recording of the call holds
// our microphone's tone.
func (d *run) farEndHangup(ctx context.Context, br *baresip.Baresip, brEvents <-chan baresip.Event) error {
	if _, err := d.waitEvent(ctx, 10*time.Second, phone.RemoteHangup); err != nil {
		return &StepError{"far-end hang-up", err}
	}
	d.pass("far end hung up (BYE)")

	pcm, err := d.ear.next(ctx, 2*time.Second)
	if err != nil {
		return &StepError{"hang-up tone", err}
	}
	det := tone.Detector{Freq: 400}.Detect(pcm)
	if !det.Present || det.OnShare < 0.3 || det.OnShare > 0.7 || len(det.Runs) < 3 {
		return &StepError{"hang-up tone", fmt.Errorf("400 Hz 0.5 s on / 0.5 s off not found: on %.0f%%, runs %v", 100*det.OnShare, det.Runs)}
	}
	d.pass("hang-up tone (終話音) heard: 400 Hz, on %.0f%% of 2 s, cadence %v", 100*det.OnShare, det.Cadence())

	if _, err := waitBaresip(ctx, brEvents, "CALL_CLOSED", 10*time.Second); err != nil {
		return &StepError{"audio to baresip", err}
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	rec, err := br.ReceivedAudio(rctx)
	cancel()
	if err != nil {
		return &StepError{"audio to baresip", err}
	}
	ok, det := baresip.ToneFor(rec, MicTone, 2*time.Second)
	if !ok {
		return &StepError{"audio to baresip", fmt.Errorf("our %v Hz not in baresip's recording for 2 s: %v", MicTone, det.Runs)}
	}
	d.pass("baresip's recording has our %v Hz microphone tone (%.1f s of %.1f s)", MicTone, det.OnShare*float64(len(rec))/8000, float64(len(rec))/8000)
	return nil
}

// incoming is the other way round: baresip calls the black phone, the
// bell rings, the handset is lifted, baresip hangs up.
func (d *run) incoming(ctx context.Context, l *sim.Line, uri string, cadence []time.Duration, br *baresip.Baresip, brEvents <-chan baresip.Event) error {
	// The first call's news and recording are done with.
	for drained := false; !drained; {
		select {
		case <-d.bell:
		case <-d.obs:
		default:
			drained = true
		}
	}
	old, _ := filepath.Glob(filepath.Join(br.Dir, "dump-*.wav"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return &StepError{"incoming call", err}
		}
	}

	d.printf("baresip calls the black phone (ctrl_tcp dial %s)", uri)
	if _, err := br.Command(ctx, "dial", uri); err != nil {
		return &StepError{"incoming call", err}
	}
	o, err := d.waitBell(ctx, 10*time.Second, "the bell ringing", func(o sim.Outputs) bool { return o.Ringing })
	if err != nil {
		return &StepError{"bell", err}
	}
	if !slices.Equal(o.Cadence, cadence) {
		return &StepError{"bell", fmt.Errorf("cadence %v, want the tone plan's %v", o.Cadence, cadence)}
	}
	if err := d.waitState(ctx, phone.StateRinging, 5*time.Second); err != nil {
		return &StepError{"bell", err}
	}
	if _, err := waitBaresip(ctx, brEvents, "CALL_RINGING", 10*time.Second); err != nil {
		return &StepError{"bell", err}
	}
	d.pass("the bell rings with the tone plan's cadence %v (1 s on, 2 s off); baresip got 180 Ringing", o.Cadence)
	h, err := d.st.Health(ctx)
	if err != nil {
		return &StepError{"/health while ringing", err}
	}
	if h.Line == nil || h.Line.State != "ringing" || len(h.Calls) != 1 || h.Calls[0].Direction != "in" {
		return &StepError{"/health while ringing", fmt.Errorf("want the phone ringing with one incoming call: %s", describe(h))}
	}
	d.pass("/health while it rings: %s", describe(h))
	// Let it ring a while: the speech path stays open, so the earpiece
	// (and the sound card behind it) hears nothing.
	pcm, err := d.ear.next(ctx, 1500*time.Millisecond)
	if err != nil {
		return &StepError{"bell", err}
	}
	if i := slices.IndexFunc(pcm, func(s int16) bool { return s != 0 }); i >= 0 {
		return &StepError{"bell", fmt.Errorf("the earpiece heard sound %.2f s into the ringing: the speech path must stay open", float64(i)/8000)}
	}
	d.pass("while the bell rings the earpiece is silent (1.5 s): speech path open")

	d.printf("you lift the handset")
	l.Lift()
	if err := d.waitState(ctx, phone.StateConnected, 5*time.Second); err != nil {
		return &StepError{"answer", err}
	}
	if _, err := d.waitBell(ctx, 5*time.Second, "bell silent, polarity reversed, speech path connected", func(o sim.Outputs) bool {
		return !o.Ringing && o.Reversed && o.Talk
	}); err != nil {
		return &StepError{"answer", err}
	}
	if _, err := waitBaresip(ctx, brEvents, "CALL_ESTABLISHED", 10*time.Second); err != nil {
		return &StepError{"answer", err}
	}
	d.pass("answered by lifting the handset: bell stopped, 200 OK sent, polarity reversed, speech path connected")
	return d.talkUntilFarEndHangs(ctx, l, br, brEvents, "in", "accepted")
}

// waitBell waits, bounded, until the line's outputs satisfy ok.
func (d *run) waitBell(ctx context.Context, limit time.Duration, what string, ok func(sim.Outputs) bool) (sim.Outputs, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case o := <-d.bell:
			if ok(o) {
				return o, nil
			}
		case <-t.C:
			return sim.Outputs{}, fmt.Errorf("the line did not show %s within %v", what, limit)
		case <-ctx.Done():
			return sim.Outputs{}, ctx.Err()
		}
	}
}

// dial turns the dial for Number until the phone places the call. The
// simulated dial's pulses run on real timers: on a loaded machine one may
// fire late enough for the decoder to reject the train (rightly: it
// never guesses). A person would then hang up and dial again, and so
// does the demo, once, saying so.
func (d *run) dial(ctx context.Context, l *sim.Line) error {
	for attempt := 1; ; attempt++ {
		if err := l.Dial(Number); err != nil {
			return &StepError{"dial", err}
		}
		reason, err := d.waitDialled(ctx, 15*time.Second)
		if err != nil {
			return &StepError{"dial", err}
		}
		if reason == "" {
			return nil
		}
		if attempt == 2 {
			return &StepError{"dial", fmt.Errorf("the number was not taken twice: %s", reason)}
		}
		d.printf("the exchange rejected a pulse train (%s): the machine is loaded and the simulated dial's timers ran late", reason)
		d.printf("you replace the handset, lift it again and dial %s again", Number)
		l.Replace()
		if err := d.waitState(ctx, phone.StateIdle, 5*time.Second); err != nil {
			return &StepError{"dial", err}
		}
		l.Lift()
		if err := d.waitState(ctx, phone.StateDialTone, 5*time.Second); err != nil {
			return &StepError{"dial", err}
		}
	}
}

// waitDialled waits, bounded, until the phone places the call (""), or
// rejects the dialling (the reason).
func (d *run) waitDialled(ctx context.Context, limit time.Duration) (string, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case o := <-d.obs:
			switch {
			case o.st == phone.StateCalling:
				return "", nil
			case o.ev.Kind == phone.DigitError:
				return o.ev.Reason, nil
			}
		case <-t.C:
			return "", fmt.Errorf("the phone did not place the call within %v", limit)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}
