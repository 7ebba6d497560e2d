package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

// howlerTonelist stands in for phone.HowlerTonelist, whose four added
// tones internal/tone's generator (two components, as Asterisk's) cannot
// play: the outer two of the four keep it unmistakable.
const howlerTonelist = "1400+2600/100,0/100"

// Pump moves audio between the sound card and the call, and plays the
// phone's local tones when no call audio flows. It is the phone's
// TonePlayer. The card paces both directions (Read and Write block a
// frame time each), so the pump never needs a timer of its own.
type Pump struct {
	dev  audio.Device
	zone tone.Zone
	log  *slog.Logger

	mu   sync.Mutex
	gen  *tone.Generator // the local tone, nil for none
	call sipua.Audio     // the call's audio, nil when none flows
}

// NewPump plays zone's tones on dev.
func NewPump(dev audio.Device, zone tone.Zone, log *slog.Logger) *Pump {
	if log == nil {
		log = slog.Default()
	}
	return &Pump{dev: dev, zone: zone, log: log}
}

// PlayTone implements phone.TonePlayer: t replaces any tone, from its
// start.
func (p *Pump) PlayTone(t phone.Tone) error {
	list, ok := t.Tonelist(p.zone)
	if !ok && t == phone.ToneHowler {
		list, ok = howlerTonelist, true
	}
	if !ok {
		return fmt.Errorf("tone %s: not in zone %s", t, p.zone.Name)
	}
	g, err := tone.FromList(list)
	if err != nil && t == phone.ToneHowler {
		g, err = tone.FromList(howlerTonelist)
	}
	if err != nil {
		return fmt.Errorf("tone %s (%q): %w", t, list, err)
	}
	p.mu.Lock()
	p.gen = g
	p.mu.Unlock()
	return nil
}

// StopTone implements phone.TonePlayer.
func (p *Pump) StopTone() error {
	p.mu.Lock()
	p.gen = nil
	p.mu.Unlock()
	return nil
}

// Connect attaches a call's audio: from now on the earpiece hears it and
// the microphone feeds it.
func (p *Pump) Connect(a sipua.Audio) {
	p.mu.Lock()
	p.call = a
	p.mu.Unlock()
}

// Disconnect detaches a, if it is still the attached one.
func (p *Pump) Disconnect(a sipua.Audio) {
	p.mu.Lock()
	if p.call == a {
		p.call = nil
	}
	p.mu.Unlock()
}

// Run pumps until ctx ends or the device fails.
func (p *Pump) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- p.uplink(ctx) }()
	go func() { errs <- p.downlink(ctx) }()
	err := <-errs
	cancel()
	err2 := <-errs
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || err == nil) {
		err = err2
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// uplink: microphone to the call, or nowhere.
func (p *Pump) uplink(ctx context.Context) error {
	frame := make([]int16, audio.FrameSamples)
	for {
		if err := p.dev.Read(ctx, frame); err != nil {
			return fmt.Errorf("audio read: %w", err)
		}
		p.mu.Lock()
		call := p.call
		p.mu.Unlock()
		if call != nil {
			// An error means the call is over; its watcher detaches it.
			_ = call.Write(ctx, frame)
		}
	}
}

// downlink: the call, else the local tone, else silence, to the earpiece.
func (p *Pump) downlink(ctx context.Context) error {
	frame := make([]int16, audio.FrameSamples)
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.mu.Lock()
		call, gen := p.call, p.gen
		if call == nil {
			if gen != nil {
				gen.Read(frame) // under the lock: a Generator is not concurrent-safe
			} else {
				clear(frame)
			}
		}
		p.mu.Unlock()
		if call != nil {
			if err := call.Read(ctx, frame); err != nil {
				// The call ended under us: drop it now rather than
				// spin on errors until its watcher does.
				p.Disconnect(call)
				continue
			}
		}
		if err := p.dev.Write(ctx, frame); err != nil {
			return fmt.Errorf("audio write: %w", err)
		}
	}
}
