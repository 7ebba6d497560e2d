package demo

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
)

// device is the demo's sound card: the microphone says a steady tone and
// the earpiece is captured so the demo can listen to it. Both directions
// run at real-time pace, as a card would.
type device struct {
	mic    *tone.Generator
	rpace  pacer
	wpace  pacer
	mu     sync.Mutex
	heard  []int16
	notify chan struct{} // signalled on every written frame
}

func newDevice(freq float64) *device {
	g, _ := tone.FromList(strconv.FormatFloat(freq, 'f', -1, 64)) // a plain frequency always parses
	return &device{mic: g, notify: make(chan struct{}, 1)}
}

type pacer struct{ next time.Time }

// wait blocks until the next frame is due: one frame time after the last.
func (p *pacer) wait(ctx context.Context) error {
	now := time.Now()
	if p.next.IsZero() || now.Sub(p.next) > 100*time.Millisecond {
		p.next = now // start, or fell far behind: do not burst
	}
	p.next = p.next.Add(audio.FrameTime)
	t := time.NewTimer(time.Until(p.next))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *device) Read(ctx context.Context, frame []int16) error {
	if err := d.rpace.wait(ctx); err != nil {
		return err
	}
	d.mic.Read(frame) // one reader: the pump's uplink
	return nil
}

func (d *device) Write(ctx context.Context, frame []int16) error {
	if err := d.wpace.wait(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	d.heard = append(d.heard, frame...)
	d.mu.Unlock()
	select {
	case d.notify <- struct{}{}:
	default:
	}
	return nil
}

func (d *device) Latency() time.Duration { return 0 }
func (d *device) Close() error           { return nil }

// next returns the next dur of what the earpiece hears, from now on.
func (d *device) next(ctx context.Context, dur time.Duration) ([]int16, error) {
	d.mu.Lock()
	from := len(d.heard)
	d.mu.Unlock()
	want := int(dur.Seconds() * audio.SampleRate)
	limit := time.NewTimer(dur + 5*time.Second)
	defer limit.Stop()
	for {
		d.mu.Lock()
		if len(d.heard)-from >= want {
			pcm := append([]int16(nil), d.heard[from:from+want]...)
			d.mu.Unlock()
			return pcm, nil
		}
		d.mu.Unlock()
		select {
		case <-d.notify:
		case <-limit.C:
			return nil, fmt.Errorf("the earpiece got less than %v of audio", dur)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
